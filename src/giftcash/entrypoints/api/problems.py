"""Errors to RFC 9457 problem+json, in exactly one place."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from giftcash.domain.errors import DomainError

PROBLEM = "application/problem+json"

STATUS_BY_KIND = {
    "invalid": 422,
    "not_found": 404,
    "conflict": 409,
    "forbidden": 403,
    "unauthorized": 401,
    "rate_limited": 429,
    "unavailable": 503,
    "too_large": 413,
    "unsupported": 415,
}

TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    503: "Service unavailable",
}

# Context keys that are safe to show (never codes, PINs or secrets).
_SAFE_CONTEXT = {
    "field",
    "reason",
    "first",
    "second",
    "brand_id",
    "face_value",
    "current",
    "target",
    "image",
    "limit",
    "retry_after_s",
    "masked_phone",
}


def documented(**by_status: str) -> dict[int | str, dict[str, Any]]:
    """Documented problem answers for a route's ``responses=``: status (``s404=...``) →
    which codes (``openapi.py`` adds 422 and ``default``)."""
    ref = {"$ref": "#/components/schemas/Problem"}
    return {
        int(status[1:]): {"description": codes, "content": {PROBLEM: {"schema": ref}}}
        for status, codes in by_status.items()
    }


def problem_body(status: int, code: str, detail: str, **extra: Any) -> dict[str, Any]:
    body = {
        "type": f"https://giftcash.example/problems/{code}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "code": code,
        "detail": detail,
    }
    body.update(extra)
    return body


def problem(status: int, code: str, detail: str, **extra: Any) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(
        problem_body(status, code, detail, **extra),
        status_code=status,
        media_type=PROBLEM,
        headers=headers,
    )


def domain_problem(error: DomainError) -> tuple[int, dict[str, Any]]:
    status = STATUS_BY_KIND.get(error.kind, 422)
    extra = {k: v for k, v in error.context.items() if k in _SAFE_CONTEXT}
    return status, problem_body(status, error.code, error.message, **extra)


def problem_headers(status: int, body: dict[str, Any]) -> dict[str, str]:
    """401 names the scheme; a 429 with a known wait says it (``Retry-After``)."""
    if status == 401:
        return {"WWW-Authenticate": "Bearer"}
    if status == 429 and isinstance(body.get("retry_after_s"), int):
        return {"Retry-After": str(body["retry_after_s"])}
    return {}


def _validation_code(errors: list[dict[str, Any]]) -> str:
    for e in errors:
        loc = tuple(e.get("loc", ()))
        if loc[:2] == ("body", "items") and e.get("type") == "too_long":
            return "too_many_items"
        if e.get("type") == "json_invalid":
            return "malformed_json"
        if e.get("type") == "extra_forbidden":
            return "unknown_field"
    return "validation_error"


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        status, body = domain_problem(exc)
        headers = problem_headers(status, body) or None
        return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        code = _validation_code(errors)
        return problem(422, code, "the request does not match the schema", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {
            404: "not_found",
            405: "method_not_allowed",
            413: "request_too_large",
            422: "invalid_input",
        }.get(exc.status_code, "http_error")
        response = problem(exc.status_code, code, str(exc.detail))
        if exc.status_code == 405 and exc.headers and "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]  # RFC 9110 §15.5.6: required
        return response

"""The OpenAPI document says what the API really answers.

FastAPI documents only each route's success and a 422 with its own ``HTTPValidationError``
(``application/json``). Every error of this API is an RFC 9457 problem
(``application/problem+json``, see ``problems.py``) with a stable ``code``, and any route
can answer one (401 without a token, 404, 409, 413, 429, 503...). So every operation's
422 and a ``default`` response are documented as a ``Problem``: a client generated from
the document, or schemathesis checking the API against it, then sees the same contract
the code keeps."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from giftcash.entrypoints.api.problems import PROBLEM

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem; ``code`` is stable, ``detail`` is for people.",
    "type": "object",
    "required": ["type", "title", "status", "code", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "code": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["loc", "msg", "type"],
                "properties": {
                    "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
    "additionalProperties": True,
}

_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM: {"schema": _PROBLEM_REF}}}


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Rewrite a generated document in place (and return it)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if "422" in responses or any(p.get("in") != "header" for p in _params(operation)):
                responses["422"] = _problem("The request does not match the schema or the rules")
            responses["default"] = _problem("An error, as an RFC 9457 problem")
            if path == "/readyz":
                responses["503"] = {
                    "description": "Not ready: which check failed",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Health"}}
                    },
                }
    return schema


def _params(operation: dict[str, Any]) -> list[dict[str, Any]]:
    return list(operation.get("parameters", [])) + (
        [{"in": "body"}] if "requestBody" in operation else []
    )


def install(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_problems(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

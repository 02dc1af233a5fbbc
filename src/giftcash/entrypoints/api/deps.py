"""FastAPI dependencies: the service ``Deps`` and the authenticated customer."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from giftcash.identity import customers
from giftcash.service.deps import Deps
from giftcash.service.errors import Unauthorized


def get_deps(request: Request) -> Deps:
    return request.app.state.deps


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthorized("an access token is needed (Authorization: Bearer …)")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("use Authorization: Bearer <access_token>")
    return token.strip()


def current_customer(
    deps: Annotated[Deps, Depends(get_deps)],
    authorization: Annotated[str | None, Header()] = None,
) -> str:
    return customers.authenticate(deps, bearer_token(authorization))


DepsDep = Annotated[Deps, Depends(get_deps)]
CustomerDep = Annotated[str, Depends(current_customer)]
IdemKey = Annotated[str | None, Header(alias="Idempotency-Key")]

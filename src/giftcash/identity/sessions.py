"""Access tokens: issued at sign-in; on signing out one stops working at once
(customers' and operators' tokens alike; both are stored only as hashes in
``access_tokens``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from giftcash.identity.secrets import new_token, token_hash
from giftcash.service.deps import Deps
from giftcash.service.ports.uow import UnitOfWork


def add_token(uow: UnitOfWork, deps: Deps, customer_id: str, now: datetime) -> str:
    """A new access token for the customer, stored only as its hash, in ``uow``."""
    token = new_token()
    expires_at = now + timedelta(seconds=deps.limits.token_ttl_s)
    uow.tokens.add(token_hash(token), "customer", customer_id, expires_at, now)
    return token


def revoke_token(deps: Deps, token: str) -> bool:
    """Forget ``token``; False when it was unknown (already revoked, expired and swept, or
    never issued). Nothing is said about whose it was."""
    if not token:
        return False
    with deps.uow() as uow:
        gone = uow.tokens.delete(token_hash(token))
        uow.commit()
    return gone

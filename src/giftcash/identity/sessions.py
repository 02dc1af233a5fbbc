"""Signing out: an access token stops working at once (customers' and operators' tokens
alike; both are stored only as hashes in ``access_tokens``)."""

from __future__ import annotations

from giftcash.identity.secrets import token_hash
from giftcash.service.deps import Deps


def revoke_token(deps: Deps, token: str) -> bool:
    """Forget ``token``; False when it was unknown (already revoked, expired and swept, or
    never issued). Nothing is said about whose it was."""
    if not token:
        return False
    with deps.uow() as uow:
        gone = uow.tokens.delete(token_hash(token))
        uow.commit()
    return gone

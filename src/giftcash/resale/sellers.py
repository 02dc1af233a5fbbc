"""A seller of resold vouchers held: when a voucher they sold us turns out spent before its
buyer had it (found by the pre-delivery check, or by a buyer's claim), they are blocked (no
sign-in, no sale, their sessions ended) until an operator lifts it, audited. Their payouts
still run, so what they owe (their receivable) is netted from them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from giftcash.audit import log as audit
from giftcash.service.deps import Deps
from giftcash.service.ports.uow import UnitOfWork


def hold_seller(
    uow: UnitOfWork,
    deps: Deps,
    seller_id: str,
    *,
    reason: str,
    actor: str,
    now: datetime,
    detail: dict[str, Any],
) -> bool:
    """Block the seller unless already blocked; True when this call did."""
    if uow.blocks.get("customer", seller_id) is not None:
        return False
    uow.blocks.add("customer", seller_id, reason, actor, now)
    ended = uow.blocks.revoke_customer_tokens(seller_id)
    audit.record(
        uow,
        actor,
        "customer.block",
        f"customer:{seller_id}",
        {"reason": reason, **detail, "sessions_ended": ended},
        at=now,
        id=deps.new_id(),
    )
    return True

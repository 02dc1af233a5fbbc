"""An operator's change, audited with its outcome: the change and its audit record commit
together; a refused change is rolled back and its refusal recorded and committed on its
own, so the log shows attempts as well as changes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from giftcash.audit import log as audit
from giftcash.domain.errors import DomainError
from giftcash.identity.operators import Operator
from giftcash.service.deps import Deps

T = TypeVar("T")


def audited(
    deps: Deps,
    op: Operator,
    action: str,
    subject: str,
    detail: dict[str, Any],
    change: Callable[[Any], tuple[T, dict[str, Any]]],
) -> T:
    """Run ``change(uow)`` and audit it with its outcome. ``change`` answers its result and
    what to add to the record. On a refusal the change is rolled back, the refusal is
    recorded and committed, and the error goes on to the caller."""
    now = deps.clock.now()
    with deps.uow() as uow:
        try:
            result, more = change(uow)
        except DomainError as e:
            uow.rollback()
            refused = {**detail, "outcome": "refused", "code": e.code, "message": e.message}
            audit.record(uow, op.actor, action, subject, refused, at=now, id=deps.new_id())
            uow.commit()
            raise
        done = {**detail, **more, "outcome": "done"}
        audit.record(uow, op.actor, action, subject, done, at=now, id=deps.new_id())
        uow.commit()
    return result

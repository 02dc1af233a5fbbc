"""The log of console views of personal data: who (the operator and their role), what
(the page, its subject, the customers it showed and which of their fields), when. It
carries ids only, never the data shown. A view is logged in its own transaction before
the page is answered: a page whose log entry cannot be written is not shown.

Kept ``access_log_keep_days`` (at least two years; privacy/purge.py deletes nothing
younger). Operators with the ``admin`` role read it in the console.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from giftcash.identity.operators import Operator
from giftcash.service.deps import Deps
from giftcash.service.ports.privacy import AccessEntry

MAX_CUSTOMERS_PER_VIEW = 500  # a page shows at most a few hundred; a bound all the same
MAX_FIELDS_CHARS = 200


@dataclass(frozen=True, slots=True)
class View:
    page: str  # customer | customers | case | case_export | payouts | payout | review
    fields: tuple[str, ...]  # name, phone, birth_date, bank_account, device, notes, ...
    subject: str | None = None  # the page's own subject (case:<id>, payout:<id>)


def record(deps: Deps, op: Operator, view: View, customer_ids: Iterable[str]) -> str:
    """Log one view (one row per customer shown; one row with no customer when none
    was); answers the view's id."""
    now = deps.clock.now()
    view_id = deps.new_id()
    shown = [*dict.fromkeys(customer_ids)][:MAX_CUSTOMERS_PER_VIEW]
    fields = ",".join(view.fields)[:MAX_FIELDS_CHARS]
    entries = [
        AccessEntry(
            id=deps.new_id(),
            view_id=view_id,
            at=now,
            operator_id=op.id,
            role=op.role,
            page=view.page[:32],
            subject=view.subject,
            customer_id=cid,
            fields=fields,
        )
        for cid in ([c[:64] for c in shown] if shown else [None])
    ]
    with deps.uow() as uow:
        uow.access_log.add(entries)
        uow.commit()
    return view_id


def entries(
    deps: Deps,
    *,
    customer_id: str | None = None,
    operator_id: str | None = None,
    before: tuple[datetime, str] | None = None,
    limit: int = 50,
) -> list[AccessEntry]:
    with deps.reader() as uow:
        return uow.access_log.page(
            customer_id=customer_id, operator_id=operator_id, before=before, limit=limit
        )

"""Dispute evidence (issue 14, item 6): the issuer's answers about each item — its balance
inquiry and its redemption, when asked and answered, the outcome, and the issuer's own
facts (when and where a used voucher was spent, the issuer's reference) — kept as
typed rows, written in the transaction of the state change they caused, so "already
used" is answered with what the issuer said and when.

Shown to the customer on the sale's page and to operators on the item's; exported per
item or per sale (JSON or CSV) with codes masked, for a dispute."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from giftcash.service import errors
from giftcash.service.csv_export import csv_text
from giftcash.service.deps import Deps
from giftcash.service.ports import Redemption, VoucherInfo
from giftcash.service.ports.records import IssuerEvidence
from giftcash.service.ports.uow import UnitOfWork

INQUIRY = "inquiry"
REDEMPTION = "redemption"


def of_inquiry(
    new_id: Callable[[], str],
    item_id: str,
    issuer: str,
    asked_at: datetime,
    answered_at: datetime,
    info: VoucherInfo,
) -> IssuerEvidence:
    return IssuerEvidence(
        id=new_id(),
        item_id=item_id,
        kind=INQUIRY,
        issuer=issuer,
        asked_at=asked_at,
        answered_at=answered_at,
        outcome=info.status[:32],
        used_at=info.used_at,
        used_where=_short(info.used_where),
        issuer_ref=_short(info.reference),
        amount=info.balance,
    )


def of_redemption(
    new_id: Callable[[], str],
    item_id: str,
    issuer: str,
    asked_at: datetime,
    answered_at: datetime,
    r: Redemption,
) -> IssuerEvidence:
    return IssuerEvidence(
        id=new_id(),
        item_id=item_id,
        kind=REDEMPTION,
        issuer=issuer,
        asked_at=asked_at,
        answered_at=answered_at,
        outcome=r.outcome[:32],
        used_at=r.used_at,
        used_where=_short(r.used_where),
        issuer_ref=_short(r.redemption_id),
        amount=r.amount,
    )


def _short(text: str | None) -> str | None:
    """What an issuer wrote, as much as the row keeps (64 characters)."""
    return text[:64] if text else None


def keep(uow: UnitOfWork, rows: Iterable[IssuerEvidence], moved: set[str], now: datetime) -> None:
    """Store the answers about the items that moved in this unit of work (an item whose
    lease was lost moved nothing: its worker's answer is not the one that counted)."""
    uow.evidence.add_many([e for e in rows if e.item_id in moved], now)


def for_sale(deps: Deps, customer_id: str, submission_id: str) -> dict[str, list[IssuerEvidence]]:
    """The customer's own sale's items -> the issuer's answers, oldest first."""
    with deps.reader() as uow:
        sub = uow.submissions.get(submission_id)
        if sub is None or sub.customer_id != customer_id:
            raise errors.SubmissionNotFound("no such submission")
        ids = [i.id for i in uow.items.for_submission(submission_id)]
        return uow.evidence.for_items(ids)


def for_item(deps: Deps, item_id: str) -> list[IssuerEvidence]:
    return for_items(deps, [item_id])[item_id]


def for_items(deps: Deps, item_ids: Sequence[str]) -> dict[str, list[IssuerEvidence]]:
    """Items -> the issuer's answers, oldest first (an operator's view: a case's items)."""
    with deps.reader() as uow:
        return uow.evidence.for_items(list(dict.fromkeys(item_ids)))


# -- the export for a dispute ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EvidenceLine:
    """One answer as exported: the item as the exchange knows it (code masked) and what
    the issuer said about it."""

    item_id: str
    submission_id: str
    brand_id: str
    masked_code: str
    face_value: int
    currency: str
    item_status: str
    kind: str
    issuer: str
    asked_at: str
    answered_at: str
    outcome: str
    used_at: str | None
    used_where: str | None
    issuer_ref: str | None
    amount: int | None


COLUMNS = tuple(EvidenceLine.__dataclass_fields__)


def export(
    deps: Deps, *, item_id: str | None = None, submission_id: str | None = None
) -> list[EvidenceLine]:
    """Every answer about one item, or about every item of one sale (an operator's)."""
    assert (item_id is None) != (submission_id is None), "one item or one sale"
    with deps.reader() as uow:
        if item_id is not None:
            item = uow.items.get(item_id)
            if item is None:
                raise errors.NotFound("no such item")
            items = [item]
        else:
            assert submission_id is not None
            if uow.submissions.get(submission_id) is None:
                raise errors.SubmissionNotFound("no such submission")
            items = uow.items.for_submission(submission_id)
        answers = uow.evidence.for_items([i.id for i in items])
    return [
        EvidenceLine(
            item_id=i.id,
            submission_id=i.submission_id,
            brand_id=i.brand_id,
            masked_code=i.masked_code,
            face_value=i.face_value,
            currency=i.currency,
            item_status=i.status,
            kind=e.kind,
            issuer=e.issuer,
            asked_at=e.asked_at.isoformat(),
            answered_at=e.answered_at.isoformat(),
            outcome=e.outcome,
            used_at=e.used_at.isoformat() if e.used_at else None,
            used_where=e.used_where,
            issuer_ref=e.issuer_ref,
            amount=e.amount,
        )
        for i in items
        for e in answers[i.id]
    ]


def as_json(lines: Sequence[EvidenceLine]) -> str:
    return json.dumps({"evidence": [asdict(x) for x in lines]}, ensure_ascii=False, indent=2)


def as_csv(lines: Sequence[EvidenceLine]) -> str:
    """What an issuer wrote is never run as a formula (service/csv_export.py)."""
    return csv_text(COLUMNS, ([getattr(x, c) for c in COLUMNS] for x in lines), lineterminator="\n")

"""The tracing export of a payment stop: for every item the stop covers, the chain from
the voucher (its code masked) to the item, its sale (submission), the customer (family
name only), the payout and the bank account it paid to (masked), with amounts and times,
in CSV or JSON. It leaves the company, so it is audited (``payment_stop.export``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from giftcash.audit.changes import audited
from giftcash.domain.aml import mask_name
from giftcash.identity.operators import Operator
from giftcash.service import errors
from giftcash.service.csv_export import csv_text
from giftcash.service.deps import Deps
from giftcash.service.ports.records import TraceRow
from giftcash.service.ports.uow import UnitOfWork
from giftcash.stops.filing import visible

FORMATS = ("csv", "json")
MAX_ROWS = 10_000

COLUMNS = (
    "stop_id",
    "finding",
    "masked_code",
    "brand_id",
    "issuer",
    "currency",
    "face_value",
    "payout_won",
    "item_id",
    "item_status",
    "item_created_at",
    "redeemed_at",
    "submission_id",
    "submission_created_at",
    "customer_id",
    "customer_name",
    "payout_id",
    "payout_status",
    "payout_amount",
    "bank_tran_id",
    "payout_sent_at",
    "payout_confirmed_at",
    "bank_code",
    "account_masked",
    "account_holder",
)


@dataclass(frozen=True, slots=True)
class TraceReport:
    filename: str
    media_type: str
    content: str
    count: int


def _value(v: Any) -> Any:
    return v.isoformat() if isinstance(v, datetime) else v


def record(r: TraceRow) -> dict[str, Any]:
    """One row as it leaves: names cut to the family name (the account holder too)."""
    out = {k: _value(getattr(r, k)) for k in COLUMNS}
    out["customer_name"] = mask_name(r.customer_name)
    out["account_holder"] = mask_name(r.account_holder)
    return out


def render_csv(rows: Sequence[dict[str, Any]]) -> str:
    return csv_text(COLUMNS, ([r[k] for k in COLUMNS] for r in rows))


def render_json(rows: Sequence[dict[str, Any]], meta: dict[str, Any]) -> str:
    return json.dumps({**meta, "chain": list(rows)}, ensure_ascii=False, indent=2) + "\n"


def export(deps: Deps, op: Operator, stop_id: str, *, fmt: str) -> TraceReport:
    now = deps.clock.now()

    def change(uow: UnitOfWork) -> tuple[TraceReport, dict[str, Any]]:
        if fmt not in FORMATS:
            raise errors.InvalidInput("format is csv or json", field="format")
        stop = visible(op, uow.stops.get(stop_id[:64]))
        rows = [record(r) for r in uow.stops.trace(stop.id, MAX_ROWS)]
        stamp = now.strftime("%Y%m%dT%H%M%SZ")
        if fmt == "csv":
            content, media = render_csv(rows), "text/csv; charset=utf-8"
        else:
            meta = {
                "stop": {
                    "id": stop.id,
                    "scope": stop.scope,
                    "subject": stop.subject_masked,
                    "bank_code": stop.bank_code,
                    "requester": stop.requester,
                    "requester_name": stop.requester_name,
                    "reference": stop.reference,
                    "state": stop.state,
                    "created_at": stop.created_at.isoformat(),
                    "closed_at": stop.closed_at.isoformat() if stop.closed_at else None,
                },
                "generated_at": now.isoformat(),
                "generated_by": op.actor,
                "count": len(rows),
            }
            content, media = render_json(rows, meta), "application/json"
        name = f"giftcash-stop-{stop.id[:36]}-{stamp}.{fmt}"
        return TraceReport(name, media, content, len(rows)), {"count": len(rows)}

    detail = {"format": fmt[:16]}
    subject = f"payment_stop:{stop_id[:64]}"
    return audited(deps, op, "payment_stop.export", subject, detail, change)

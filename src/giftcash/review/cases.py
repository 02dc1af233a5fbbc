"""Suspicious-activity cases: the scan that turns the detectors' signals into cases, the
operators' reads and status changes, and the report for the bank's compliance team.

- ``scan`` runs every detector (``domain/aml.py``) over the facts since ``since`` and
  records each signal in one transaction under the scan lock: evidence already kept for
  that (kind, subject) is skipped, new evidence goes to the active case or opens one.
  The worker calls it now and then; ``giftcash cases scan`` calls it by hand.
- A status change (open → under_review → reported | dismissed) needs a note and is
  audited; so is every export (a report leaves the company: the log says who took it).
- The report names customers by family name only ("홍*") and codes by their masked form.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from giftcash.audit import log as audit
from giftcash.audit.changes import audited
from giftcash.catalogue.live import rules_in
from giftcash.domain import aml
from giftcash.domain.aml import AmlParams, CaseKind, CaseSignal, CaseStatus
from giftcash.domain.errors import DomainError
from giftcash.identity.operators import Operator
from giftcash.service import errors
from giftcash.service.csv_export import csv_text
from giftcash.service.deps import Deps
from giftcash.service.ports.records import RowView
from giftcash.service.ports.uow import UnitOfWork

MAX_NOTE = 2000
MAX_EVIDENCE_SHOWN = 500  # per case, in the detail view
MAX_EVIDENCE_REPORTED = 100  # per case, in the JSON report
MAX_EXPORT = 10_000  # cases in one report
EXPORT_FORMATS = ("csv", "json")
SCAN_ACTOR = "system"


class CaseNotFound(errors.NotFound):
    code = "case_not_found"


class CaseChanged(DomainError):
    code = "case_changed"
    kind = "conflict"


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    kind: str
    status: str
    subject: str
    customer_ids: list[str]
    currency: str
    total_amount: int
    evidence_count: int
    summary: str
    period_start: datetime | None
    period_end: datetime | None
    opened_at: datetime
    updated_at: datetime
    notes: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class CaseDetail:
    case: Case
    customers: list[dict[str, str]]  # id, name (operators see the full name)
    evidence: list[RowView]  # key, at, amount, item_id, customer_id, masked, note


@dataclass(frozen=True, slots=True)
class ScanResult:
    since: datetime
    at: datetime
    signals: int
    opened: list[str]
    updated: list[str]
    evidence_added: int


@dataclass(frozen=True, slots=True)
class CaseReport:
    filename: str
    media_type: str
    content: str
    count: int


def _case(row: RowView) -> Case:
    return Case(**{k: row[k] for k in Case.__dataclass_fields__})


# -- the scan -------------------------------------------------------------------------------


def params_for(uow: UnitOfWork, deps: Deps) -> AmlParams:
    """The defaults, in the jurisdiction's currency and time zone, watching the live rule
    set's review and hold thresholds as well as the default ones."""
    p = rules_in(uow, deps.brand_catalogue, deps.jurisdiction, configured=deps.rule_params).params
    base = AmlParams()
    thresholds = {
        *base.structuring_thresholds,
        p.first_sale_hold_above_value,
        p.scam_review_above_value,
    }
    return replace(base, currency=p.currency, tz=p.tz, structuring_thresholds=tuple(thresholds))


def gather(uow: UnitOfWork, p: AmlParams, since: datetime) -> aml.Facts:
    """The facts each detector needs, narrowed by SQL to what could match."""
    f = uow.case_facts
    cur = p.currency
    links, account_sales = f.shared_accounts(since, cur, p.shared_account_min_customers)
    bands = [p.band(t) for t in p.structuring_thresholds]
    # a day's spike needs a baseline from before the period
    history_from = since - timedelta(days=p.spike_baseline_days + 1)
    sales = {
        s.item_id: s
        for s in (
            *f.shared_codes(since, cur, p.ring_min_customers),
            *account_sales,
            *f.near_thresholds(since, cur, bands),
            *f.big_sellers(since, history_from, cur, p.spike_min_value),
            *f.contradictions(since, cur),
        )
    }
    # whole submissions, so a sale's value is never a part of one
    for s in f.whole_submissions(sorted({s.submission_id for s in sales.values()}), cur):
        sales.setdefault(s.item_id, s)
    return aml.Facts(
        sales=tuple(sorted(sales.values(), key=lambda s: (s.at, s.item_id))),
        links=tuple(links),
        attempts=tuple(f.invalid_attempts(since, p.pin_min_invalid)),
    )


def _record(
    uow: UnitOfWork, deps: Deps, signal: CaseSignal, now: datetime
) -> tuple[str, bool, int]:
    """Add a signal's new evidence to its active case, or open one. Answers the case id
    ("" when nothing was new), whether it was opened, and how much evidence was added."""
    kind, subject = signal.kind.value, signal.subject
    known = uow.cases.known_keys(kind, subject, [e.key for e in signal.evidence])
    new = [e for e in signal.evidence if e.key not in known]
    if not new:
        return "", False, 0
    key = aml.active_key(kind, subject)
    case = uow.cases.active(key)
    if case is None:
        case_id = deps.new_id()
        uow.cases.open(
            id=case_id,
            kind=kind,
            subject=subject,
            active_key=key,
            currency=signal.currency,
            summary=signal.summary,
            now=now,
        )
    else:
        case_id = case["id"]
        uow.cases.set_summary(case_id, signal.summary)
    uow.cases.add_evidence(case_id, kind, subject, new, now)
    return case_id, case is None, len(new)


def record_signal(
    uow: UnitOfWork, deps: Deps, signal: CaseSignal, actor: str, now: datetime
) -> str:
    """One signal found outside the scan (a resold voucher found spent before delivery):
    its evidence to the active case or a new one, audited when opened, in the caller's
    unit of work (take it last: the audit record locks the chain head)."""
    case_id, opened, _ = _record(uow, deps, signal, now)
    if opened:
        audit.record(
            uow,
            actor,
            "case.open",
            f"case:{case_id}",
            {"kind": signal.kind.value, "subject": signal.subject, "amount": signal.amount},
            at=now,
            id=deps.new_id(),
        )
    return case_id


def scan(
    deps: Deps,
    since: datetime | None = None,
    *,
    params: AmlParams | None = None,
    actor: str = SCAN_ACTOR,
) -> ScanResult:
    """Run every detector over the facts since ``since`` (default: ``lookback_days``
    back) and record what they find. Safe to run again and from many workers at once:
    the scan lock serialises them and evidence is kept once."""
    now = deps.clock.now()
    opened: list[str] = []
    updated: list[str] = []
    added = 0
    with deps.uow() as uow:
        uow.cases.lock_scan(now)
        p = params or params_for(uow, deps)
        start = since or now - timedelta(days=p.lookback_days)
        signals = aml.detect(gather(uow, p, start), p, since=start)
        new_cases: list[tuple[CaseSignal, str]] = []
        for signal in signals:
            case_id, is_new, n = _record(uow, deps, signal, now)
            if case_id:
                (opened if is_new else updated).append(case_id)
                added += n
            if is_new:
                new_cases.append((signal, case_id))
        for signal, case_id in new_cases:  # last: the audit record locks the chain head
            audit.record(
                uow,
                actor,
                "case.open",
                f"case:{case_id}",
                {"kind": signal.kind.value, "subject": signal.subject, "amount": signal.amount},
                at=now,
                id=deps.new_id(),
            )
        uow.commit()
    return ScanResult(start, now, len(signals), opened, sorted(set(updated) - set(opened)), added)


# -- the operators --------------------------------------------------------------------------


def _statuses(status: str | None) -> list[str] | None:
    if status is None or status == "":
        return None
    if status == "active":
        return sorted(aml.ACTIVE_STATUSES)
    try:
        return [aml.case_status(status).value]
    except aml.UnknownCaseStatus:
        raise errors.InvalidInput(
            "status is active or one of " + ", ".join(s.value for s in CaseStatus),
            field="status",
        ) from None


def _kind(kind: str | None) -> str | None:
    if kind is None or kind == "":
        return None
    if kind not in {k.value for k in CaseKind}:
        raise errors.InvalidInput(
            "kind is one of " + ", ".join(k.value for k in CaseKind), field="kind"
        )
    return kind


def list_cases(
    deps: Deps,
    *,
    status: str | None = None,
    kind: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> list[Case]:
    """Newest first. ``status`` may be ``active`` (open or under review)."""
    statuses, kind = _statuses(status), _kind(kind)
    with deps.reader() as uow:
        rows = uow.cases.page(statuses=statuses, kind=kind, cursor=cursor, limit=limit)
    return [_case(r) for r in rows]


def get_case(deps: Deps, case_id: str) -> CaseDetail:
    with deps.reader() as uow:
        row = uow.cases.get(case_id)
        if row is None:
            raise CaseNotFound("no such case")
        evidence = uow.cases.evidence(case_id, MAX_EVIDENCE_SHOWN)
        names = uow.cases.customer_names(row["customer_ids"])
    customers = [{"id": cid, "name": names.get(cid, "")} for cid in row["customer_ids"]]
    return CaseDetail(_case(row), customers, evidence)


def _note(note: str) -> str:
    note = " ".join(note.split())
    if not (1 <= len(note) <= MAX_NOTE):
        raise errors.InvalidInput(f"a note of 1 to {MAX_NOTE} characters is needed", field="note")
    return note


def change_status(deps: Deps, op: Operator, case_id: str, status: str, note: str) -> Case:
    """Move a case on with a note (audited, refusals too). A closed case frees its (kind,
    subject): new evidence after this opens a new case."""

    def change(uow: UnitOfWork) -> tuple[Case, dict[str, Any]]:
        text = _note(note)
        row = uow.cases.get(case_id, for_update=True)
        if row is None:
            raise CaseNotFound("no such case")
        target = aml.advance_case(row["status"], status)
        now = deps.clock.now()
        entry = {
            "at": now.isoformat(),
            "by": op.actor,
            "from": row["status"],
            "to": target.value,
            "note": text,
        }
        active = (
            aml.active_key(row["kind"], row["subject"]) if target in aml.ACTIVE_STATUSES else None
        )
        if not uow.cases.set_status(
            case_id,
            from_status=row["status"],
            to_status=target.value,
            active_key=active,
            notes=[*row["notes"], entry],
            now=now,
        ):
            raise CaseChanged("the case changed meanwhile; read it again")
        moved = uow.cases.get(case_id)
        assert moved is not None  # just changed in this transaction
        return _case(moved), {"from": row["status"]}

    detail = {"status": status[:32], "note": note[:500]}
    return audited(deps, op, "case.status", f"case:{case_id[:64]}", detail, change)


# -- the report -----------------------------------------------------------------------------

REPORT_COLUMNS = (
    "case_id",
    "kind",
    "status",
    "subject",
    "customers",
    "customer_ids",
    "total_amount",
    "currency",
    "evidence_count",
    "period_start",
    "period_end",
    "opened_at",
    "updated_at",
    "masked_references",
    "evidence_summary",
)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def report_rows(
    cases: Sequence[Case], names: dict[str, str], evidence: Mapping[str, Sequence[RowView]]
) -> list[dict[str, Any]]:
    """One record per case, for either format. Customers by family name only."""
    out = []
    for c in cases:
        ev = evidence.get(c.id, [])
        masked = sorted({e["masked"] for e in ev if e.get("masked")})
        out.append(
            {
                "case_id": c.id,
                "kind": c.kind,
                "status": c.status,
                "subject": c.subject,
                "customers": [aml.mask_name(names.get(cid, "")) for cid in c.customer_ids],
                "customer_ids": list(c.customer_ids),
                "total_amount": c.total_amount,
                "currency": c.currency,
                "evidence_count": c.evidence_count,
                "period_start": _iso(c.period_start),
                "period_end": _iso(c.period_end),
                "opened_at": _iso(c.opened_at),
                "updated_at": _iso(c.updated_at),
                "masked_references": masked,
                "evidence_summary": aml.evidence_summary(
                    c.kind, c.evidence_count, len(c.customer_ids), c.total_amount, c.currency
                )
                + (f"; {c.summary}" if c.summary else ""),
                "evidence": [
                    {
                        "at": _iso(e["at"]),
                        "amount": e["amount"],
                        "item_id": e["item_id"],
                        "customer_id": e["customer_id"],
                        "masked": e["masked"],
                        "note": e["note"],
                    }
                    for e in ev
                ],
            }
        )
    return out


def render_csv(rows: Sequence[dict[str, Any]]) -> str:
    return csv_text(REPORT_COLUMNS, ([r[k] for k in REPORT_COLUMNS] for r in rows))


def render_json(rows: Sequence[dict[str, Any]], meta: dict[str, Any]) -> str:
    return json.dumps({**meta, "cases": list(rows)}, ensure_ascii=False, indent=2) + "\n"


def export(deps: Deps, op: Operator, *, fmt: str, status: str | None = None) -> CaseReport:
    """The report for the bank's compliance team: one record per case (CSV: a row; JSON:
    with the first evidence records too). Audited as ``case.export``."""
    now = deps.clock.now()

    def change(uow: UnitOfWork) -> tuple[CaseReport, dict[str, Any]]:
        if fmt not in EXPORT_FORMATS:
            raise errors.InvalidInput("format is csv or json", field="format")
        statuses = _statuses(status)
        rows = uow.cases.page(statuses=statuses, kind=None, cursor=None, limit=MAX_EXPORT)
        cases = [_case(r) for r in rows]
        names = uow.cases.customer_names(cid for c in cases for cid in c.customer_ids)
        evidence = uow.cases.evidence_for([c.id for c in cases], MAX_EVIDENCE_REPORTED)
        records = report_rows(cases, names, evidence)
        stamp = now.strftime("%Y%m%dT%H%M%SZ")
        if fmt == "csv":
            content, media = render_csv(records), "text/csv; charset=utf-8"
        else:
            meta = {
                "generated_at": now.isoformat(),
                "generated_by": op.actor,
                "status": status or "all",
                "count": len(records),
            }
            content, media = render_json(records, meta), "application/json"
        report = CaseReport(f"giftcash-cases-{stamp}.{fmt}", media, content, len(records))
        return report, {"count": len(records), "case_ids": [c.id for c in cases][:200]}

    detail = {"format": fmt[:16], "status": (status or "all")[:32]}
    return audited(deps, op, "case.export", "cases", detail, change)

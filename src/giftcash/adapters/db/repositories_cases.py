"""Suspicious-activity cases: the facts the detectors read, and the cases they write.

The fact readers narrow with SQL first (a necessary condition of each pattern: a code or an
account shared by customers, a submission worth near a threshold, a customer's value or
failures over a minimum), then read the rows of what is left, so a scan costs little
when nothing is suspicious. The detectors in ``domain/aml.py`` decide.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, update

from giftcash.adapters.db import tables as t
from giftcash.adapters.db.ids import new_id
from giftcash.domain.aml import (
    CREDIT_CHANNELS,
    LAWFUL_DECLARATIONS,
    NOT_SOLD,
    AccountLink,
    Evidence,
    InvalidAttempt,
    Sale,
)

CHUNK = 500
INVALID_CODE = "invalid_code"  # the failed_attempts kind of a bad voucher code
_NOT_SOLD = sorted(NOT_SOLD)


def _chunks(seq: Sequence[Any], n: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


def _sale(r: Any) -> Sale:
    return Sale(
        item_id=r.id,
        customer_id=r.customer_id,
        submission_id=r.submission_id,
        bank_account_id=r.bank_account_id,
        at=r.created_at,
        face_value=r.face_value,
        masked_code=r.masked_code,
        code_key=r.code_hmac,
        declared_source=r.funding_source,
        issuer_channel=r.purchase_channel,
        status=r.status,
    )


def _sales_query() -> Any:
    c, s = t.items.c, t.submissions.c
    return (
        select(
            c.id,
            c.customer_id,
            c.submission_id,
            s.bank_account_id,
            c.created_at,
            c.face_value,
            c.masked_code,
            c.code_hmac,
            c.funding_source,
            c.purchase_channel,
            c.status,
        )
        .join(t.submissions, s.id == c.submission_id)
        .order_by(c.created_at, c.id)
    )


class CaseFacts:
    """Read side: what the detectors look at, in one currency."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _sales(self, *where: Any) -> list[Sale]:
        return [_sale(r) for r in self.conn.execute(_sales_query().where(*where))]

    def _sales_in(self, column: Any, keys: Sequence[str], *where: Any) -> list[Sale]:
        out: list[Sale] = []
        for chunk in _chunks(sorted(set(keys))):
            out += self._sales(column.in_(chunk), *where)
        return out

    def whole_submissions(self, submission_ids: Sequence[str], currency: str) -> list[Sale]:
        """Every item of these submissions (a sale's value is its submission's)."""
        c = t.items.c
        return self._sales_in(c.submission_id, submission_ids, c.currency == currency)

    def shared_codes(self, since: datetime, currency: str, min_customers: int) -> list[Sale]:
        """Every item (any time, any status) whose code was submitted since ``since`` and
        by at least ``min_customers`` customers in all."""
        c = t.items.c
        recent = select(c.code_hmac).where(c.created_at >= since, c.currency == currency)
        shared = (
            select(c.code_hmac)
            .where(c.code_hmac.in_(recent.scalar_subquery()))
            .group_by(c.code_hmac)
            .having(func.count(func.distinct(c.customer_id)) >= min_customers)
        )
        keys = list(self.conn.scalars(shared))
        return self._sales_in(c.code_hmac, keys, c.currency == currency)

    def shared_accounts(
        self, since: datetime, currency: str, min_customers: int
    ) -> tuple[list[AccountLink], list[Sale]]:
        """The accounts (by keyed hash) added by ``min_customers`` customers or more, one
        of them since ``since``; and the sales paid into them since then."""
        b = t.bank_accounts.c
        recent = select(b.account_number_hmac).where(
            b.created_at >= since, b.account_number_hmac.is_not(None)
        )
        shared = (
            select(b.account_number_hmac)
            .where(b.account_number_hmac.in_(recent.scalar_subquery()))
            .group_by(b.account_number_hmac)
            .having(func.count(func.distinct(b.customer_id)) >= min_customers)
        )
        keys = list(self.conn.scalars(shared))
        links: list[AccountLink] = []
        for chunk in _chunks(keys):
            q = (
                select(t.bank_accounts)
                .where(b.account_number_hmac.in_(chunk))
                .order_by(b.created_at, b.id)
            )
            links += [
                AccountLink(
                    bank_account_id=r.id,
                    customer_id=r.customer_id,
                    account_key=r.account_number_hmac,
                    masked_account=r.account_number_masked,
                    at=r.created_at,
                )
                for r in self.conn.execute(q)
            ]
        c = t.items.c
        sales = self._sales_in(
            t.submissions.c.bank_account_id,
            [link.bank_account_id for link in links],
            c.created_at >= since,
            c.currency == currency,
        )
        return links, sales

    def near_thresholds(
        self, since: datetime, currency: str, bands: Sequence[tuple[int, int]]
    ) -> list[Sale]:
        """The sold items of submissions since ``since`` worth within one of ``bands``."""
        c = t.items.c
        total = func.sum(c.face_value)
        near = (
            select(c.submission_id)
            .where(c.created_at >= since, c.currency == currency, c.status.not_in(_NOT_SOLD))
            .group_by(c.submission_id)
            .having(or_(*(and_(total >= lo, total <= hi) for lo, hi in bands)))
        )
        ids = list(self.conn.scalars(near))
        return self._sales_in(c.submission_id, ids, c.status.not_in(_NOT_SOLD))

    def big_sellers(
        self, since: datetime, history_from: datetime, currency: str, min_value: int
    ) -> list[Sale]:
        """The sold items since ``history_from`` of customers who sold at least
        ``min_value`` since ``since`` (a day's spike needs at least that)."""
        c = t.items.c
        who = (
            select(c.customer_id)
            .where(c.created_at >= since, c.currency == currency, c.status.not_in(_NOT_SOLD))
            .group_by(c.customer_id)
            .having(func.sum(c.face_value) >= min_value)
        )
        ids = list(self.conn.scalars(who))
        return self._sales_in(
            c.customer_id,
            ids,
            c.created_at >= history_from,
            c.currency == currency,
            c.status.not_in(_NOT_SOLD),
        )

    def invalid_attempts(self, since: datetime, min_count: int) -> list[InvalidAttempt]:
        """Invalid-code attempts since ``since`` of every customer and every device with at
        least ``min_count`` of them."""
        f = t.failed_attempts.c
        base = and_(f.kind == INVALID_CODE, f.at >= since)
        rows: dict[str, Any] = {}
        for column in (f.customer_id, f.device_key):
            who = list(
                self.conn.scalars(
                    select(column)
                    .where(base, column.is_not(None))
                    .group_by(column)
                    .having(func.count() >= min_count)
                )
            )
            for chunk in _chunks(who):
                for r in self.conn.execute(
                    select(t.failed_attempts).where(base, column.in_(chunk))
                ):
                    rows[r.id] = r
        return [
            InvalidAttempt(id=r.id, at=r.at, customer_id=r.customer_id, device_key=r.device_key)
            for r in sorted(rows.values(), key=lambda r: (r.at, r.id))
        ]

    def contradictions(self, since: datetime, currency: str) -> list[Sale]:
        """Every contradicted declaration (any time) of the customers who had one since
        ``since``: declared a lawful source, the issuer reports credit."""
        c = t.items.c
        contradicted = and_(
            c.funding_source.in_(sorted(LAWFUL_DECLARATIONS)),
            c.purchase_channel.in_(sorted(CREDIT_CHANNELS)),
            c.currency == currency,
        )
        who = list(
            self.conn.scalars(
                select(c.customer_id).where(contradicted, c.created_at >= since).distinct()
            )
        )
        return self._sales_in(c.customer_id, who, contradicted)


def _case(r: Any) -> dict[str, Any]:
    d = dict(r._mapping)
    d.pop("active_key", None)
    return d


class Cases:
    """Write side and the operators' reads."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"

    # -- the scan --------------------------------------------------------------------------
    def lock_scan(self, now: datetime) -> None:
        """Take the scan lock for this transaction and stamp the scan."""
        s = t.aml_scan_state.c
        q = select(s.id).where(s.id == 1)
        if self.pg:  # SQLite: BEGIN IMMEDIATE already serialises writers
            q = q.with_for_update()
        assert self.conn.execute(q).scalar() == 1, "aml_scan_state has no row: run migrations"
        self.conn.execute(
            update(t.aml_scan_state).where(s.id == 1).values(scanned_at=now, scans=s.scans + 1)
        )

    def last_scan(self) -> tuple[datetime | None, int]:
        s = t.aml_scan_state.c
        row = self.conn.execute(select(s.scanned_at, s.scans).where(s.id == 1)).one()
        return row.scanned_at, row.scans

    def active(self, active_key: str) -> dict[str, Any] | None:
        q = select(t.aml_cases).where(t.aml_cases.c.active_key == active_key)
        if self.pg:
            q = q.with_for_update()
        r = self.conn.execute(q).one_or_none()
        return None if r is None else _case(r)

    def known_keys(self, kind: str, subject: str, keys: Sequence[str]) -> set[str]:
        e = t.aml_case_evidence.c
        out: set[str] = set()
        for chunk in _chunks(list(keys)):
            out |= set(
                self.conn.scalars(
                    select(e.key).where(e.kind == kind, e.subject == subject, e.key.in_(chunk))
                )
            )
        return out

    def open(
        self,
        *,
        id: str,
        kind: str,
        subject: str,
        active_key: str,
        currency: str,
        summary: str,
        now: datetime,
    ) -> None:
        self.conn.execute(
            insert(t.aml_cases).values(
                id=id,
                kind=kind,
                subject=subject,
                status="open",
                active_key=active_key,
                customer_ids=[],
                currency=currency,
                total_amount=0,
                evidence_count=0,
                summary=summary,
                opened_at=now,
                updated_at=now,
                notes=[],
            )
        )

    def add_evidence(
        self, case_id: str, kind: str, subject: str, evidence: Sequence[Evidence], now: datetime
    ) -> None:
        """Append the evidence and bring the case's totals, customers and period up to
        date (from the evidence table: it is the truth)."""
        rows = [
            {
                "id": new_id(),
                "case_id": case_id,
                "kind": kind,
                "subject": subject,
                "key": ev.key,
                "at": ev.at,
                "amount": ev.amount,
                "item_id": ev.item_id,
                "customer_id": ev.customer_id,
                "masked": ev.masked,
                "note": ev.note[:500],
                "added_at": now,
            }
            for ev in evidence
        ]
        for chunk in _chunks(rows):
            self.conn.execute(insert(t.aml_case_evidence), list(chunk))
        e = t.aml_case_evidence.c
        n, total, first, last = self.conn.execute(
            select(
                func.count(), func.coalesce(func.sum(e.amount), 0), func.min(e.at), func.max(e.at)
            ).where(e.case_id == case_id)
        ).one()
        customers = sorted(
            self.conn.scalars(
                select(e.customer_id)
                .where(e.case_id == case_id, e.customer_id.is_not(None))
                .distinct()
            )
        )
        self.conn.execute(
            update(t.aml_cases)
            .where(t.aml_cases.c.id == case_id)
            .values(
                evidence_count=n,
                total_amount=total,
                period_start=first,
                period_end=last,
                customer_ids=customers,
                updated_at=now,
            )
        )

    def set_summary(self, case_id: str, summary: str) -> None:
        self.conn.execute(
            update(t.aml_cases).where(t.aml_cases.c.id == case_id).values(summary=summary[:1000])
        )

    # -- the operators ---------------------------------------------------------------------
    def get(self, case_id: str, *, for_update: bool = False) -> dict[str, Any] | None:
        q = select(t.aml_cases).where(t.aml_cases.c.id == case_id)
        if for_update and self.pg:
            q = q.with_for_update()
        r = self.conn.execute(q).one_or_none()
        return None if r is None else _case(r)

    def set_status(
        self,
        case_id: str,
        *,
        from_status: str,
        to_status: str,
        active_key: str | None,
        notes: list[dict[str, Any]],
        now: datetime,
    ) -> bool:
        """Move a case on, only from the status it was read in (False: it moved meanwhile)."""
        c = t.aml_cases.c
        done = self.conn.execute(
            update(t.aml_cases)
            .where(c.id == case_id, c.status == from_status)
            .values(status=to_status, active_key=active_key, notes=notes, updated_at=now)
        )
        return done.rowcount == 1

    def page(
        self,
        *,
        statuses: Sequence[str] | None,
        kind: str | None,
        cursor: str | None,
        limit: int,
    ) -> list[dict[str, Any]]:
        """Newest first (opened_at, then id); ``cursor`` is the last id of the page before."""
        c = t.aml_cases.c
        q = select(t.aml_cases)
        if statuses is not None:
            q = q.where(c.status.in_(list(statuses)))
        if kind is not None:
            q = q.where(c.kind == kind)
        if cursor is not None:
            at = self.conn.execute(select(c.opened_at).where(c.id == cursor)).scalar()
            if at is None:
                return []
            q = q.where(or_(c.opened_at < at, and_(c.opened_at == at, c.id < cursor)))
        q = q.order_by(c.opened_at.desc(), c.id.desc()).limit(limit)
        return [_case(r) for r in self.conn.execute(q)]

    def evidence(self, case_id: str, limit: int) -> list[dict[str, Any]]:
        e = t.aml_case_evidence.c
        q = (
            select(t.aml_case_evidence)
            .where(e.case_id == case_id)
            .order_by(e.at, e.key)
            .limit(limit)
        )
        out = []
        for r in self.conn.execute(q):
            d = dict(r._mapping)
            for k in ("case_id", "kind", "subject"):
                d.pop(k)
            out.append(d)
        return out

    def evidence_for(self, case_ids: Sequence[str], limit_each: int) -> dict[str, list[dict]]:
        """The first ``limit_each`` evidence records of each case (for the report)."""
        out: dict[str, list[dict]] = {}
        for case_id in case_ids:
            out[case_id] = self.evidence(case_id, limit_each)
        return out

    def customer_names(self, customer_ids: Iterable[str]) -> dict[str, str]:
        c = t.customers.c
        out: dict[str, str] = {}
        for chunk in _chunks(sorted(set(customer_ids))):
            rows = self.conn.execute(select(c.id, c.name).where(c.id.in_(chunk)))
            out.update({r.id: r.name for r in rows})
        return out

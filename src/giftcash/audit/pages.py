"""The audit log read a page at a time, newest first, with whether the whole chain checks
out at that moment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from giftcash.audit import log as audit
from giftcash.catalogue import live as catalogue
from giftcash.domain.advisor import start_of
from giftcash.service import errors
from giftcash.service.deps import Deps
from giftcash.service.ports.records import AuditRecord


@dataclass(frozen=True, slots=True)
class AuditPage:
    records: list[AuditRecord]
    next_cursor: str | None
    verified: bool
    head: tuple[int, str]


def audit_page(deps: Deps, *, cursor: str | None, limit: int) -> AuditPage:
    """Newest first; ``verified`` says whether the whole chain checks out right now."""
    before: int | None = None
    if cursor is not None:
        if not cursor.isascii() or not cursor.isdigit() or len(cursor) > 18:
            raise errors.InvalidInput("the cursor is not one this endpoint gave", field="cursor")
        before = int(cursor)
    with deps.reader() as uow:
        uow.audit.snapshot()  # the page, the chain and the head from one moment
        records = uow.audit.newest_first(before, limit + 1)
        problems = audit.verify(uow)
        head = uow.audit.head()
    page, more = records[:limit], len(records) > limit
    return AuditPage(page, str(page[-1].seq) if more else None, not problems, head)


# -- the audit log, filtered -----------------------------------------------------------------

AUDIT_TARGETS = ("customer", "device", "item", "payout", "case", "brand", "issuer", "rule")


@dataclass(frozen=True)
class AuditFilter:
    actor: str = ""
    action: str = ""
    target_kind: str = ""
    since: date | None = None
    until: date | None = None  # inclusive, in the exchange's calendar


@dataclass(frozen=True)
class AuditRow:
    seq: int
    at: datetime
    actor: str
    action: str
    subject: str | None
    detail: dict[str, Any] | None
    redacted_at: datetime | None = None  # its detail erased by the purge (audit/log.py)


@dataclass(frozen=True)
class AuditSearch:
    rows: list[AuditRow]
    next_cursor: str | None
    verified: bool
    head: tuple[int, str]


def audit_search(deps: Deps, f: AuditFilter, *, cursor: str | None, limit: int) -> AuditSearch:
    """Newest first, filtered; the chain's verification covers the whole log."""
    if f.target_kind and f.target_kind not in AUDIT_TARGETS:
        raise errors.InvalidInput("no such target kind", field="target")
    before = None
    if cursor is not None:
        if not cursor.isascii() or not cursor.isdigit() or len(cursor) > 18:
            raise errors.InvalidInput("the cursor is not one this page gave", field="cursor")
        before = int(cursor)
    rules = catalogue.current_rules(deps, deps.jurisdiction)
    since = start_of(f.since, rules.tz) if f.since else None
    until = start_of(f.until + timedelta(days=1), rules.tz) if f.until else None
    whole = audit_page(deps, cursor=None, limit=1)  # the chain's state and head
    with deps.reader() as uow:
        rows = uow.console_search.audit(
            actor=f.actor[:64] or None,
            action=f.action[:64] or None,
            target_kind=f.target_kind or None,
            since=since,
            until=until,
            before_seq=before,
            limit=limit + 1,
        )
    page = [AuditRow(**r) for r in rows[:limit]]
    more = len(rows) > limit
    return AuditSearch(page, str(page[-1].seq) if more else None, whole.verified, whole.head)

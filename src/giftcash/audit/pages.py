"""The audit log read a page at a time, newest first, with whether the whole chain checks
out at that moment."""

from __future__ import annotations

from dataclasses import dataclass

from giftcash.audit import log as audit
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

"""Claims: a worker may take a row whose lease has expired (or was never taken) and whose
next attempt is due."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_


def due(table: Any, now: datetime) -> Any:
    c = table.c
    return and_(
        or_(c.lease_expires_at.is_(None), c.lease_expires_at < now),
        or_(c.next_attempt_at.is_(None), c.next_attempt_at <= now),
    )

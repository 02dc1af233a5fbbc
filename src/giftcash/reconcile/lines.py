"""What reconciliation reads, whatever the file it came from: a bank statement's lines and
an issuer's settlement lines (the adapters parse each vendor's format into these), and
the error a file that cannot be read raises."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import date, datetime

from giftcash.domain.errors import DomainError
from giftcash.domain.money import DEFAULT_CURRENCY

# a transfer we sent (or a deposit returned); a return (or a deposit in); a fee charged
DIRECTIONS = ("out", "in", "fee")


class StatementInvalid(DomainError):
    """A statement or settlement report that cannot be read; the message names the line
    and the column, never a value."""

    code = "statement_invalid"


@dataclass(frozen=True, slots=True)
class StatementLine:
    bank_tran_id: str
    direction: str  # out | in | fee
    booked_on: date  # UTC
    amount: int
    currency: str = DEFAULT_CURRENCY
    fee: int = 0
    status: str | None = None
    at: datetime | None = None
    counterparty: str | None = None
    balance_after: int | None = None

    @property
    def key(self) -> tuple[str, str]:
        return self.bank_tran_id, self.direction

    def content_hash(self) -> str:
        body = asdict(self)
        body["booked_on"] = self.booked_on.isoformat()
        body["at"] = self.at.isoformat() if self.at else None
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class SettlementLine:
    day: date
    issuer: str
    redemption_id: str
    idempotency_key: str
    amount: int
    currency: str

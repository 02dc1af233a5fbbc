"""The bank's statement of the operating account, read into ``StatementLine`` records.

The statement format (the bank simulator's ``GET /sim/statement`` is one of it): CSV with
a header row, columns in any order, names case-insensitive, unknown columns ignored.
Required: ``bank_tran_id``, ``direction`` (``out``: a transfer we sent, a deposit's return
among them; ``in``: a return, or a buyer's deposit to a virtual account; ``fee``: a fee
the bank charged), ``amount`` (minor units, digits; ``,`` separators
allowed) and ``date`` (YYYY-MM-DD, UTC) or ``at`` (ISO 8601 with offset). Optional:
``fee`` (the fee charged for that line), ``currency`` (default KRW), ``status``,
``counterparty``, ``balance_after``, ``memo`` (read, never stored or shown: a 1-won
deposit's memo carries its verification code).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime

from giftcash.adapters.csv_reports import rows, whole_amount
from giftcash.domain.money import DEFAULT_CURRENCY
from giftcash.reconcile.lines import DIRECTIONS, StatementInvalid, StatementLine


def _when(row: dict[str, str], n: int) -> tuple[date, datetime | None]:
    at: datetime | None = None
    if row.get("at", "").strip():
        try:
            at = datetime.fromisoformat(row["at"].strip())
        except ValueError:
            raise StatementInvalid(f"line {n}: at is not an ISO 8601 time") from None
        if at.tzinfo is None:
            raise StatementInvalid(f"line {n}: at has no UTC offset")
        at = at.astimezone(UTC)
    if row.get("date", "").strip():
        try:
            booked_on = date.fromisoformat(row["date"].strip())
        except ValueError:
            raise StatementInvalid(f"line {n}: date is not YYYY-MM-DD") from None
        return booked_on, at
    if at is None:
        raise StatementInvalid(f"line {n}: neither date nor at is given")
    return at.date(), at


def parse_statement(lines: Iterable[str]) -> Iterator[StatementLine]:
    """The lines of a statement (the format: the module's docstring)."""
    for n, row in rows(lines, ("bank_tran_id", "direction", "amount")):
        tran_id = row["bank_tran_id"].strip()
        if not tran_id or len(tran_id) > 40 or not tran_id.isascii():
            raise StatementInvalid(f"line {n}: bank_tran_id is empty, too long or not ASCII")
        direction = row["direction"].strip().lower()
        if direction not in DIRECTIONS:
            raise StatementInvalid(f"line {n}: direction is one of {', '.join(DIRECTIONS)}")
        amount = whole_amount(row["amount"], n, "amount", required=True)
        fee = whole_amount(row.get("fee"), n, "fee", required=False) or 0
        if amount is None or amount < 0 or fee < 0:
            raise StatementInvalid(f"line {n}: amounts on a statement are not negative")
        booked_on, at = _when(row, n)
        currency = (row.get("currency") or DEFAULT_CURRENCY).strip().upper()
        if len(currency) != 3 or not currency.isalpha():
            raise StatementInvalid(f"line {n}: currency is a three-letter code")
        yield StatementLine(
            bank_tran_id=tran_id,
            direction=direction,
            booked_on=booked_on,
            amount=amount,
            currency=currency,
            fee=fee,
            status=(row.get("status") or "").strip() or None,
            at=at,
            counterparty=(row.get("counterparty") or "").strip()[:200] or None,
            balance_after=whole_amount(
                row.get("balance_after"), n, "balance_after", required=False
            ),
        )

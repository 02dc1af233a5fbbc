"""An issuer's settlement report (one line per redemption), read into ``SettlementLine``
records."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date

from giftcash.adapters.csv_reports import rows, whole_amount
from giftcash.domain.money import DEFAULT_CURRENCY
from giftcash.reconcile.lines import SettlementLine, StatementInvalid


def parse_settlement(lines: Iterable[str]) -> Iterator[SettlementLine]:
    """The issuer simulator's ``GET /sim/settlement`` CSV: ``date, issuer, redemption_id,
    idempotency_key, amount, currency``."""
    required = ("date", "issuer", "redemption_id", "idempotency_key", "amount")
    for n, row in rows(lines, required):
        try:
            day = date.fromisoformat(row["date"].strip())
        except ValueError:
            raise StatementInvalid(f"line {n}: date is not YYYY-MM-DD") from None
        amount = whole_amount(row["amount"], n, "amount", required=True)
        assert amount is not None
        key = row["idempotency_key"].strip()
        issuer = row["issuer"].strip().lower()
        if not key or len(key) > 64 or not issuer or len(issuer) > 64:
            raise StatementInvalid(f"line {n}: issuer or idempotency_key is empty or too long")
        yield SettlementLine(
            day=day,
            issuer=issuer,
            redemption_id=row["redemption_id"].strip()[:64],
            idempotency_key=key,
            amount=amount,
            currency=(row.get("currency") or DEFAULT_CURRENCY).strip().upper(),
        )

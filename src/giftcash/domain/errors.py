"""Operating errors: each has a stable snake_case ``code`` and a ``kind``.

Entry points map ``kind`` to an HTTP status or a CLI exit status in one place each.
Messages never contain a voucher code, a PIN or a secret.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    code: ClassVar[str] = "domain_error"
    # invalid | not_found | conflict | forbidden | unauthorized | rate_limited | unavailable
    kind: ClassVar[str] = "invalid"

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.context = context

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class InvalidAmount(DomainError):
    code = "invalid_amount"


class UnknownCurrency(DomainError):
    code = "unknown_currency"


class CurrencyMismatch(DomainError):
    code = "currency_mismatch"


class InvalidFormat(DomainError):
    code = "invalid_format"


class FaceValueNotOffered(DomainError):
    code = "face_value_not_offered"


class BrandNotFound(DomainError):
    code = "brand_not_found"
    kind = "not_found"


class UnknownFundingSource(DomainError):
    code = "unknown_funding_source"


class IllegalTransition(DomainError):
    code = "illegal_transition"
    kind = "conflict"


class UnbalancedTransfer(DomainError):
    code = "unbalanced_transfer"


class InvalidAccount(DomainError):
    code = "invalid_account"


class LiabilityBelowZero(DomainError):
    code = "liability_below_zero"
    kind = "conflict"


class TransferExists(DomainError):
    """A transfer id that was already posted with different content."""

    code = "transfer_exists"
    kind = "conflict"


class OutOfStock(DomainError):
    """Resale: fewer units of that brand and face value are in stock than ordered (another
    order took them first, or there were none). Nothing was charged."""

    code = "out_of_stock"
    kind = "conflict"


class NotForSale(DomainError):
    """Resale: the brand is not resold, or its units are too close to expiry to sell."""

    code = "not_for_sale"


class BuyerLimitExceeded(DomainError):
    """Resale: the order would take the buyer over a daily or monthly limit; ``code`` in
    the context says which (buyer_daily_limit, buyer_monthly_limit)."""

    code = "buyer_limit_exceeded"
    kind = "forbidden"

"""Money in integer minor units of an ISO 4217 currency.

Floats never touch money. ``Decimal`` appears only in ``parse`` and ``format`` (edges).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, InvalidOperation

from giftcash.domain.errors import CurrencyMismatch, InvalidAmount, UnknownCurrency

# The currency of the books and of any amount that names none: the won.
DEFAULT_CURRENCY = "KRW"

# ISO 4217 minor-unit exponents of the currencies giftcash handles.
CURRENCY_SCALE: dict[str, int] = {"KRW": 0, "JPY": 0, "USD": 2, "EUR": 2, "GBP": 2}

# Decimal's default context keeps 28 digits and rounds longer numbers silently; shifting
# the decimal point must be exact, so it runs in a context that never rounds.
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)

# The books store amounts as BIGINT; parsing refuses what could never be stored.
MAX_AMOUNT = 2**63 - 1


def currency_scale(currency: str) -> int:
    try:
        return CURRENCY_SCALE[currency]
    except KeyError:
        raise UnknownCurrency(f"unknown currency {currency!r}", currency=currency) from None


@dataclass(frozen=True, slots=True, order=False)
class Money:
    amount: int  # minor units
    currency: str

    def __post_init__(self) -> None:
        if type(self.amount) is not int:
            raise InvalidAmount("amount must be an integer number of minor units")
        currency_scale(self.currency)

    # -- arithmetic: same currency only ------------------------------------------------
    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(
                f"cannot combine {self.currency} with {other.currency}",
                left=self.currency,
                right=other.currency,
            )

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    def require_positive(self, what: str = "amount") -> Money:
        if self.amount <= 0:
            raise InvalidAmount(f"{what} must be positive", amount=self.amount)
        return self

    # -- edges ---------------------------------------------------------------------
    @classmethod
    def parse(cls, text: str, currency: str) -> Money:
        """Parse '50000', '50,000' or '12.34' (USD) exactly; more decimals than the
        currency has is an error, never a silent rounding."""
        scale = currency_scale(currency)
        cleaned = text.strip().replace(",", "").replace("_", "")
        try:
            value = Decimal(cleaned)
        except InvalidOperation:
            raise InvalidAmount(f"not an amount: {text!r}") from None
        if not value.is_finite():
            raise InvalidAmount(f"not an amount: {text!r}")
        minor = value.scaleb(scale, context=_EXACT)
        if minor != minor.to_integral_value(context=_EXACT):
            raise InvalidAmount(
                f"{currency} has {scale} decimal places; {text!r} has more", currency=currency
            )
        if minor.copy_abs() > MAX_AMOUNT:
            raise InvalidAmount(f"amount too large: {text!r}", currency=currency)
        return cls(int(minor), currency)

    def to_decimal(self) -> Decimal:
        return Decimal(self.amount).scaleb(-currency_scale(self.currency), context=_EXACT)

    def format(self) -> str:
        """Plain, locale-free text such as '50,000 KRW' or '12.50 USD'.
        Localised display (Babel) belongs to the entry points."""
        scale = currency_scale(self.currency)
        return f"{self.to_decimal():,.{scale}f} {self.currency}"

    def __str__(self) -> str:
        return self.format()


def bps_of(amount: int, bps: int) -> int:
    """``amount * bps / 10_000`` rounded toward zero (floor for positive amounts).

    Callers choose which side of a split gets the floor; see ``quotes``."""
    if not (0 <= bps <= 10_000):
        raise InvalidAmount("basis points must be between 0 and 10000", bps=bps)
    magnitude = abs(amount) * bps // 10_000
    return magnitude if amount >= 0 else -magnitude

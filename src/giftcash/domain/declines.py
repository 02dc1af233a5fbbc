"""Every verdict code an item can end with, in one registry: why it was declined (or sent
to review, held, refused by the issuer, or parked for staff), what kind of reason that
is, what the customer reads, which lawful routes go with it and where the item ends.

Every place that puts a code on an item takes it from here (the constants below, or
``for_issuer_answer``), and a test reads the source for code strings this registry lacks.
The only codes not listed are the ones an operator writes into an operator rule; they
cannot take a listed code of another kind (``policy.OperatorRule`` refuses) and are
described by the operator entry of their outcome (``describe``).

Customer texts are kept as the project keeps every customer text: English here, which is
also the msgid of its translation in the web's gettext catalogue (``web/locale``). The
domain imports only the standard library, so it cannot hold the catalogue; a test walks
this registry and checks that each text has its Korean translation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    STATUTORY = "statutory"  # a statute forbids buying it, or asks for a check
    FRAUD = "fraud"  # protects the customer or us from fraud and scams
    FORMAT = "format"  # the input is not a voucher we could buy
    ISSUER = "issuer"  # the issuer's answer about the voucher
    LIMIT = "limit"  # a daily or exposure limit, "not now"
    OPERATOR = "operator"  # the operator's switch, rule or reviewer


class EndState(StrEnum):
    """Where the item stands after the verdict (an ``ItemStatus`` value, except ``held``:
    the item goes on, its payout waits)."""

    DECLINED = "declined"
    INVALID = "invalid"
    REVIEW = "review"
    FAILED = "failed"
    HELD = "held"
    WITHHELD = "withheld"


# Route ids as ``advisor.RouteId`` spells them (a test checks they are advisor routes).
CANCEL_PAYMENT = "cancel_payment"
WITHDRAW_7_DAYS = "withdraw_7_days"
ISSUER_REFUND_REMAINDER = "issuer_refund_remainder"
ISSUER_REFUND_AFTER_EXPIRY = "issuer_refund_after_expiry"
ISSUER_POINTS_AFTER_EXPIRY = "issuer_points_after_expiry"
KEEP = "keep"
ISSUER_EXTENSION = "issuer_extension"

_CREDIT_ROUTES = (
    CANCEL_PAYMENT,
    WITHDRAW_7_DAYS,
    ISSUER_REFUND_REMAINDER,
    ISSUER_REFUND_AFTER_EXPIRY,
    ISSUER_POINTS_AFTER_EXPIRY,
    KEEP,
)


@dataclass(frozen=True, slots=True)
class DeclineCode:
    code: str
    kind: Kind
    end_state: EndState
    text: str  # what the customer reads (English; the msgid of its translations)
    routes: tuple[str, ...] = ()  # lawful routes shown with it, in the advisor's order
    retryable: bool = False  # "not now" rather than "never": the code may come again
    counts_as_failure: bool = False  # a bad code: counted by the brute-force guard
    redeem_end_state: EndState | None = None  # when the issuer refuses the capture itself

    @property
    def needs_routes(self) -> bool:
        """A voucher that can never be sold here, for a reason the customer can act on
        elsewhere: the law's reasons and the issuer's answers, once the item is closed."""
        closed = self.end_state in (EndState.DECLINED, EndState.INVALID)
        return closed and self.kind in (Kind.STATUTORY, Kind.ISSUER)


CARRIER_BILLING_PROHIBITED = DeclineCode(
    "carrier_billing_prohibited",
    Kind.STATUTORY,
    EndState.DECLINED,
    "This voucher was paid for with mobile phone billing. Buying it at a discount for "
    "cash would be lending against your phone bill, which Korean law (정보통신망법 "
    "§72①3) forbids, so giftcash cannot buy it.",
    routes=_CREDIT_ROUTES,
)
CREDIT_CARD_FINANCING_PROHIBITED = DeclineCode(
    "credit_card_financing_prohibited",
    Kind.STATUTORY,
    EndState.DECLINED,
    "This voucher was paid for with a credit card. Buying it at a discount for cash "
    "would be lending against your card bill (카드깡), which Korean law (여신전문금융업법 "
    "§70) forbids, so giftcash cannot buy it.",
    routes=_CREDIT_ROUTES,
)
FUNDING_SOURCE_UNVERIFIED = DeclineCode(
    "funding_source_unverified",
    Kind.STATUTORY,
    EndState.REVIEW,
    "A person at giftcash checks how this voucher was paid for before it is bought.",
)
DUPLICATE_CODE = DeclineCode(
    "duplicate_code",
    Kind.FRAUD,
    EndState.DECLINED,
    "This code was already submitted to giftcash. A code is bought once.",
)
TOO_MANY_ATTEMPTS = DeclineCode(
    "too_many_attempts",
    Kind.FRAUD,
    EndState.DECLINED,
    "Too many codes that did not work were sent from here, so we paused checking codes.",
    retryable=True,
)
# Failures counted by something many customers share (a carrier's NAT, a load balancer):
# the guard may slow what it guards or send it to a person, never finally decline another
# customer's valid voucher (issue 13, item 6).
SHARED_ADDRESS_CHECK = DeclineCode(
    "shared_address_check",
    Kind.FRAUD,
    EndState.REVIEW,
    "Many codes that did not work came from the network you use, so a person at giftcash "
    "checks this sale before it goes on.",
)
ACCOUNT_HOLDER_MISMATCH = DeclineCode(
    "account_holder_mismatch",
    Kind.FRAUD,
    EndState.DECLINED,
    "Payouts go only to an account in your own name.",
)
SCAM_CHECK = DeclineCode(
    "scam_check",
    Kind.FRAUD,
    EndState.REVIEW,
    "A person at giftcash checks this sale before it goes on, to protect you from scams.",
)
FIRST_SALE_HOLD = DeclineCode(
    "first_sale_hold",
    Kind.FRAUD,
    EndState.HELD,
    "Held for your safety: a first large sale is paid some hours after the issuer confirms.",
)
INVALID_FORMAT = DeclineCode(
    "invalid_format",
    Kind.FORMAT,
    EndState.DECLINED,
    "The code does not have this brand's format.",
    counts_as_failure=True,
)
UNKNOWN_BRAND = DeclineCode(
    "unknown_brand", Kind.FORMAT, EndState.DECLINED, "We do not know this brand."
)
FACE_VALUE_NOT_OFFERED = DeclineCode(
    "face_value_not_offered",
    Kind.FORMAT,
    EndState.DECLINED,
    "This brand is not sold at this amount.",
)
INVALID_AMOUNT = DeclineCode(
    "invalid_amount",
    Kind.FORMAT,
    EndState.DECLINED,
    "Enter the voucher's face value as a whole number.",
)
UNKNOWN_FUNDING_SOURCE = DeclineCode(
    "unknown_funding_source", Kind.FORMAT, EndState.DECLINED, "Choose how the voucher was paid for."
)
VOUCHER_NOT_FOUND = DeclineCode(
    "voucher_not_found",
    Kind.ISSUER,
    EndState.DECLINED,
    "The issuer does not know this code, or its PIN is wrong.",
    routes=(CANCEL_PAYMENT, WITHDRAW_7_DAYS),
    counts_as_failure=True,
    redeem_end_state=EndState.INVALID,
)
VOUCHER_USED = DeclineCode(
    "voucher_used",
    Kind.ISSUER,
    EndState.DECLINED,
    "The issuer says this code has already been used.",
    routes=(CANCEL_PAYMENT, WITHDRAW_7_DAYS, ISSUER_REFUND_REMAINDER),
    counts_as_failure=True,
    redeem_end_state=EndState.INVALID,
)
VOUCHER_EXPIRED = DeclineCode(
    "voucher_expired",
    Kind.ISSUER,
    EndState.DECLINED,
    "The issuer says this voucher has expired.",
    routes=(ISSUER_REFUND_AFTER_EXPIRY, ISSUER_POINTS_AFTER_EXPIRY),
    counts_as_failure=True,
    redeem_end_state=EndState.INVALID,
)
ISSUER_REFUSED = DeclineCode(
    "issuer_refused",
    Kind.ISSUER,
    EndState.INVALID,
    "The issuer did not accept this code.",
    routes=(CANCEL_PAYMENT, WITHDRAW_7_DAYS),
    counts_as_failure=True,
    redeem_end_state=EndState.INVALID,
)
AMOUNT_MISMATCH = DeclineCode(
    "amount_mismatch",
    Kind.ISSUER,
    EndState.FAILED,
    "The issuer holds a different amount on this voucher.",
)
ISSUER_UNREACHABLE = DeclineCode(
    "issuer_unreachable",
    Kind.ISSUER,
    EndState.FAILED,
    "The issuer is not answering; our staff are checking this voucher.",
)
# Payment stops (domain/stops.py): a bank or the police stopped payment for the sale and
# the stop was settled, so the item ends without payment to the customer.
PAYMENT_STOP = DeclineCode(
    "payment_stop",
    Kind.FRAUD,
    EndState.DECLINED,
    "A bank or the police asked us to stop payment for this sale, and the request was "
    "settled. Call the institution that asked, or our customer service.",
)
PAYMENT_STOP_UNRESOLVED = DeclineCode(
    "payment_stop_unresolved",
    Kind.FRAUD,
    EndState.FAILED,
    "A payment stop ended this sale while the voucher was with the issuer; our staff "
    "are checking it with the issuer.",
)
PAYMENT_STOP_SETTLED = DeclineCode(
    "payment_stop_settled",
    Kind.FRAUD,
    EndState.WITHHELD,
    "A bank or the police asked us to stop payment for this sale, and the money was "
    "returned through them. Call the institution that asked, or our customer service.",
)
# Product coupons and resold vouchers. Both are the issuer's terms: its expiry date, and
# that it neither buys the voucher back nor answers a balance inquiry (so it cannot be
# verified for resale); both leave the customer the issuer's routes.
COUPON_NEAR_EXPIRY = DeclineCode(
    "coupon_near_expiry",
    Kind.ISSUER,
    EndState.DECLINED,
    "This coupon expires too soon for us to buy it. Use it or give it as a gift, or ask "
    "the issuer to extend it; after it expires the issuer refunds most of its price.",
    routes=(ISSUER_REFUND_AFTER_EXPIRY, ISSUER_POINTS_AFTER_EXPIRY, KEEP, ISSUER_EXTENSION),
)
# A voucher of a resell brand is stocked only once its issuer's balance inquiry has
# verified it; an issuer that offers no inquiry cannot verify it without redeeming it.
COUPON_RESALE_UNAVAILABLE = DeclineCode(
    "coupon_resale_unavailable",
    Kind.ISSUER,
    EndState.DECLINED,
    "We cannot buy this voucher: its issuer does not buy it back and cannot confirm its "
    "balance for us without using it.",
    routes=(WITHDRAW_7_DAYS, ISSUER_REFUND_AFTER_EXPIRY, KEEP),
)
LIMIT_EXCEEDED = DeclineCode(
    "limit_exceeded",
    Kind.LIMIT,
    EndState.DECLINED,
    "This sale would pass your limit for now. Try again later or sell less.",
    retryable=True,
)
# Customer due diligence by amount (domain/tiers.py): each says what unlocks the sale.
IDENTITY_REQUIRED = DeclineCode(
    "identity_required",
    Kind.LIMIT,
    EndState.DECLINED,
    "Verify your identity on your phone before you sell: it takes a minute on your account page.",
    retryable=True,
)
ID_DOCUMENT_REQUIRED = DeclineCode(
    "id_document_required",
    Kind.LIMIT,
    EndState.DECLINED,
    "This sale is above what a verified identity allows today or this month. Check your "
    "ID card on your account page to sell more.",
    retryable=True,
)
DUE_DILIGENCE_REQUIRED = DeclineCode(
    "due_diligence_required",
    Kind.LIMIT,
    EndState.DECLINED,
    "Before this sale we must ask a few questions: your occupation, where the money came "
    "from and what the sales are for. Answer them on your account page, then sell again.",
    retryable=True,
)
ISSUER_EXPOSURE_CAP = DeclineCode(
    "issuer_exposure_cap",
    Kind.LIMIT,
    EndState.DECLINED,
    "We have bought as many of this issuer's vouchers as we can for now.",
    retryable=True,
)
ISSUER_DISABLED = DeclineCode(
    "issuer_disabled",
    Kind.OPERATOR,
    EndState.DECLINED,
    "We are not buying this issuer's vouchers right now.",
    retryable=True,
)
BRAND_DISABLED = DeclineCode(
    "brand_disabled",
    Kind.OPERATOR,
    EndState.DECLINED,
    "We are not buying this brand right now.",
    retryable=True,
)
DECLINED_BY_REVIEW = DeclineCode(
    "declined_by_review",
    Kind.OPERATOR,
    EndState.DECLINED,
    "giftcash reviewed this voucher and will not buy it.",
)
OPERATOR_DECLINE = DeclineCode(
    "operator_decline",
    Kind.OPERATOR,
    EndState.DECLINED,
    "giftcash is not buying this voucher under its current buying rules.",
)
OPERATOR_REVIEW = DeclineCode(
    "operator_review",
    Kind.OPERATOR,
    EndState.REVIEW,
    "A person at giftcash checks this sale before it goes on.",
)
OPERATOR_HOLD = DeclineCode(
    "operator_hold",
    Kind.OPERATOR,
    EndState.HELD,
    "Held for your safety: this payout is sent a little later.",
)

REGISTRY: Mapping[str, DeclineCode] = {
    e.code: e
    for e in (
        CARRIER_BILLING_PROHIBITED,
        CREDIT_CARD_FINANCING_PROHIBITED,
        FUNDING_SOURCE_UNVERIFIED,
        DUPLICATE_CODE,
        TOO_MANY_ATTEMPTS,
        SHARED_ADDRESS_CHECK,
        ACCOUNT_HOLDER_MISMATCH,
        SCAM_CHECK,
        FIRST_SALE_HOLD,
        INVALID_FORMAT,
        UNKNOWN_BRAND,
        FACE_VALUE_NOT_OFFERED,
        INVALID_AMOUNT,
        UNKNOWN_FUNDING_SOURCE,
        VOUCHER_NOT_FOUND,
        VOUCHER_USED,
        VOUCHER_EXPIRED,
        ISSUER_REFUSED,
        AMOUNT_MISMATCH,
        ISSUER_UNREACHABLE,
        PAYMENT_STOP,
        PAYMENT_STOP_UNRESOLVED,
        PAYMENT_STOP_SETTLED,
        COUPON_NEAR_EXPIRY,
        COUPON_RESALE_UNAVAILABLE,
        LIMIT_EXCEEDED,
        IDENTITY_REQUIRED,
        ID_DOCUMENT_REQUIRED,
        DUE_DILIGENCE_REQUIRED,
        ISSUER_EXPOSURE_CAP,
        ISSUER_DISABLED,
        BRAND_DISABLED,
        DECLINED_BY_REVIEW,
        OPERATOR_DECLINE,
        OPERATOR_REVIEW,
        OPERATOR_HOLD,
    )
}

RETRYABLE: frozenset[str] = frozenset(c for c, e in REGISTRY.items() if e.retryable)

# The operator entry each outcome's own operator codes are described by.
OPERATOR_ENTRIES: Mapping[str, DeclineCode] = {
    "decline": OPERATOR_DECLINE,
    "review": OPERATOR_REVIEW,
    "hold": OPERATOR_HOLD,
}

# What an issuer says about a voucher (inquiry status, or a refused capture), as codes.
ISSUER_ANSWERS: Mapping[str, DeclineCode] = {
    "not_found": VOUCHER_NOT_FOUND,
    "used": VOUCHER_USED,
    "already_redeemed": VOUCHER_USED,
    "expired": VOUCHER_EXPIRED,
}


def lookup(code: str) -> DeclineCode:
    """The registry's entry; a code it lacks is a programmer's error."""
    entry = REGISTRY.get(code)
    assert entry is not None, f"decline code {code[:64]!r} is not in the registry"
    return entry


def describe(code: str) -> DeclineCode:
    """The entry for a code stored on an item. A code the registry lacks can only be an
    operator's own rule code (built-in codes are checked in the source, and an operator
    rule cannot take a built-in code of another kind): a decline by the operator."""
    return REGISTRY.get(code) or OPERATOR_DECLINE


def for_issuer_answer(answer: str) -> DeclineCode:
    """The code for an issuer's refusal of a capture (``already_redeemed``,
    ``not_found``, ``expired``; anything else an adapter reports: ``issuer_refused``)."""
    return ISSUER_ANSWERS.get(answer, ISSUER_REFUSED)


def for_input_error(error_code: str) -> DeclineCode:
    """The code for an item refused at intake because of its input (a ``DomainError``
    raised while reading it); an error the registry does not list as a format reason is
    a code that does not fit its brand."""
    entry = REGISTRY.get(error_code)
    return entry if entry is not None and entry.kind is Kind.FORMAT else INVALID_FORMAT

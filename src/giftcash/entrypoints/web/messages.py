"""What the pages say about codes: error codes, statuses, declines and routes, in words a
customer reads (English msgids, translated through the catalogue). Unknown codes fall back
to the service's own English message, which never carries a voucher code or PIN."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from giftcash.domain import declines
from giftcash.domain.brands import Brand, normalise
from giftcash.domain.errors import DomainError, InvalidFormat
from giftcash.domain.money import DEFAULT_CURRENCY
from giftcash.entrypoints.web.i18n import N_, Tr
from giftcash.service.ports.records import IssuerEvidence

ITEM_STATUS = {
    "received": N_("Received"),
    "review": N_("Being reviewed"),
    "redeeming": N_("Checking with the issuer"),
    "redeemed": N_("Accepted, payout queued"),
    # a resold voucher: the issuer confirmed it unspent; it is kept for a buyer, not used
    "stocked": N_("Verified, payout queued"),
    "paying": N_("Sending to your account"),
    "paid": N_("Paid"),
    "declined": N_("Not bought"),
    "invalid": N_("Not accepted by the issuer"),
    "failed": N_("Our staff are checking"),
    "withheld": N_("Not paid: payment stopped"),
}

# Who asked for a payment stop, in a customer's words (stops/, domain/stops.py).
STOP_REQUESTERS = {
    "bank": N_("a bank"),
    "police": N_("the police"),
    "internal": N_("our fraud team"),
}

# The steps a bought item walks, for the progress line on each item.
ITEM_STEPS = ("received", "redeeming", "redeemed", "paying", "paid")
# A resold voucher walks the same line: verified (stocked) where another is accepted.
ITEM_STEP_OF = {"stocked": "redeemed"}

SUBMISSION_STATUS = {
    "processing": N_("In progress"),
    "completed": N_("Completed"),
    "closed": N_("Closed"),
    "attention": N_("Our staff are checking"),
    "received": N_("Received"),
}

PAYOUT_STATUS = {
    "pending": N_("Preparing"),
    "sending": N_("Sending"),
    "sent": N_("Sent"),
    "unknown": N_("Checking with the bank"),
    "confirmed": N_("Deposited"),
    "returned": N_("Returned by the bank"),
    "rejected": N_("Refused by the bank"),
    "held": N_("Held: payment stopped"),
    "cancelled": N_("Cancelled: payment stopped"),
}

ACCOUNT_STATUS = {
    "verifying": N_("Waiting for the 1-won code"),
    "verified": N_("Verified"),
    "failed": N_("Could not be verified"),
}

FUNDING_SOURCES = {
    "cash": N_("Cash"),
    "debit_card": N_("Debit card"),
    "bank_transfer": N_("Bank transfer"),
    "gift": N_("Received as a gift"),
    "credit_card": N_("Credit card"),
    "carrier_billing": N_("Mobile phone billing"),
    "unknown": N_("I don't know"),
}

ROUTES = {
    "sell_here": N_("Sell to giftcash now"),
    "cancel_payment": N_("Cancel the payment"),
    "withdraw_7_days": N_("Return it within 7 days"),
    "issuer_refund_remainder": N_("Issuer's refund of the remainder"),
    "issuer_refund_after_expiry": N_("Issuer's refund after expiry"),
    "issuer_points_after_expiry": N_("Issuer's points after expiry"),
    "keep": N_("Keep it and use it"),
    "issuer_extension": N_("Ask the issuer to extend it"),
}

# What each route means, in the page's language (the advisor's own notes are English).
ROUTE_HELP = {
    "sell_here": N_("giftcash pays this to your verified account once the issuer confirms."),
    "cancel_payment": N_(
        "Ask the shop, your card company or your carrier to cancel the payment before the "
        "bill closes."
    ),
    "withdraw_7_days": N_("An unused voucher can be returned to its seller for a full refund."),
    "issuer_refund_remainder": N_("The issuer refunds what is left once enough is used."),
    "issuer_refund_after_expiry": N_("After it expires the issuer refunds most of it in cash."),
    "issuer_points_after_expiry": N_("After it expires the issuer gives all of it as points."),
    "keep": N_("Use it yourself, or give it as a gift."),
    "issuer_extension": N_("Before it expires the issuer extends it by 3 months on request."),
}

# The policy's scam-victim warning (domain.policy.SCAM_WARNING, checked by a test), so
# that it can be shown in Korean.
SCAM_WARNING = N_(
    "Did someone ask you to buy these vouchers and send or sell them? Police, "
    "prosecutors, banks and government offices never ask for payment in gift vouchers, "
    "and a family member texting from a new number may not be who they say. If someone "
    "told you to buy these, stop and call 112 (police) or 1332 (Financial Supervisory "
    "Service) before you go on."
)

# The advisor's note when the purchase date is unknown (domain.advisor, checked by a test).
ROUTES_NOTE_NO_PURCHASE_DATE = N_(
    "The purchase date is unknown, so routes that depend on it (cancelling the "
    "payment, the 7-day refund) are not shown; give the purchase date to see them."
)

# Each lawful route as a general title and explanation, for a decline whose decision
# holds no computed routes (e.g. a quote without a purchase date) (DOMAIN-FACTS §0, §2).
ROUTE_TEXTS = {
    "cancel_payment": (
        N_("Cancel the payment"),
        N_(
            "A card or phone payment can usually be cancelled in the month it was made, "
            "before the bill closes. Ask the shop, your card company or your carrier."
        ),
    ),
    "withdraw_7_days": (
        N_("Return it within 7 days"),
        N_("An unused voucher can be returned to its seller for a full refund within 7 days."),
    ),
    "issuer_refund_remainder": (
        N_("Issuer's refund of the remainder"),
        N_(
            "Once 60%% is used (80%% for vouchers under 10,000 won), the issuer refunds the "
            "rest in cash."
        ),
    ),
    "issuer_refund_after_expiry": (
        N_("Issuer's refund after expiry"),
        N_("After it expires the issuer refunds 90%% (95%% above 50,000 won), or 100%% as points."),
    ),
    "issuer_points_after_expiry": (
        ROUTES["issuer_points_after_expiry"],
        ROUTE_HELP["issuer_points_after_expiry"],
    ),
    "keep": (ROUTES["keep"], ROUTE_HELP["keep"]),
    "issuer_extension": (ROUTES["issuer_extension"], ROUTE_HELP["issuer_extension"]),
}

ERRORS = {
    "invalid_bank_hours": N_(
        "Check the window: a known bank, a start before its end, times in Korean time, at "
        "most 7 days, not already over."
    ),
    "maintenance_not_found": N_("That maintenance window is gone already."),
    "invalid_phone": N_("Enter a Korean mobile number such as 010-1234-5678."),
    "weak_password": N_("The password needs 10 to 200 characters."),
    "phone_taken": N_("This phone number already has an account. Sign in instead."),
    # identity verification (본인인증, identity/verification.py)
    "identity_already_registered": N_(
        "You already have a giftcash account. Sign in to it instead of opening another."
    ),
    "identity_pending": N_("Confirm the request on your phone first, then press Continue."),
    "identity_failed": N_("The identity verification was refused or has expired. Sign up again."),
    "identity_not_configured": N_("Identity verification is not available right now."),
    "identity_not_verified": N_("Verify your identity on your phone first."),
    "id_document_mismatch": N_(
        "These details do not match a genuine ID card in your name. Check the number and "
        "the issue date printed on the card."
    ),
    "invalid_code": N_("That code is not right. Check it and try again."),
    "code_expired": N_("The code has expired. Ask for a new one."),
    "too_many_attempts": N_("Too many wrong codes. Start again for a new code."),
    "rate_limited": N_("Too many requests like this for now. Wait a little, then try again."),
    "too_many_bank_accounts": N_(
        "You have as many bank accounts as allowed. Finish verifying one you added first."
    ),
    "holder_name_mismatch": N_("Payouts go only to an account in your own name."),
    "bank_account_unknown": N_("The bank does not know this account. Check the number."),
    "bank_account_not_verified": N_("Verify the bank account with its 1-won code first."),
    "bank_account_not_found": N_("We could not find that bank account."),
    "bank_account_still_pays": N_(
        "This sale's account still takes payouts; it can be changed only after the bank "
        "returned one."
    ),
    "too_many_items": N_("A sale has 1 to 1,000 codes."),
    "duplicate_in_request": N_("The same code appears twice in this sale."),
    "service_unavailable": N_("A partner service is not answering. Please try again shortly."),
    "invalid_credentials": N_("The phone number or password is wrong."),
    "too_young": N_("giftcash is for people aged 14 or older. We cannot open an account for you."),
    "consent_required": N_(
        "Agree to the terms of service and the collection and use of personal information "
        "to go on; the optional ones you may leave."
    ),
    "phone_not_verified": N_("Confirm your phone number with the SMS code first."),
    "account_closed": N_(
        "This account was closed at your request. You can sign up again as a new customer "
        "once its records have been destroyed."
    ),
    "unauthorized": N_("Please sign in again."),
    "invalid_amount": N_("Enter the voucher's face value as a whole number."),
    "face_value_not_offered": N_("This brand is not sold at this amount."),
    "unknown_funding_source": N_("Choose how the voucher was paid for."),
    "not_found": N_("We could not find that."),
    "submission_not_found": N_("We could not find that sale."),
    "payout_not_found": N_("We could not find that payout."),
    "csrf": N_("This form has expired. Go back, reload the page and try again."),
    # a form's one-use token (form_tokens.py): each says that nothing was done
    "form_expired": N_(
        "This form has expired or was opened in another session. Nothing was done: "
        "reload the page and send it again."
    ),
    "idempotency_key_reused": N_(
        "This form was already sent with other values. Nothing more was done: "
        "reload the page to start again."
    ),
    "idempotency_key_in_use": N_(
        "This form is still being sent. Wait a moment, then reload the page."
    ),
    # pictures on the scan page (intake/scans.py)
    "no_images": N_("Choose at least one picture."),
    "too_many_images": N_("Send at most 5 pictures at once."),
    "image_too_large": N_("This picture is too large. Send a screenshot instead."),
    "image_too_many_pixels": N_("This picture has too many pixels. Send a screenshot instead."),
    "image_type_unsupported": N_("This file is not a PNG, JPEG or WebP picture."),
    "image_corrupt": N_("This picture is damaged or incomplete and cannot be read."),
    "no_barcode_found": N_(
        "We found no barcode or QR code in this picture. Send a sharper screenshot, or "
        "type the number on the sell form."
    ),
    "malformed_multipart": N_("The pictures could not be received. Please try again."),
    "brand_has_stock": N_(
        "This brand has vouchers in stock or reserved by orders: it cannot be switched to"
        " being redeemed until they are sold. Turn the brand off to stop buying it."
    ),
    # the console's resale prices (domain/resale.py parse_pricing)
    "invalid_resale_pricing": N_(
        "These resale prices cannot be saved: each band needs whole days left and a discount"
        " under 100%%, a band nearer expiry at least the discount of a longer one, and one"
        " band must start at or under the days below which nothing is sold."
    ),
    # buying (resale/buying.py, resale/orders.py)
    "out_of_stock": N_(
        "Not enough of these vouchers are left: someone else ordered them first. Nothing was "
        "ordered and nothing is charged. Choose a smaller quantity or another voucher."
    ),
    "not_for_sale": N_("This voucher is not on sale now. Nothing was ordered."),
    "identity_required": N_(
        "Buying needs identity verification (본인인증) first: a deposit is kept only from "
        "an account in your verified name."
    ),
    "virtual_account_pending": N_(
        "Your vouchers are held for you, but the bank has not issued the account to pay "
        "into yet. Press the button again in a moment: it finishes this same order."
    ),
    "resale_unavailable": N_("Buying is not available right now. Please try again later."),
    "order_not_found": N_("We could not find that order."),
    "order_expired": N_(
        "This order expired before the bank issued its account. Nothing is charged; order again."
    ),
    # the console's claims in review (resale/claim_review.py)
    "claim_not_found": N_("There is no such claim."),
    "claim_not_in_review": N_(
        "This claim is not waiting for an operator: the issuer's answer settled it when it"
        " was filed."
    ),
    # the buyer's guarantee (resale/claims.py, domain/claims.py)
    "claim_window_closed": N_(
        "The guarantee for this order has ended, so a code can no longer be reported."
    ),
    "not_delivered": N_("Only a delivered voucher can be reported."),
    "claim_issuer_unavailable": N_(
        "The issuer did not answer, so nothing was recorded. Press the button again in a moment."
    ),
    "unit_not_found": N_("We could not find that voucher in this order."),
}

# A buyer's limit (resale/buyers.py), by the refusal's ``code`` (domain/resale.py).
BUYER_LIMITS = {
    "buyer_daily_limit": N_(
        "This order would take you over today's buying limit. Nothing was ordered: choose "
        "a smaller quantity, or order tomorrow."
    ),
    "buyer_monthly_limit": N_(
        "This order would take you over this month's buying limit. Nothing was ordered: "
        "choose a smaller quantity."
    ),
}

ORDER_STATUS = {
    "awaiting_payment": N_("Waiting for your transfer"),
    "paid": N_("Paid, checking the vouchers"),
    "delivered": N_("Delivered"),
    "expired": N_("Expired unpaid"),
    "refunded": N_("Refunded"),
}

# A buyer's claim that a code does not work (domain/states.py ClaimStatus).
CLAIM_STATUS = {
    "refunded": N_("Refunded"),
    "refused": N_("Not refunded"),
    "review": N_("Under review"),
}

DEPOSIT_STATUS = {
    "received": N_("Received"),
    "matched": N_("Accepted as payment"),
    "returning": N_("Being returned to you"),
    "returned": N_("Returned to you"),
}

# Why a deposit goes back whole (domain/resale.py ReturnReason).
RETURN_REASONS = {
    "second_deposit": N_("The order was already paid; this was a second transfer."),
    "late": N_("It arrived after the payment deadline."),
    "wrong_amount": N_("The amount was not exactly the amount to pay."),
    "other_name": N_("It came from an account not in your verified name."),
    "not_delivered": N_(
        "We could not deliver the vouchers (they turned out to be used), so your payment "
        "is returned in full."
    ),
    "claim_refunded": N_(
        "You reported a code that did not work and it had been used before you received it, "
        "so your payment is returned in full."
    ),
}

FIELD_ERRORS = {
    ("invalid_input", "name"): N_("Enter your name as it appears on your bank account."),
    ("invalid_input", "birth_date"): N_("Enter your date of birth."),
    ("invalid_bank_account", "bank_code"): N_("Choose your bank."),
    ("invalid_input", "id_number"): N_("An ID card number has 12 or 13 digits."),
    ("invalid_input", "issue_date"): N_("Enter the issue date printed on the card."),
    ("invalid_input", "occupation"): N_("Answer each question in 1 to 100 characters."),
    ("invalid_input", "source_of_funds"): N_("Answer each question in 1 to 100 characters."),
    ("invalid_input", "purpose"): N_("Answer each question in 1 to 100 characters."),
    ("invalid_bank_account", "account_number"): N_("An account number has 10 to 16 digits."),
    ("invalid_credentials", "password"): N_("The password is not right."),
    ("too_many_attempts", "password"): N_(
        "Too many wrong passwords. Wait a few minutes, then try again."
    ),
    ("withdrawal_refused", "open_sales"): N_(
        "You have sales still in progress. They finish first (usually within minutes); "
        "then you can close your account."
    ),
    ("withdrawal_refused", "payouts_in_flight"): N_(
        "A payout to you is still on its way. Once it has arrived you can close your account."
    ),
    ("withdrawal_refused", "money_owed"): N_(
        "We still owe you money for a sale our staff must finish. Call customer support; "
        "once it is settled you can close your account."
    ),
    ("withdrawal_refused", "payment_stop"): N_(
        "A payment stop placed by a bank or investigators covers your account. It must be "
        "released or settled first; call customer support to learn whom to contact."
    ),
}

PIN_LABELS = {"PIN": N_("PIN"), "issue date (YYYYMMDD)": N_("issue date (YYYYMMDD)")}


def error_text(_: Tr, e: DomainError) -> str:
    if e.code == "bank_closed" and e.context.get("reopens_at"):
        opens = datetime.fromisoformat(str(e.context["reopens_at"]))
        return _(
            "Your bank is closed for maintenance. Please add the account after %(time)s.",
            time=_.fmt.clock(opens),
        )
    if e.code == "buyer_limit_exceeded":
        limit = BUYER_LIMITS.get(str(e.context.get("code")), BUYER_LIMITS["buyer_daily_limit"])
        return _(limit)
    field = e.context.get("field") or e.context.get("reason")
    if (e.code, field) in FIELD_ERRORS:
        return _(FIELD_ERRORS[(e.code, field)])
    if e.code in ERRORS:
        return _(ERRORS[e.code])
    return e.message


def decline_text(_: Tr, code: str | None, message: str | None) -> str:
    """The registry's text for the code, in the page's language (never the service's
    English message, which may carry internal detail)."""
    if not code:
        return message or ""
    return _(declines.describe(code).text)


def decline_routes(code: str | None) -> tuple[tuple[str, str], ...]:
    """The lawful routes of a decline in general words (title, text), for when its
    decision holds none computed for this voucher."""
    if not code:
        return ()
    return tuple(ROUTE_TEXTS[r] for r in declines.describe(code).routes)


def pin_label(_: Tr, brand: Brand) -> str:
    label = brand.code_format.pin_label
    return _(PIN_LABELS[label]) if label in PIN_LABELS else label


def format_problem(_: Tr, brand: Brand, code: str, pin: str | None) -> str | None:
    """Why a code (and PIN) does not fit the brand's format, or None when it fits. Names
    lengths and alphabets only: the code is never repeated back."""
    fmt = brand.code_format
    try:
        fmt.validate(code, pin)
    except InvalidFormat as e:
        reason = e.context.get("reason")
        if reason == "empty":
            return _("Enter the code.")
        if reason == "length":
            allowed = _(" or ").join(str(n) for n in _ranges(fmt.lengths))
            return _(
                "The code has %(n)s characters; %(brand)s codes have %(allowed)s.",
                n=len(normalise(code)),
                brand=_.brand(brand),
                allowed=allowed,
            )
        if reason == "alphabet":
            if fmt.alphabet.isdigit():
                return _("The code has only digits.")
            return _("The code has only letters and digits.")
        if reason == "prefix":
            return _("The code does not start the way %(brand)s codes start.", brand=_.brand(brand))
        if reason == "pin" and fmt.pin_length is not None:
            return _(
                "Enter the %(n)s-digit %(label)s.", n=fmt.pin_length, label=pin_label(_, brand)
            )
        if reason == "pin":
            return _("This brand's codes have no separate PIN.")
        return _(ERRORS["not_found"])
    return None


def _ranges(lengths: tuple[int, ...]) -> list[str]:
    """(12, 13, ..., 20) -> ["12–20"]; (16, 18) -> ["16", "18"]."""
    out: list[str] = []
    start = prev = lengths[0]
    for n in (*lengths[1:], None):
        if n is not None and n == prev + 1:
            prev = n
            continue
        out.append(str(start) if start == prev else f"{start}–{prev}")
        if n is not None:
            start = prev = n
    return out


def format_hint(_: Tr, brand: Brand) -> str:
    """The brand's code format in the page's language, e.g. "16 digits, starting 416…"."""
    fmt = brand.code_format
    lengths = _(" or ").join(_ranges(fmt.lengths))
    if fmt.alphabet.isdigit():
        text = _("%(lengths)s digits", lengths=lengths)
    else:
        text = _("%(lengths)s letters and digits", lengths=lengths)
    if fmt.groups:
        text += " (" + "-".join(str(g) for g in fmt.groups) + ")"
    if fmt.prefixes:
        text += _(", starting %(prefixes)s", prefixes=", ".join(_prefix_ranges(fmt.prefixes)))
    if fmt.pin_length is not None:
        text += _(", plus the %(n)s-digit %(label)s", n=fmt.pin_length, label=pin_label(_, brand))
    return text


def _prefix_ranges(prefixes: tuple[str, ...]) -> list[str]:
    """("416", "4180", "311", ..., "319") -> ["416", "4180", "311–319"]."""
    out: list[str] = []
    for p in prefixes:
        last = out[-1] if out else ""
        head = last.split("–")[0]
        if (
            head
            and len(head) == len(p)
            and head[:-1] == p[:-1]
            and (last.split("–")[-1][-1:] or "x") == chr(ord(p[-1]) - 1)
        ):
            out[-1] = f"{head}–{p}"
        else:
            out.append(p)
    return out


@dataclass(frozen=True, slots=True)
class RouteView:
    """One lawful route as a page shows it, from a quote's ``advisor.Route`` or from the
    route dicts an item's policy decision keeps."""

    route: str
    cash: int
    currency: str
    note: str
    value: int
    deadline: datetime | None
    opens_at: datetime | None


def route_views(routes: Iterable[Any]) -> list[RouteView]:
    out = []
    for r in routes:
        get = r.get if isinstance(r, dict) else (lambda k, d=None, r=r: getattr(r, k, d))
        out.append(
            RouteView(
                route=get("route"),
                cash=get("cash", 0) or 0,
                currency=get("currency", DEFAULT_CURRENCY),
                note=get("note", "") or "",
                value=get("value", None) or get("cash", 0) or 0,
                deadline=_moment(get("deadline")),
                opens_at=_moment(get("opens_at")),
            )
        )
    return out


def _moment(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def item_routes(decision: dict[str, Any] | None, decline_code: str | None) -> list[RouteView]:
    """The routes the policy gave a declined item, those its code's registry entry lists
    (none for a code that is simply bad)."""
    if not decision or not decline_code:
        return []
    lawful = declines.describe(decline_code).routes
    return route_views(r for r in decision.get("routes") or [] if r.get("route") in lawful)


def review_text(_: Tr, item: Any) -> str:
    """Why an item waits for a person; the policy keeps its code with the decision (and as
    the "code: message" review reason)."""
    code = (item.decision or {}).get("code") or (item.review_reason or "").partition(":")[0]
    entry = declines.REGISTRY.get(code)
    if entry is None or entry.end_state is not declines.EndState.REVIEW:
        entry = declines.OPERATOR_REVIEW
    return _(entry.text)


def note_text(_: Tr, note: str | None) -> str | None:
    if not note:
        return None
    if note == ROUTES_NOTE_NO_PURCHASE_DATE or note == SCAM_WARNING:
        return _(note)
    return note if _.lang == "en" else None


# -- banks' hours and the issuer's answers ---------------------------------------------------


def bank_wait_text(_: Tr, opens: datetime, now: datetime) -> str:
    """The expected payout time while the customer's bank is closed (점검 시간): the time
    alone within a day, the date too beyond it."""
    when = _.fmt.clock(opens)
    if opens - now >= timedelta(hours=24):
        when = f"{_.fmt.date(opens)} {when}"
    return _("Your bank is closed for maintenance; paid after %(time)s", time=when)


def evidence_text(_: Tr, e: IssuerEvidence) -> str:
    """One answer of the issuer, in words, with the issuer's own time where it gave one."""
    asked = {"date": _.fmt.date(e.answered_at), "time": _.fmt.clock(e.answered_at, seconds=True)}
    if e.outcome in ("used", "already_redeemed"):
        if e.used_at is not None:
            return _(
                "Already used at %(time)s on %(date)s, per the issuer",
                date=_.fmt.date(e.used_at),
                time=_.fmt.clock(e.used_at, seconds=True),
            )
        return _("The issuer said it was already used (asked at %(time)s on %(date)s)", **asked)
    if e.outcome == "captured":
        at = e.used_at or e.answered_at
        moment = {"date": _.fmt.date(at), "time": _.fmt.clock(at, seconds=True)}
        if e.issuer_ref:
            return _(
                "Redeemed at the issuer at %(time)s on %(date)s (issuer reference %(ref)s)",
                ref=e.issuer_ref,
                **moment,
            )
        return _("Redeemed at the issuer at %(time)s on %(date)s", **moment)
    if e.outcome == "active":
        return _("The issuer confirmed it unused at %(time)s on %(date)s", **asked)
    if e.outcome == "expired":
        return _("The issuer said it had expired (asked at %(time)s on %(date)s)", **asked)
    return _("The issuer did not find this code (asked at %(time)s on %(date)s)", **asked)

"""Operating errors of the use cases (stable codes; mapped once per entry point)."""

from __future__ import annotations

from giftcash.domain.errors import DomainError


class NotFound(DomainError):
    code = "not_found"
    kind = "not_found"


class BankAccountNotFound(NotFound):
    code = "bank_account_not_found"


class SubmissionNotFound(NotFound):
    code = "submission_not_found"


class PayoutNotFound(NotFound):
    code = "payout_not_found"


class Unauthorized(DomainError):
    code = "unauthorized"
    kind = "unauthorized"


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"


class Forbidden(DomainError):
    code = "forbidden"
    kind = "forbidden"


class PhoneNotVerified(Forbidden):
    code = "phone_not_verified"


class InvalidPhone(DomainError):
    code = "invalid_phone"


class InvalidInput(DomainError):
    code = "invalid_input"


class TooYoung(DomainError):
    """Sign-up below the minimum age (개인정보 보호법 §22-2: a child under 14 needs a
    guardian's consent, which giftcash does not take)."""

    code = "too_young"


class ConsentRequired(DomainError):
    code = "consent_required"


class WeakPassword(DomainError):
    code = "weak_password"


class PhoneTaken(DomainError):
    code = "phone_taken"
    kind = "conflict"


class InvalidCode(DomainError):
    code = "invalid_code"


class CodeExpired(DomainError):
    code = "code_expired"


class TooManyAttempts(DomainError):
    code = "too_many_attempts"
    kind = "rate_limited"


class RateLimited(DomainError):
    """A bound on calls that cost money or trust (abuse/bounds.py) is reached; the
    context carries ``retry_after_s`` (the API's ``Retry-After``)."""

    code = "rate_limited"
    kind = "rate_limited"


class TooManyBankAccounts(DomainError):
    code = "too_many_bank_accounts"
    kind = "conflict"


class HolderNameMismatch(DomainError):
    code = "holder_name_mismatch"


class BankAccountUnknownAtBank(DomainError):
    code = "bank_account_unknown"


class BankAccountNotVerified(DomainError):
    code = "bank_account_not_verified"
    kind = "conflict"


class BankAccountStillPays(DomainError):
    code = "bank_account_still_pays"
    kind = "conflict"


class TooManyItems(DomainError):
    code = "too_many_items"


class QuoteChanged(DomainError):
    """The rate changed between the price the customer confirmed and the submit: nothing
    is stored; the customer sees the new price and confirms again."""

    code = "quote_changed"
    kind = "conflict"


class DuplicateInRequest(DomainError):
    code = "duplicate_in_request"


class ServiceUnavailable(DomainError):
    code = "service_unavailable"
    kind = "unavailable"


class BankClosedNow(DomainError):
    """The bank is in its nightly window or announced maintenance (점검 시간): a 1-won
    deposit now would be refused and the account fail. ``reopens_at``: when to try again."""

    code = "bank_closed"
    kind = "unavailable"


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    kind = "conflict"


class IdempotencyKeyInUse(DomainError):
    code = "idempotency_key_in_use"
    kind = "conflict"


class FormExpired(DomainError):
    """A web form's one-use token is past its time, made for another session, or not one
    of ours: nothing is done."""

    code = "form_expired"
    kind = "conflict"


class CustomerBlocked(Forbidden):
    """An operator blocked this customer or the device the request came from: no sign-in
    and no sale until an operator lifts it."""

    code = "customer_blocked"


class IdentityAlreadyRegistered(DomainError):
    """The verified person has a customer already (one person, one customer): the
    context carries that account's ``masked_phone`` so the person can sign in there."""

    code = "identity_already_registered"
    kind = "conflict"


class IdentityPending(DomainError):
    """The person has not confirmed the request on their phone yet."""

    code = "identity_pending"
    kind = "conflict"


class IdentityFailed(DomainError):
    """The verification was refused on the phone, expired, or never started: start again."""

    code = "identity_failed"


class IdentityNotConfigured(DomainError):
    """No identity provider is configured here (sign-up proves the phone by SMS)."""

    code = "identity_not_configured"
    kind = "not_found"


class AccountClosed(Forbidden):
    """The customer withdrew (탈퇴): no sign-in; the phone signs up again once the
    retention schedule has pseudonymised the old account (domain/retention.py)."""

    code = "account_closed"


class WithdrawalRefused(DomainError):
    """Withdrawal while sales or payouts are open: they finish first, so nothing owed is
    dropped; or while a payment stop covers the customer. ``reason``: open_sales |
    payouts_in_flight | money_owed | payment_stop."""

    code = "withdrawal_refused"
    kind = "conflict"

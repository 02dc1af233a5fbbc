"""What the bounds on foreign calls count and how far (abuse/bounds.py does the
counting): the kinds of bounded call, the providers their breakers guard, the limits as
settings (``Bounds``) and where bounds report to. Data only, so that the settings and the
composition root can name it without the counting's imports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

SMS = "sms"
REAL_NAME = "real_name"
DEPOSIT = "deposit"
ISSUER_INVALID = "issuer_invalid"
WEBHOOK = "webhook"
IDENTITY = "identity"  # a verification asked of the identity provider (본인인증, paid)
# Events rather than calls, kept beside them: a failed account verification (for the
# retry cool-down) and a failed sign-in per phone (whether or not the phone is ours).
ACCOUNT_FAILED = "account_failed"
BAD_LOGIN = "bad_login"

PROVIDERS: dict[str, tuple[str, ...]] = {
    "sms": (SMS,),
    "bank": (REAL_NAME, DEPOSIT),
    "issuer": (ISSUER_INVALID,),
    "identity": (IDENTITY,),
}
PROVIDER_OF = {kind: p for p, kinds in PROVIDERS.items() for kind in kinds}


@dataclass(frozen=True)
class Bounds:
    """Limits per window; settings (``GIFTCASH_BOUNDS`` as JSON, any subset of fields)."""

    # SMS: sign-up codes and the notice to a registered phone. The range is the first
    # ``sms_range_digits`` digits (010-1234-…): pumping walks through one range.
    sms_window_s: int = 3600
    sms_per_address: int = 30
    sms_per_phone: int = 5
    sms_per_range: int = 200  # 10,000 numbers; legitimate sign-ups rarely share one
    sms_range_digits: int = 7
    sms_total: int = 5000
    # The bank: real-name inquiries and 1-won deposits, per day.
    bank_window_s: int = 86400
    # An address can be a carrier's NAT shared by many customers: generous, it only slows.
    real_name_per_address: int = 150
    real_name_per_customer: int = 10
    real_name_total: int = 20000
    deposits_per_address: int = 100
    deposits_per_customer: int = 5
    deposits_per_account: int = 2  # one account number, whoever adds it
    deposits_total: int = 10000
    # Accounts a customer may have verified or being verified at once.
    bank_accounts_per_customer: int = 5
    # An account number whose verification failed cannot be added again before this.
    account_retry_cooldown_s: int = 3600
    # Issuer inquiries that found the code unknown, used or expired.
    invalid_codes_window_s: int = 3600
    invalid_codes_per_customer: int = 10
    # Webhook deliveries per endpoint (the rest wait in the outbox).
    webhook_window_s: int = 60
    webhooks_per_endpoint: int = 60
    # Identity verifications (본인인증) asked, per hour: each costs money and puts a
    # request on someone's phone.
    identity_window_s: int = 3600
    identity_per_address: int = 30
    identity_per_phone: int = 5
    identity_total: int = 5000
    # Circuit breakers: calls per provider in the window that trip it, and the cool-down.
    breaker_window_s: int = 60
    sms_breaker_burst: int = 600
    bank_breaker_burst: int = 600
    issuer_breaker_burst: int = 600
    identity_breaker_burst: int = 600
    breaker_cooldown_s: int = 300

    def limits(self, kind: str) -> tuple[int, tuple[tuple[str | None, int], ...]]:
        """The window and the (key, most calls) of ``kind``; key None: everyone."""
        b = self
        table: dict[str, tuple[int, tuple[tuple[str | None, int], ...]]] = {
            SMS: (
                b.sms_window_s,
                (
                    ("address", b.sms_per_address),
                    ("person", b.sms_per_phone),
                    ("range_key", b.sms_per_range),
                    (None, b.sms_total),
                ),
            ),
            REAL_NAME: (
                b.bank_window_s,
                (
                    ("address", b.real_name_per_address),
                    ("person", b.real_name_per_customer),
                    (None, b.real_name_total),
                ),
            ),
            DEPOSIT: (
                b.bank_window_s,
                (
                    ("address", b.deposits_per_address),
                    ("person", b.deposits_per_customer),
                    ("account", b.deposits_per_account),
                    (None, b.deposits_total),
                ),
            ),
            ISSUER_INVALID: (b.invalid_codes_window_s, (("person", b.invalid_codes_per_customer),)),
            WEBHOOK: (b.webhook_window_s, (("account", b.webhooks_per_endpoint),)),
            ACCOUNT_FAILED: (b.account_retry_cooldown_s, (("account", 1),)),
            IDENTITY: (
                b.identity_window_s,
                (
                    ("address", b.identity_per_address),
                    ("person", b.identity_per_phone),
                    (None, b.identity_total),
                ),
            ),
        }
        return table.get(kind, (0, ()))

    def burst(self, provider: str) -> int:
        return {
            "sms": self.sms_breaker_burst,
            "bank": self.bank_breaker_burst,
            "issuer": self.issuer_breaker_burst,
            "identity": self.identity_breaker_burst,
        }[provider]


class BoundEvents(Protocol):
    """Where bounds report to (the metrics adapter; bootstrap wires it)."""

    def recorded(self, kind: str) -> None: ...
    def refused(self, kind: str, scope: str) -> None: ...
    def tripped(self, provider: str) -> None: ...


class NoEvents:
    def recorded(self, kind: str) -> None:
        pass

    def refused(self, kind: str, scope: str) -> None:
        pass

    def tripped(self, provider: str) -> None:
        pass

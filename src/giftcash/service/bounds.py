"""Bounds on the foreign calls that cost money or trust (OWASP OAT-019 account creation,
OAT-020 account aggregation, OAT-001 carding; SMS pumping).

Each SMS, real-name inquiry, 1-won deposit, issuer inquiry that found an unknown code and
webhook delivery is one row of ``bounded_calls``, written in the transaction that records
the call's intent, before the call, after its bounds were counted in that same
transaction (``charge``). A call is counted by the client address it came from, by the
person (customer, or a phone's keyed hash), by a phone's number range, by the account
(an account number's hash, a webhook endpoint) and over everyone; each count has a limit
in a window (``Bounds``, settings). Past a limit the call is refused with
``RateLimited`` (429 and how many seconds to wait), or, in the worker, the work waits.

Who can be refused: bounds keyed on something shared (an address behind a carrier's NAT)
only slow sign-ups, account checks and webhooks; nothing here declines a voucher. The
issuer's bound holds the items of the customer who sent the unknown codes (it never
declines them) and the webhooks' bound queues deliveries.

A circuit breaker per provider (sms, bank, issuer) trips when its calls in a short window
pass a burst far above normal; it then refuses that provider's bounded calls for a
cool-down, and the trip is one ``breaker_trips`` row and one audit record (pages an
operator) and a metric.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from giftcash.service import audit, errors

if TYPE_CHECKING:
    from giftcash.service.deps import Deps
    from giftcash.service.ports.uow import UnitOfWork

SMS = "sms"
REAL_NAME = "real_name"
DEPOSIT = "deposit"
ISSUER_INVALID = "issuer_invalid"
WEBHOOK = "webhook"
# Events rather than calls, kept beside them: a failed account verification (for the
# retry cool-down) and a failed sign-in per phone (whether or not the phone is ours).
ACCOUNT_FAILED = "account_failed"
BAD_LOGIN = "bad_login"

PROVIDERS: dict[str, tuple[str, ...]] = {
    "sms": (SMS,),
    "bank": (REAL_NAME, DEPOSIT),
    "issuer": (ISSUER_INVALID,),
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
    # Circuit breakers: calls per provider in the window that trip it, and the cool-down.
    breaker_window_s: int = 60
    sms_breaker_burst: int = 600
    bank_breaker_burst: int = 600
    issuer_breaker_burst: int = 600
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
        }
        return table.get(kind, (0, ()))

    def burst(self, provider: str) -> int:
        return {
            "sms": self.sms_breaker_burst,
            "bank": self.bank_breaker_burst,
            "issuer": self.issuer_breaker_burst,
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


@dataclass(frozen=True, slots=True)
class Call:
    """One bounded call and what it is counted by (None: that bound does not apply)."""

    kind: str
    address: str | None = None
    person: str | None = None
    range_key: str | None = None
    account: str | None = None

    def keys(self) -> dict[str, str | None]:
        return {
            "address": self.address,
            "person": self.person,
            "range_key": self.range_key,
            "account": self.account,
        }


def phone_key(deps: Deps, phone: str) -> str:
    """A phone as a bound counts it: a keyed hash, so a stranger's number is not stored."""
    return deps.vault.hmac(f"phone:{phone}")


def phone_range(deps: Deps, phone: str) -> str:
    return phone[: deps.bounds.sms_range_digits]


def charge(uow: UnitOfWork, deps: Deps, call: Call, now: datetime) -> str:
    """Check every bound of ``call`` and record it, in ``uow``'s transaction; the id of
    the recorded call (the foreign call's idempotency key where it has none of its own).

    Call it before the unit of work's other writes: when the call trips its provider's
    breaker, the trip and its audit record are committed before ``RateLimited`` is
    raised (the caller's block then rolls back nothing of its own)."""
    check(uow, deps, call, now)
    return record(uow, deps, call, now)


def check(uow: UnitOfWork, deps: Deps, call: Call, now: datetime) -> None:
    provider = PROVIDER_OF.get(call.kind)
    uow.bounded.lock([call.kind])
    if provider is not None:
        _check_breaker(uow, deps, provider, now)
    hit = _first_over(uow, deps, call, now)
    if hit is not None:
        key, wait_s = hit
        deps.bound_events.refused(call.kind, key or "total")
        raise errors.RateLimited(
            f"too many {_NOUNS.get(call.kind, call.kind)} {_SCOPES[key]}; "
            f"try again in {wait_s} seconds",
            retry_after_s=wait_s,
            reason=f"{call.kind}:{key or 'total'}",
        )


def _first_over(
    uow: UnitOfWork, deps: Deps, call: Call, now: datetime
) -> tuple[str | None, int] | None:
    """The first bound ``call`` would pass, and the seconds until it would not."""
    window_s, limits = deps.bounds.limits(call.kind)
    since = now - timedelta(seconds=window_s)
    keys = call.keys()
    for key, most in limits:
        value = keys[key] if key is not None else ""
        if value is None:
            continue
        used = uow.bounded.count([call.kind], since, key, value)
        if used >= most:
            oldest = uow.bounded.nth_oldest([call.kind], since, key, value, used - most)
            return key, _seconds_until(oldest + timedelta(seconds=window_s), now) if oldest else 1
    return None


def record(uow: UnitOfWork, deps: Deps, call: Call, now: datetime) -> str:
    call_id = deps.new_id()
    uow.bounded.add(call_id, call.kind, now, **call.keys())
    deps.bound_events.recorded(call.kind)
    return call_id


def record_many(uow: UnitOfWork, deps: Deps, calls: Sequence[Call], now: datetime) -> None:
    """Record calls already made (the issuer's unknown codes) and trip the breaker of
    their provider if they passed its burst."""
    for call in calls:
        record(uow, deps, call, now)
    for provider in {PROVIDER_OF[c.kind] for c in calls if c.kind in PROVIDER_OF}:
        if uow.bounded.tripped_until(provider, now) is None:
            used = _provider_calls(uow, deps, provider, now)
            if used > deps.bounds.burst(provider):
                _trip(uow, deps, provider, now, used)


def over(uow: UnitOfWork, deps: Deps, call: Call, now: datetime) -> int:
    """Seconds until ``call`` would pass its bounds and its provider's breaker (0: now);
    records nothing (for work that waits rather than being refused)."""
    provider = PROVIDER_OF.get(call.kind)
    if provider is not None:
        until = uow.bounded.tripped_until(provider, now)
        if until is not None:
            return _seconds_until(until, now)
    hit = _first_over(uow, deps, call, now)
    return hit[1] if hit is not None else 0


def invalid_codes_hold_s(uow: UnitOfWork, deps: Deps, customer_id: str, now: datetime) -> int:
    """Seconds the items of ``customer_id`` wait before the issuer is asked about them:
    while the customer is over the bound of unknown codes, or while the issuer's breaker
    is tripped and the customer sent an unknown code in the window. A customer who sent
    none is not held by someone else's carding."""
    call = Call(ISSUER_INVALID, person=customer_id)
    wait_s = over(uow, deps, call, now)
    if wait_s and uow.bounded.tripped_until("issuer", now) is not None:
        since = now - timedelta(seconds=deps.bounds.invalid_codes_window_s)
        if uow.bounded.count([ISSUER_INVALID], since, "person", customer_id) == 0:
            return 0
    if wait_s:
        deps.bound_events.refused(ISSUER_INVALID, "person")
    return wait_s


def _provider_calls(uow: UnitOfWork, deps: Deps, provider: str, now: datetime) -> int:
    since = now - timedelta(seconds=deps.bounds.breaker_window_s)
    return int(uow.bounded.count(PROVIDERS[provider], since, None, ""))


def _check_breaker(uow: UnitOfWork, deps: Deps, provider: str, now: datetime) -> None:
    until = uow.bounded.tripped_until(provider, now)
    if until is None:
        used = _provider_calls(uow, deps, provider, now)
        if used < deps.bounds.burst(provider):
            return
        until = _trip(uow, deps, provider, now, used)
        uow.commit()  # the trip is kept although this call is refused
    wait_s = _seconds_until(until, now)
    deps.bound_events.refused(provider, "breaker")
    raise errors.RateLimited(
        f"the {provider} service is paused after a burst of requests; "
        f"try again in {wait_s} seconds",
        retry_after_s=wait_s,
        reason=f"{provider}:breaker",
    )


def _trip(uow: UnitOfWork, deps: Deps, provider: str, now: datetime, used: int) -> datetime:
    until = now + timedelta(seconds=deps.bounds.breaker_cooldown_s)
    trip_id = deps.new_id()
    uow.bounded.trip(trip_id, provider, now, until, used)
    audit.record(
        uow,
        "system:bounds",
        "breaker.tripped",
        f"provider:{provider}",
        {
            "calls": used,
            "window_s": deps.bounds.breaker_window_s,
            "burst": deps.bounds.burst(provider),
            "until": until.isoformat(),
        },
        at=now,
        id=trip_id,
    )
    deps.bound_events.tripped(provider)
    return until


def _seconds_until(then: datetime, now: datetime) -> int:
    return max(1, math.ceil((then - now).total_seconds()))


_NOUNS = {
    SMS: "text messages",
    REAL_NAME: "account checks",
    DEPOSIT: "1-won deposits",
    ISSUER_INVALID: "unknown voucher codes",
    WEBHOOK: "webhook deliveries",
    ACCOUNT_FAILED: "attempts for this account after a failed verification",
}
_SCOPES: dict[str | None, str] = {
    "address": "from this address",
    "person": "for this customer or phone",
    "range_key": "to this number range",
    "account": "for this account",
    None: "right now",
}

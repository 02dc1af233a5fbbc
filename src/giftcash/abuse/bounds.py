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
from typing import TYPE_CHECKING

from giftcash.audit import log as audit
from giftcash.service import errors

# named as bounds.X by their callers: explicit re-exports
from giftcash.service.bound_limits import (
    ACCOUNT_FAILED as ACCOUNT_FAILED,
)
from giftcash.service.bound_limits import (
    BAD_LOGIN as BAD_LOGIN,
)
from giftcash.service.bound_limits import (
    DEPOSIT as DEPOSIT,
)
from giftcash.service.bound_limits import (
    IDENTITY as IDENTITY,
)
from giftcash.service.bound_limits import (
    ISSUER_INVALID as ISSUER_INVALID,
)
from giftcash.service.bound_limits import (
    PROVIDER_OF as PROVIDER_OF,
)
from giftcash.service.bound_limits import (
    PROVIDERS as PROVIDERS,
)
from giftcash.service.bound_limits import (
    REAL_NAME as REAL_NAME,
)
from giftcash.service.bound_limits import (
    SMS as SMS,
)
from giftcash.service.bound_limits import (
    WEBHOOK as WEBHOOK,
)
from giftcash.service.bound_limits import (
    BoundEvents as BoundEvents,
)
from giftcash.service.bound_limits import (
    Bounds as Bounds,
)
from giftcash.service.bound_limits import (
    NoEvents as NoEvents,
)

if TYPE_CHECKING:
    from giftcash.service.deps import Deps
    from giftcash.service.ports.uow import UnitOfWork


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
    IDENTITY: "identity verifications",
    ACCOUNT_FAILED: "attempts for this account after a failed verification",
}
_SCOPES: dict[str | None, str] = {
    "address": "from this address",
    "person": "for this customer or phone",
    "range_key": "to this number range",
    "account": "for this account",
    None: "right now",
}

"""Sign-up with SMS verification, tokens, authentication."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from giftcash.domain.records import Customer
from giftcash.service import blocks, errors
from giftcash.service.deps import Deps
from giftcash.service.ports import Unavailable
from giftcash.service.secrets import code_hash, new_token, numeric_code, same_hash, token_hash

_PHONE = re.compile(r"^01[016789]\d{7,8}$")


def normalise_phone(phone: str) -> str:
    digits = re.sub(r"[\s\-()]", "", phone)
    if digits.startswith("+82"):
        digits = "0" + digits[3:]
    if not _PHONE.match(digits):
        raise errors.InvalidPhone("a Korean mobile number such as 010-1234-5678 is needed")
    return digits


def _check_signup(name: str, birth_date: date, password: str, today: date) -> str:
    name = " ".join(name.split())
    if not (1 <= len(name) <= 50):
        raise errors.InvalidInput("the name must have 1 to 50 characters", field="name")
    age_days = (today - birth_date).days
    if age_days < 14 * 365 or birth_date.year < 1900:
        raise errors.InvalidInput("the birth date is not plausible", field="birth_date")
    if len(password) < 10 or len(password) > 200:
        raise errors.WeakPassword("the password must have 10 to 200 characters")
    return name


def signup(deps: Deps, *, phone: str, name: str, birth_date: date, password: str) -> str:
    """Create (or refresh an unverified) customer and text a 6-digit code."""
    now = deps.clock.now()
    phone = normalise_phone(phone)
    name = _check_signup(name, birth_date, password, now.date())
    password_hash = deps.passwords.hash(password)
    with deps.uow() as uow:
        existing = uow.customers.by_phone(phone)
        if existing is not None and existing.verified:
            raise errors.PhoneTaken("this phone number already has an account")
        if existing is None:
            customer_id = deps.new_id()
            uow.customers.add(customer_id, phone, name, birth_date, password_hash, now)
        else:
            customer_id = existing.id
            uow.customers.update_unverified(customer_id, name, birth_date, password_hash)
        code = numeric_code(6)
        challenge_id = deps.new_id()
        uow.challenges.add(
            challenge_id,
            phone,
            "signup",
            code_hash(challenge_id, code),
            now + timedelta(seconds=deps.limits.sms_code_ttl_s),
            now,
        )
        uow.commit()
    try:
        deps.sms.send(phone, f"[giftcash] 인증번호 {code} (code {code})", key=challenge_id)
    except Unavailable:
        raise errors.ServiceUnavailable("the SMS could not be sent; try again") from None
    return customer_id


def verify_phone(deps: Deps, *, phone: str, code: str, device_key: str | None = None) -> None:
    """``device_key``: the client address the attempt came from (failures count by it)."""
    now = deps.clock.now()
    phone = normalise_phone(phone)
    with deps.uow() as uow:
        challenge = uow.challenges.latest(phone, "signup")
        if challenge is None or challenge.used_at is not None:
            raise errors.InvalidCode("no code is waiting for this phone; sign up again")
        customer = uow.customers.by_phone(phone)
        assert customer is not None  # sign-up makes the customer with the challenge
        _refuse_while_locked(uow, deps, BAD_SMS_CODE, customer.id, device_key, now)
        if challenge.attempts >= deps.limits.sms_code_attempts:
            raise errors.TooManyAttempts("too many wrong codes; sign up again for a new one")
        if challenge.expires_at <= now:
            raise errors.CodeExpired("the code has expired; sign up again for a new one")
        if not same_hash(challenge.code_hash, code_hash(challenge.id, code.strip())):
            uow.challenges.count_attempt(challenge.id)
            uow.failures.add(BAD_SMS_CODE, now, customer_id=customer.id, device_key=device_key)
            uow.commit()
            raise errors.InvalidCode("the code is not right")
        uow.challenges.use(challenge.id, now)
        uow.customers.mark_verified(customer.id, now)
        uow.commit()


# Failed attempts by kind (``failed_attempts``; the policy's brute-force guard counts them
# all, per customer and per device or address).
BAD_LOGIN = "bad_login"
BAD_SMS_CODE = "bad_sms_code"


def _refuse_while_locked(
    uow: Any, deps: Deps, kind: str, customer_id: str | None, device_key: str | None, now: datetime
) -> None:
    """``too_many_attempts`` while this phone's customer, or this address, has failed
    ``kind`` too often in the window, whether or not this attempt would succeed. A burst
    of simultaneous attempts can pass the limit by the number in flight."""
    lim = deps.limits
    since = now - timedelta(seconds=lim.failure_window_s)
    per_phone = lim.login_max_failures if kind == BAD_LOGIN else lim.sms_max_failures
    minutes = lim.failure_window_s // 60
    if customer_id is not None and (
        uow.failures.count(since=since, customer_id=customer_id, kinds=(kind,)) >= per_phone
    ):
        raise errors.TooManyAttempts(
            f"too many failed attempts for this phone; try again in {minutes} minutes"
        )
    if device_key is not None and (
        uow.failures.count(since=since, device_key=device_key, kinds=(kind,)) >= lim.ip_max_failures
    ):
        raise errors.TooManyAttempts(
            f"too many failed attempts from this address; try again in {minutes} minutes"
        )


def issue_token(deps: Deps, *, phone: str, password: str, device_key: str | None = None) -> str:
    """``device_key``: the client address the attempt came from (failures count by it)."""
    now = deps.clock.now()
    try:
        phone = normalise_phone(phone)
    except errors.InvalidPhone:
        phone = ""
    with deps.uow() as uow:
        customer = uow.customers.by_phone(phone) if phone else None
        customer_id = customer.id if customer is not None else None
        _refuse_while_locked(uow, deps, BAD_LOGIN, customer_id, device_key, now)
        if customer is None or not deps.passwords.verify(customer.password_hash, password):
            uow.failures.add(BAD_LOGIN, now, customer_id=customer_id, device_key=device_key)
            uow.commit()
            raise errors.InvalidCredentials("phone or password is wrong")
        if not customer.verified:
            raise errors.PhoneNotVerified("verify your phone number first")
        blocks.refuse_if_blocked(uow, customer.id, device_key)
        token = new_token()
        uow.tokens.add(
            token_hash(token),
            "customer",
            customer.id,
            now + timedelta(seconds=deps.limits.token_ttl_s),
            now,
        )
        uow.commit()
    return token


def authenticate(deps: Deps, token: str, subject_type: str = "customer") -> str:
    now = deps.clock.now()
    with deps.reader() as uow:
        row = uow.tokens.get(token_hash(token))
    if row is None or row.subject_type != subject_type or row.expires_at <= now:
        raise errors.Unauthorized("the access token is missing, unknown or expired")
    return row.subject_id


def get_customer(deps: Deps, customer_id: str) -> Customer:
    with deps.reader() as uow:
        customer = uow.customers.get(customer_id)
    if customer is None:
        raise errors.Unauthorized("unknown customer")
    return customer

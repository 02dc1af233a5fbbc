"""Sign-up (an SMS code, or identity verification where a provider is configured),
tokens, authentication."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta

from giftcash.abuse import bounds
from giftcash.domain.ages import MIN_AGE_YEARS as MIN_AGE_YEARS
from giftcash.domain.ages import age_years as age_years
from giftcash.domain.records import Customer
from giftcash.identity import blocks, consents, sessions, verification
from giftcash.identity.secrets import code_hash, new_token, numeric_code, same_hash, token_hash
from giftcash.service import errors
from giftcash.service.deps import Deps
from giftcash.service.ports import Unavailable
from giftcash.service.ports.uow import UnitOfWork

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
    if birth_date.year < 1900 or birth_date > today:
        raise errors.InvalidInput("the birth date is not plausible", field="birth_date")
    if age_years(birth_date, today) < MIN_AGE_YEARS:
        raise errors.TooYoung(
            f"giftcash is for people {MIN_AGE_YEARS} or older", field="birth_date"
        )
    if len(password) < 10 or len(password) > 200:
        raise errors.WeakPassword("the password must have 10 to 200 characters")
    return name


# What a registered phone receives when someone signs up with it: the answer to the
# requester is the one a new number gets (no account is revealed), so the phone's owner
# is told here, in one language (Korean), with no code in it.
SIGNUP_NOTICE = (
    "[giftcash] 이 번호로 회원가입 시도가 있었습니다. 이미 가입된 번호이니 로그인해 주세요. "
    "본인이 시도하지 않았다면 이 문자는 무시하셔도 됩니다."
)


def withdrawn_notice(keep_days: int) -> str:
    """What a withdrawn account's phone receives when someone signs up with it: the phone
    stays with the withdrawn account until the retention schedule pseudonymises it
    (privacy/withdrawal.py)."""
    return (
        "[giftcash] 이 번호는 탈퇴한 계정에 연결되어 있어 지금은 가입할 수 없습니다. "
        f"탈퇴 후 {keep_days}일이 지나면 신규 회원으로 다시 가입할 수 있습니다."
    )


def _notice_for(deps: Deps, existing: Customer) -> str:
    return (
        SIGNUP_NOTICE
        if existing.status == "active"
        else withdrawn_notice(deps.retention.personal_keep_days)
    )


def signup_text(code: str) -> str:
    return f"[giftcash] 인증번호 [{code}]를 입력해 주세요. 5분 안에 입력해야 합니다."


def signup(
    deps: Deps,
    *,
    phone: str,
    name: str,
    birth_date: date,
    password: str,
    device_key: str | None = None,
    consent_answers: Mapping[str, bool] | None = None,
) -> str:
    """Create (or make anew an unverified) customer and text a 6-digit code.

    A phone that already has an account gets the same answer (a new-looking customer id,
    a code "sent"), and its owner a text saying someone tried, not a code: sign-up must
    not tell anyone which numbers are registered (OWASP OAT-019/OAT-007). The SMS is
    bounded per address, phone, number range and overall (abuse/bounds.py), checked and
    recorded with the challenge, before the SMS is sent. ``device_key``: the client
    address. ``consent_answers``: the sign-up form's consents by document id (None: the
    API's sign-up, whose client shows its own terms); a new customer's are stored."""
    now = deps.clock.now()
    phone = normalise_phone(phone)
    name = _check_signup(name, birth_date, password, now.date())
    if consent_answers is not None:
        consents.check_answers(consent_answers, consents.DOCUMENTS)
    password_hash = deps.passwords.hash(password)
    if deps.identity is not None:
        # the person confirms on their phone; the verified name and birth date replace
        # the typed ones (identity/verification.py)
        answers = dict(consent_answers) if consent_answers is not None else None
        return verification.start_signup(
            deps,
            phone=phone,
            password_hash=password_hash,
            consent_answers=answers,
            device_key=device_key,
        )
    sms = bounds.Call(
        bounds.SMS,
        address=device_key,
        person=bounds.phone_key(deps, phone),
        range_key=bounds.phone_range(deps, phone),
    )
    with deps.uow() as uow:
        sms_id = bounds.charge(uow, deps, sms, now)
        existing = uow.customers.by_phone(phone)
        customer_id = deps.new_id()  # anew every time, whatever the phone: nothing to compare
        code = numeric_code(6)
        if existing is not None and existing.verified:
            # A challenge nobody is told the code of, so verifying answers as for a new
            # number (wrong code, expired, too many tries); the notice goes to the phone.
            code, text, key = numeric_code(6), _notice_for(deps, existing), sms_id
        else:
            if existing is None:
                uow.customers.add(customer_id, phone, name, birth_date, password_hash, now)
            else:
                uow.customers.renew_unverified(
                    existing.id, customer_id, name, birth_date, password_hash, now
                )
            if consent_answers is not None:
                consents.record(uow, deps, customer_id, consent_answers, now)
            text = signup_text(code)
            key = ""
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
        deps.sms.send(phone, text, key=key or challenge_id)
    except Unavailable:
        raise errors.ServiceUnavailable("the SMS could not be sent; try again") from None
    return customer_id


def resend_code(deps: Deps, *, phone: str, device_key: str | None = None) -> None:
    """A new code for a sign-up waiting for one, keeping what was typed (name, birth date,
    password are stored already). Answers alike whatever the phone: a registered phone's
    owner gets the notice, an unknown phone nothing; each is bounded as a sign-up's SMS
    and leaves a challenge, so the code check answers alike too."""
    now = deps.clock.now()
    phone = normalise_phone(phone)
    if deps.identity is not None:
        verification.restart_signup(deps, phone=phone, device_key=device_key)
        return
    sms = bounds.Call(
        bounds.SMS,
        address=device_key,
        person=bounds.phone_key(deps, phone),
        range_key=bounds.phone_range(deps, phone),
    )
    with deps.uow() as uow:
        sms_id = bounds.charge(uow, deps, sms, now)
        existing = uow.customers.by_phone(phone)
        code = numeric_code(6)
        text: str | None = None
        key = ""
        if existing is not None and existing.verified:
            text, key = _notice_for(deps, existing), sms_id
        elif existing is not None:
            text = signup_text(code)
        challenge_id = deps.new_id()
        expires_at = now + timedelta(seconds=deps.limits.sms_code_ttl_s)
        uow.challenges.add(
            challenge_id, phone, "signup", code_hash(challenge_id, code), expires_at, now
        )
        uow.commit()
    if text is None:
        return
    try:
        deps.sms.send(phone, text, key=key or challenge_id)
    except Unavailable:
        raise errors.ServiceUnavailable("the SMS could not be sent; try again") from None


def verify_phone(
    deps: Deps,
    *,
    phone: str,
    code: str,
    device_key: str | None = None,
    sign_in: bool = False,
) -> str | None:
    """``device_key``: the client address the attempt came from (failures count by it).
    A phone with no code waiting answers as a wrong code does, so that this cannot tell
    a registered number from another. ``sign_in``: the right code also signs the new
    customer in (the web's sign-up); the answer is then the session token."""
    now = deps.clock.now()
    if deps.identity is not None:
        # no code: the person confirmed on their phone, the provider says who they are
        _, token = verification.complete_signup(deps, phone=normalise_phone(phone), sign_in=sign_in)
        return token
    try:
        phone = normalise_phone(phone)
    except errors.InvalidPhone:
        phone = ""
    pkey = bounds.phone_key(deps, phone) if phone else None
    with deps.uow() as uow:
        _refuse_while_locked(uow, deps, BAD_SMS_CODE, pkey, device_key, now)
        challenge = uow.challenges.latest(phone, "signup") if phone else None
        customer = uow.customers.by_phone(phone) if phone else None
        waiting = challenge if challenge is not None and challenge.used_at is None else None
        if waiting is not None and waiting.attempts >= deps.limits.sms_code_attempts:
            raise errors.TooManyAttempts("too many wrong codes; sign up again for a new one")
        if waiting is not None and waiting.expires_at <= now:
            raise errors.CodeExpired("the code has expired; sign up again for a new one")
        if waiting is None or not same_hash(waiting.code_hash, code_hash(waiting.id, code.strip())):
            if waiting is not None:
                uow.challenges.count_attempt(waiting.id)
            _count_failure(uow, deps, BAD_SMS_CODE, customer, pkey, device_key, now)
            uow.commit()
            raise errors.InvalidCode("the code is not right")
        uow.challenges.use(waiting.id, now)
        token = None
        if customer is not None and not customer.verified:
            uow.customers.mark_verified(customer.id, now)
            if sign_in:
                token = sessions.add_token(uow, deps, customer.id, now)
        uow.commit()
    return token


def complete_identity(deps: Deps, *, phone: str) -> str:
    """The customer made from a sign-up whose person confirmed on their phone (the API's
    ``POST /v1/signup/identity``); ``identity_not_configured`` without a provider."""
    customer_id, _ = verification.complete_signup(deps, phone=normalise_phone(phone))
    return customer_id


# Failed attempts by kind (``failed_attempts``; the policy's brute-force guard counts them
# all, per customer and per device or address).
BAD_LOGIN = "bad_login"
BAD_SMS_CODE = "bad_sms_code"


def _count_failure(
    uow: UnitOfWork,
    deps: Deps,
    kind: str,
    customer: Customer | None,
    pkey: str | None,
    device_key: str | None,
    now: datetime,
) -> None:
    customer_id = customer.id if customer is not None else None
    uow.failures.add(kind, now, customer_id=customer_id, device_key=device_key)
    if pkey is not None:  # per phone, registered or not (the lock must not tell which)
        bounds.record(uow, deps, bounds.Call(kind, person=pkey), now)


def _refuse_while_locked(
    uow: UnitOfWork, deps: Deps, kind: str, pkey: str | None, device_key: str | None, now: datetime
) -> None:
    """``too_many_attempts`` while this phone (registered or not), or this address, has
    failed ``kind`` too often in the window, whether or not this attempt would succeed. A
    burst of simultaneous attempts can pass the limit by the number in flight."""
    lim = deps.limits
    since = now - timedelta(seconds=lim.failure_window_s)
    per_phone = lim.login_max_failures if kind == BAD_LOGIN else lim.sms_max_failures
    minutes = lim.failure_window_s // 60
    if pkey is not None and uow.bounded.count([kind], since, "person", pkey) >= per_phone:
        raise errors.TooManyAttempts(
            f"too many failed attempts for this phone; try again in {minutes} minutes"
        )
    if device_key is not None and (
        uow.failures.count(since=since, device_key=device_key, kinds=(kind,)) >= lim.ip_max_failures
    ):
        raise errors.TooManyAttempts(
            f"too many failed attempts from this address; try again in {minutes} minutes"
        )


_DUMMY_HASHES: dict[int, str] = {}


def _dummy_hash(deps: Deps) -> str:
    """A hash no password matches, made by this hasher, so an unknown phone's sign-in
    spends the same verification time as a known one's."""
    key = id(deps.passwords)
    if key not in _DUMMY_HASHES:
        _DUMMY_HASHES[key] = deps.passwords.hash(new_token())
    return _DUMMY_HASHES[key]


def issue_token(deps: Deps, *, phone: str, password: str, device_key: str | None = None) -> str:
    """``device_key``: the client address the attempt came from (failures count by it).
    An unknown phone answers, and takes as long, as a wrong password: the password is
    verified against a dummy hash."""
    now = deps.clock.now()
    try:
        phone = normalise_phone(phone)
    except errors.InvalidPhone:
        phone = ""
    pkey = bounds.phone_key(deps, phone) if phone else None
    dummy = _dummy_hash(deps)
    with deps.uow() as uow:
        customer = uow.customers.by_phone(phone) if phone else None
        if customer is not None:  # a verified person's failures count by the person
            pkey = verification.person_key(uow, customer.id) or pkey
        _refuse_while_locked(uow, deps, BAD_LOGIN, pkey, device_key, now)
        stored = customer.password_hash if customer is not None else dummy
        if not deps.passwords.verify(stored, password) or customer is None:
            _count_failure(uow, deps, BAD_LOGIN, customer, pkey, device_key, now)
            uow.commit()
            raise errors.InvalidCredentials("phone or password is wrong")
        if not customer.verified:
            raise errors.PhoneNotVerified("verify your phone number first")
        if customer.status != "active":  # withdrawn (privacy/withdrawal.py)
            raise errors.AccountClosed("this account was closed at the customer's request")
        blocks.refuse_if_blocked(uow, customer.id, device_key)
        token = sessions.add_token(uow, deps, customer.id, now)
        uow.retention.seen(customer.id, now)  # the retention schedule's last activity
        uow.commit()
    return token


def check_password(
    deps: Deps, customer_id: str, password: str, *, device_key: str | None = None
) -> None:
    """The signed-in customer's password typed again (before what a session alone must not
    open: a delivered order's codes). Wrong answers count as sign-in failures and the
    sign-in's lock applies, so a stolen session cannot guess without bound."""
    now = deps.clock.now()
    with deps.uow() as uow:
        customer = uow.customers.get(customer_id)
        if customer is None or customer.status != "active":
            raise errors.Unauthorized("unknown customer")
        pkey = verification.person_key(uow, customer.id) or bounds.phone_key(deps, customer.phone)
        _refuse_while_locked(uow, deps, BAD_LOGIN, pkey, device_key, now)
        if not deps.passwords.verify(customer.password_hash, password):
            _count_failure(uow, deps, BAD_LOGIN, customer, pkey, device_key, now)
            uow.commit()
            raise errors.InvalidCredentials("the password is wrong", field="password")


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

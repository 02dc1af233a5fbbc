"""Identity verification (본인인증, PASS-style): sign-up, and linking an existing customer
to their verified person. One person (CI), one customer.

Each verification is a foreign call in atomic phases: the intent (an ``identity_checks``
row whose id is the provider's idempotency key) is committed before the provider is
asked; the provider's transaction id after. An answer lost on the way is asked again
with the same key (the provider answers the same transaction), never by a new request.
A sign-up creates its customer only once the person is verified, in the transaction
that stores the identity: a verified person who has a customer already is refused and
pointed to that account, whichever phone they used, so limits, holds, blocks and cases
stay with the one customer the person has.

The CI is stored only as a keyed hash (``vault.hmac``, unique); the DI and the verified
name, birth date, sex, carrier and phone are encrypted. None of them is ever logged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from giftcash.abuse import bounds
from giftcash.domain.ages import MIN_AGE_YEARS, age_years
from giftcash.identity import consents, sessions
from giftcash.service import errors
from giftcash.service.deps import Deps
from giftcash.service.ports import Ambiguous, IdentityPort, Unavailable
from giftcash.service.ports.records import (
    IdentityCheck,
    IdentityResult,
    StoredIdentity,
    VerifiedPerson,
)
from giftcash.service.ports.uow import UnitOfWork

SIGNUP = "signup"
LINK = "link"


@dataclass(frozen=True, slots=True)
class PersonDetails:
    """A customer's verified identity, decrypted for the customer's own pages and the
    checks that need it (never for a log line)."""

    name: str
    birth_date: date
    sex: str
    carrier: str
    phone: str
    di: str
    verified_at: datetime
    document_checked_at: datetime | None


def _port(deps: Deps) -> IdentityPort:
    if deps.identity is None:
        raise errors.IdentityNotConfigured("identity verification is not configured")
    return deps.identity


def ci_key(deps: Deps, ci: str) -> str:
    return deps.vault.hmac(f"ci:{ci}")


def _digits(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit())


def mask_phone(phone: str) -> str:
    """010-****-5678: enough for the person to recognise their own number."""
    digits = _digits(phone)
    return f"{digits[:3]}-****-{digits[-4:]}" if len(digits) >= 10 else "***"


# -- starting ----------------------------------------------------------------------------------


def start_signup(
    deps: Deps,
    *,
    phone: str,
    password_hash: str,
    consent_answers: dict[str, bool] | None,
    device_key: str | None,
) -> str:
    """Store the sign-up's intent and ask the provider to put a request on the phone;
    the id the customer will have once verified. ``phone``: normalised already."""
    port = _port(deps)
    now = deps.clock.now()
    check = IdentityCheck(
        id=deps.new_id(),
        purpose=SIGNUP,
        phone=phone,
        customer_id=deps.new_id(),
        status="started",
        transaction_id=None,
        password_hash=password_hash,
        consents=consent_answers,
        expires_at=now + timedelta(seconds=deps.limits.identity_check_ttl_s),
        created_at=now,
    )
    call = bounds.Call(bounds.IDENTITY, address=device_key, person=bounds.phone_key(deps, phone))
    with deps.uow() as uow:
        bounds.charge(uow, deps, call, now)
        uow.identity_checks.add(check)
        uow.commit()
    _ask(deps, port, check)
    return check.customer_id


def restart_signup(deps: Deps, *, phone: str, device_key: str | None) -> None:
    """A new request on the phone for a sign-up not completed, keeping what was given
    (the password's hash and consents wait in the check). A phone with no sign-up
    waiting gets nothing, and the answer is the same."""
    port = _port(deps)
    now = deps.clock.now()
    with deps.reader() as uow:
        last = uow.identity_checks.latest(phone, SIGNUP)
    if last is None or last.status == "completed" or last.password_hash is None:
        return
    check = replace(
        last,
        id=deps.new_id(),
        status="started",
        transaction_id=None,
        expires_at=now + timedelta(seconds=deps.limits.identity_check_ttl_s),
        created_at=now,
    )
    call = bounds.Call(bounds.IDENTITY, address=device_key, person=bounds.phone_key(deps, phone))
    with deps.uow() as uow:
        bounds.charge(uow, deps, call, now)
        uow.identity_checks.finish(last.id, "failed", now)  # the newest request counts
        uow.identity_checks.add(check)
        uow.commit()
    _ask(deps, port, check)


def start_link(deps: Deps, customer_id: str, *, device_key: str | None = None) -> None:
    """An existing customer (signed up with an SMS code) verifies their identity with
    their own phone (tier 1)."""
    port = _port(deps)
    now = deps.clock.now()
    with deps.uow() as uow:
        customer = uow.customers.get(customer_id)
        assert customer is not None
        if uow.identities.for_customer(customer_id) is not None:
            return
        check = IdentityCheck(
            id=deps.new_id(),
            purpose=LINK,
            phone=customer.phone,
            customer_id=customer_id,
            status="started",
            transaction_id=None,
            password_hash=None,
            consents=None,
            expires_at=now + timedelta(seconds=deps.limits.identity_check_ttl_s),
            created_at=now,
        )
        call = bounds.Call(bounds.IDENTITY, address=device_key, person=customer_id)
        bounds.charge(uow, deps, call, now)
        uow.identity_checks.add(check)
        uow.commit()
    _ask(deps, port, check)


def _ask(deps: Deps, port: IdentityPort, check: IdentityCheck) -> str | None:
    """Phase 2 and 3: the provider's transaction id, stored; None when the answer was
    lost (the request may be on the phone: completing asks again with the same key)."""
    try:
        transaction_id = port.start(check.phone, check.id)
    except Ambiguous:
        return None
    except Unavailable:
        raise errors.ServiceUnavailable(
            "the identity service is not answering; nothing was sent, try again"
        ) from None
    with deps.uow() as uow:
        uow.identity_checks.set_transaction(check.id, transaction_id)
        uow.commit()
    return transaction_id


# -- completing --------------------------------------------------------------------------------


def complete_signup(deps: Deps, *, phone: str, sign_in: bool = False) -> tuple[str, str | None]:
    """After the person confirmed on their phone: the customer (made now, with the
    verified name and birth date) and, with ``sign_in``, a session token. Completing
    again answers the same customer without a token. ``phone``: normalised already."""
    port = _port(deps)
    with deps.reader() as uow:
        check = uow.identity_checks.latest(phone, SIGNUP)
    if check is None:
        raise errors.IdentityFailed("no identity verification was started; sign up again")
    if check.status == "completed":
        return check.customer_id, None
    person = _verified_person(deps, port, check)
    now = deps.clock.now()
    if age_years(person.birth_date, now.date()) < MIN_AGE_YEARS:
        _finish(deps, check, "refused")
        raise errors.TooYoung(f"giftcash is for people {MIN_AGE_YEARS} or older")
    ci_hmac = ci_key(deps, person.ci)
    if check.status == "refused":  # asked again: the same answer
        with deps.reader() as uow:
            again = _refusal(uow, ci_hmac, phone)
        raise again or errors.IdentityFailed("this verification was refused; sign up again")
    token: str | None = None
    with deps.uow() as uow:
        if not uow.identity_checks.finish(check.id, "completed", now):
            return _answer_finished(deps, check)
        refusal = _refusal(uow, ci_hmac, phone)
        if refusal is None:
            owner = uow.customers.by_phone(phone)
            name, born = " ".join(person.name.split()), person.birth_date
            assert check.password_hash is not None  # kept until the check finishes
            if owner is None:
                uow.customers.add(check.customer_id, phone, name, born, check.password_hash, now)
            else:  # an SMS sign-up left unverified on this phone: made anew
                uow.customers.renew_unverified(
                    owner.id, check.customer_id, name, born, check.password_hash, now
                )
            uow.customers.mark_verified(check.customer_id, now)
            if check.consents is not None:
                consents.record(uow, deps, check.customer_id, check.consents, now)
            if _store(uow, deps, check.customer_id, ci_hmac, person, now):
                token = sessions.add_token(uow, deps, check.customer_id, now) if sign_in else None
                uow.commit()
                return check.customer_id, token
            refusal = _refusal(uow, ci_hmac, phone) or errors.IdentityAlreadyRegistered(
                "this person has an account already"
            )
    _finish(deps, check, "refused")
    raise refusal


def complete_link(deps: Deps, customer_id: str) -> None:
    """After the customer confirmed on their phone: their identity is stored, their name
    and birth date become the verified ones (tier 1). Another customer of the same
    person refuses it."""
    port = _port(deps)
    with deps.reader() as uow:
        check = uow.identity_checks.latest_for_customer(customer_id, LINK)
        linked = uow.identities.for_customer(customer_id)
    if linked is not None:
        return
    if check is None:
        raise errors.IdentityFailed("no identity verification was started")
    person = _verified_person(deps, port, check)
    now = deps.clock.now()
    ci_hmac = ci_key(deps, person.ci)
    with deps.uow() as uow:
        if not uow.identity_checks.finish(check.id, "completed", now):
            _answer_finished(deps, check)
            return
        refusal = _refusal(uow, ci_hmac, None)
        if refusal is None and _store(uow, deps, customer_id, ci_hmac, person, now):
            uow.customers.set_verified_name(
                customer_id, " ".join(person.name.split()), person.birth_date
            )
            uow.commit()
            return
        refusal = refusal or errors.IdentityAlreadyRegistered("this person has an account already")
    _finish(deps, check, "refused")
    raise refusal


def _verified_person(deps: Deps, port: IdentityPort, check: IdentityCheck) -> VerifiedPerson:
    """The provider's verified answer for ``check``, or the refusal that fits."""
    now = deps.clock.now()
    if check.status == "failed" or (check.status == "started" and check.expires_at <= now):
        raise errors.IdentityFailed("the identity verification expired; start again")
    transaction_id = check.transaction_id or _ask(deps, port, check)
    if transaction_id is None:
        raise errors.ServiceUnavailable(
            "the identity service did not answer; your request is kept, try again in a moment"
        )
    try:
        result: IdentityResult = port.result(transaction_id)
    except (Unavailable, Ambiguous):
        raise errors.ServiceUnavailable(
            "the identity service is not answering; your confirmation is kept, try again"
        ) from None
    if result.status == "pending":
        raise errors.IdentityPending("confirm the request on your phone first")
    if result.status != "verified" or result.person is None:
        _finish(deps, check, "failed")
        raise errors.IdentityFailed("the verification was refused or expired; start again")
    person = result.person
    if _digits(person.phone) != _digits(check.phone):
        _finish(deps, check, "failed")
        raise errors.IdentityFailed("the verified phone is not the one given; start again")
    return person


def _refusal(
    uow: UnitOfWork, ci_hmac: str, phone: str | None
) -> errors.IdentityAlreadyRegistered | errors.PhoneTaken | None:
    """Why this person cannot have a customer here: they have one (pointed to by its
    masked phone), or the phone belongs to a customer of before identity checks."""
    existing = uow.identities.by_ci(ci_hmac)
    if existing is not None:
        owner = uow.customers.get(existing.customer_id)
        masked = mask_phone(owner.phone) if owner is not None else "***"
        return errors.IdentityAlreadyRegistered(
            "this person has an account already; sign in with its phone", masked_phone=masked
        )
    if phone is not None:
        holder = uow.customers.by_phone(phone)
        if holder is not None and holder.verified:
            return errors.PhoneTaken(
                "this phone has an account; sign in and verify your identity there",
                masked_phone=mask_phone(phone),
            )
    return None


def _store(
    uow: UnitOfWork,
    deps: Deps,
    customer_id: str,
    ci_hmac: str,
    person: VerifiedPerson,
    now: datetime,
) -> bool:
    details = {
        "name": person.name,
        "birth_date": person.birth_date.isoformat(),
        "sex": person.sex,
        "carrier": person.carrier,
        "phone": person.phone,
        "di": person.di,
    }
    blob, key_id = deps.vault.encrypt(json.dumps(details), _aad(customer_id))
    return uow.identities.add(StoredIdentity(customer_id, ci_hmac, blob, key_id, now))


def _aad(customer_id: str) -> str:
    # the row id and a suffix, as key rotation rebuilds it (adapters/db/repositories_keys)
    return f"{customer_id}:identity"


def _finish(deps: Deps, check: IdentityCheck, status: str) -> None:
    with deps.uow() as uow:
        uow.identity_checks.finish(check.id, status, deps.clock.now())
        uow.commit()


def _answer_finished(deps: Deps, check: IdentityCheck) -> tuple[str, str | None]:
    """Another request finished this check first (the provider's answer came twice)."""
    with deps.reader() as uow:
        now_check = uow.identity_checks.get(check.id)
    assert now_check is not None
    if now_check.status == "completed":
        return now_check.customer_id, None
    raise errors.IdentityFailed("this verification was already used; start again")


# -- reading -----------------------------------------------------------------------------------


def details(deps: Deps, customer_id: str) -> PersonDetails | None:
    with deps.reader() as uow:
        stored = uow.identities.for_customer(customer_id)
    return decrypt(deps, stored) if stored is not None else None


def decrypt(deps: Deps, stored: StoredIdentity) -> PersonDetails:
    plain = deps.vault.decrypt(stored.details_enc, stored.key_id, _aad(stored.customer_id))
    data = json.loads(plain)
    return PersonDetails(
        name=str(data["name"]),
        birth_date=date.fromisoformat(str(data["birth_date"])),
        sex=str(data["sex"]),
        carrier=str(data["carrier"]),
        phone=str(data["phone"]),
        di=str(data["di"]),
        verified_at=stored.verified_at,
        document_checked_at=stored.document_checked_at,
    )


def person_key(uow: UnitOfWork, customer_id: str) -> str | None:
    """What a per-person bound counts a verified customer by (their CI's keyed hash), so
    a limit kept per phone follows the person to any phone; None: not verified."""
    stored = uow.identities.for_customer(customer_id)
    return f"ci:{stored.ci_hmac}" if stored is not None else None


def verified_name(uow: UnitOfWork, deps: Deps, customer_id: str) -> tuple[str, date] | None:
    """The verified name and birth date of the customer, when their identity is known."""
    stored = uow.identities.for_customer(customer_id)
    if stored is None:
        return None
    person = decrypt(deps, stored)
    return person.name, person.birth_date

"""Operators (reviewer, finance, admin): created with a password and a TOTP secret; they
log in with both and get a bearer token; every admin endpoint checks their role.

- A TOTP code (RFC 6238, 30 s steps, one step of drift either way) is accepted once: the
  step it matched is stored and a code of that step or an earlier one is refused
  (RFC 6238 §5.2), by one conditional UPDATE so two racing logins cannot both use it.
- Failed logins are counted per username from the audit log (every attempt is audited
  anyway): after ``MAX_LOGIN_FAILURES`` in ``LOGIN_WINDOW_S`` since the last success the
  username is refused with ``too_many_attempts`` until the window passes, whether or not
  the next password is right. Unknown usernames are counted the same way, so the answer
  never tells which usernames exist. The count and the attempt are not one atomic step:
  a burst of simultaneous requests can exceed the limit by the number in flight.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pyotp

from giftcash.audit import log as audit
from giftcash.domain.errors import DomainError
from giftcash.identity.secrets import new_token, token_hash
from giftcash.service import errors
from giftcash.service.deps import Deps

# stop_requester: a partner bank's or an investigator's key to file payment stops and
# read the ones it filed (stops/), nothing else
ROLES = ("reviewer", "finance", "admin", "stop_requester")
API_KEY_ROLES = ("stop_requester",)
MAX_API_KEY_DAYS = 400
_USERNAME = re.compile(r"^[a-z][a-z0-9_.-]{2,63}$")
_TOTP_CODE = re.compile(r"^\d{6}$")

MAX_LOGIN_FAILURES = 5
LOGIN_WINDOW_S = 15 * 60
TOTP_ISSUER = "giftcash"

LOGIN = "operator.login"
LOGIN_FAILED = "operator.login_failed"
LOGIN_LOCKED = "operator.login_locked"


class ForbiddenRole(DomainError):
    code = "forbidden_role"
    kind = "forbidden"


@dataclass(frozen=True, slots=True)
class Operator:
    id: str
    username: str
    role: str

    @property
    def actor(self) -> str:
        return f"operator:{self.username}"

    def may(self, roles: tuple[str, ...]) -> bool:
        return self.role == "admin" or self.role in roles


@dataclass(frozen=True, slots=True)
class OperatorToken:
    access_token: str
    expires_in: int
    role: str


def new_totp_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(totp_secret: str, username: str) -> str:
    """The otpauth:// URI an authenticator app scans (it carries the secret: show once)."""
    return pyotp.TOTP(totp_secret).provisioning_uri(name=username, issuer_name=TOTP_ISSUER)


def create_operator(
    deps: Deps,
    *,
    username: str,
    password: str,
    role: str,
    totp_secret: str,
    actor: str = "system",
) -> str:
    if role not in ROLES:
        raise errors.InvalidInput(f"role must be one of {', '.join(ROLES)}", field="role")
    if not _USERNAME.match(username):
        raise errors.InvalidInput("usernames are 3-64 lower-case letters, digits, . _ -")
    if len(password) < 12:
        raise errors.WeakPassword("operator passwords have at least 12 characters")
    try:
        pyotp.TOTP(totp_secret).now()
    except Exception:  # pyotp raises binascii/ValueError for a secret that is not base32
        raise errors.InvalidInput("the TOTP secret must be base32", field="totp_secret") from None
    operator_id = deps.new_id()
    secret_enc, key_id = deps.vault.encrypt(totp_secret, operator_id)
    now = deps.clock.now()
    with deps.uow() as uow:
        if uow.operators.by_username(username) is not None:
            raise errors.InvalidInput("that username is taken", field="username")
        uow.operators.add(
            id=operator_id,
            username=username,
            password_hash=deps.passwords.hash(password),
            totp_secret_enc=secret_enc,
            totp_key_id=key_id,
            role=role,
            now=now,
        )
        audit.record(
            uow,
            actor,
            "operator.create",
            f"operator:{username}",
            {"role": role, "operator_id": operator_id},
            at=now,
            id=deps.new_id(),
        )
        uow.commit()
    return operator_id


def operator_exists(deps: Deps, username: str) -> bool:
    with deps.reader() as uow:
        return uow.operators.by_username(username) is not None


_dummy_hash: str | None = None


def _burn_password_check(deps: Deps, password: str) -> None:
    """An unknown username costs the same hash check as a known one (no timing oracle)."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = deps.passwords.hash("not a real operator password")
    deps.passwords.verify(_dummy_hash, password)


def _totp_step(deps: Deps, secret: str, code: str) -> int | None:
    if not _TOTP_CODE.match(code):
        return None
    try:
        return pyotp.TOTP(secret).verify_and_get_timecode(
            code, for_time=deps.clock.now().timestamp(), valid_window=1
        )
    except pyotp.exceptions.OTPVerificationError:
        return None


def issue_token(deps: Deps, *, username: str, password: str, totp: str) -> OperatorToken:
    now = deps.clock.now()
    subject = f"operator:{username[:64]}"
    with deps.uow() as uow:
        since = now - timedelta(seconds=LOGIN_WINDOW_S)
        last_ok = uow.audit.last_at(LOGIN, subject)
        if last_ok is not None and last_ok > since:
            since = last_ok
        if uow.audit.count(LOGIN_FAILED, subject, since) >= MAX_LOGIN_FAILURES:
            audit.record(uow, "anonymous", LOGIN_LOCKED, subject, None, at=now, id=deps.new_id())
            uow.commit()
            raise errors.TooManyAttempts(
                "too many failed logins for this username; try again in 15 minutes"
            )
        row = uow.operators.by_username(username)
        if row is None:
            _burn_password_check(deps, password)
            reason = "unknown_username"
        elif not deps.passwords.verify(row.password_hash, password):
            reason = "password"
        else:
            secret = deps.vault.decrypt(row.totp_secret_enc, row.totp_key_id, row.id)
            step = _totp_step(deps, secret, totp.strip())
            if step is None:
                reason = "totp"
            elif not uow.operator_auth.accept_totp_step(row.id, step):
                reason = "totp_replayed"
            else:
                reason = ""
        if reason:
            audit.record(
                uow,
                "anonymous",
                LOGIN_FAILED,
                subject,
                {"reason": reason},
                at=now,
                id=deps.new_id(),
            )
            uow.commit()
            raise errors.InvalidCredentials("username, password or code is wrong")
        assert row is not None
        token = new_token()
        ttl_s = deps.limits.token_ttl_s
        uow.tokens.add(token_hash(token), "operator", row.id, now + timedelta(seconds=ttl_s), now)
        audit.record(
            uow,
            f"operator:{row.username}",
            LOGIN,
            subject,
            {"role": row.role},
            at=now,
            id=deps.new_id(),
        )
        uow.commit()
    return OperatorToken(token, ttl_s, row.role)


def issue_api_key(deps: Deps, *, username: str, days: int, actor: str = "system") -> str:
    """A long-lived bearer token for a machine operator (a partner bank's system filing
    payment stops): stored only as its hash, like every token; shown once. Audited."""
    if not (1 <= days <= MAX_API_KEY_DAYS):
        raise errors.InvalidInput(f"an API key lasts 1 to {MAX_API_KEY_DAYS} days", field="days")
    now = deps.clock.now()
    with deps.uow() as uow:
        row = uow.operators.by_username(username)
        if row is None:
            raise errors.InvalidInput("no such operator", field="username")
        if row.role not in API_KEY_ROLES:
            raise ForbiddenRole(f"API keys are for the {', '.join(API_KEY_ROLES)} role")
        token = new_token()
        expires_at = now + timedelta(days=days)
        uow.tokens.add(token_hash(token), "operator", row.id, expires_at, now)
        audit.record(
            uow,
            actor,
            "operator.api_key",
            f"operator:{row.username}",
            {"role": row.role, "expires_at": expires_at.isoformat()},
            at=now,
            id=deps.new_id(),
        )
        uow.commit()
    return token


def authenticate(deps: Deps, token: str) -> Operator:
    now = deps.clock.now()
    with deps.reader() as uow:
        t = uow.tokens.get(token_hash(token))
        if t is None or t.subject_type != "operator" or t.expires_at <= now:
            raise errors.Unauthorized("the operator token is missing, unknown or expired")
        row = uow.operators.get(t.subject_id)
    if row is None:
        raise errors.Unauthorized("the operator token is missing, unknown or expired")
    return Operator(row.id, row.username, row.role)


def check_role(deps: Deps, op: Operator, roles: tuple[str, ...], action: str) -> None:
    """Raise ``ForbiddenRole`` (and audit the refusal) unless ``op`` may do ``action``."""
    if op.may(roles):
        return
    now = deps.clock.now()
    with deps.uow() as uow:
        audit.record(
            uow,
            op.actor,
            "access.denied",
            action[:200],
            {"role": op.role, "allowed": sorted({*roles, "admin"})},
            at=now,
            id=deps.new_id(),
        )
        uow.commit()
    raise ForbiddenRole(f"the {op.role} role may not do this")

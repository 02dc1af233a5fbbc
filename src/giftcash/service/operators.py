"""Operators (reviewer, finance, admin): created with a password and a TOTP secret."""

from __future__ import annotations

import re

from giftcash.service import errors
from giftcash.service.deps import Deps

ROLES = ("reviewer", "finance", "admin")
_USERNAME = re.compile(r"^[a-z][a-z0-9_.-]{2,63}$")


def create_operator(
    deps: Deps, *, username: str, password: str, role: str, totp_secret: str
) -> str:
    if role not in ROLES:
        raise errors.InvalidInput(f"role must be one of {', '.join(ROLES)}", field="role")
    if not _USERNAME.match(username):
        raise errors.InvalidInput("usernames are 3-64 lower-case letters, digits, . _ -")
    if len(password) < 12:
        raise errors.WeakPassword("operator passwords have at least 12 characters")
    operator_id = deps.new_id()
    secret_enc, key_id = deps.vault.encrypt(totp_secret, operator_id)
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
            now=deps.clock.now(),
        )
        uow.commit()
    return operator_id


def operator_exists(deps: Deps, username: str) -> bool:
    with deps.uow() as uow:
        return uow.operators.by_username(username) is not None

"""Short random secrets (SMS codes, 1-won memo codes, tokens) and their stored hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def numeric_code(digits: int) -> str:
    return f"{secrets.randbelow(10**digits):0{digits}d}"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def code_hash(salt: str, code: str) -> str:
    """Salted with the record's id so equal codes of different records differ."""
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


def same_hash(a: str, b: str) -> bool:
    return hmac.compare_digest(a, b)

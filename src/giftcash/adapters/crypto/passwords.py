"""Password hashing with argon2id (argon2-cffi's defaults follow RFC 9106's second
recommended profile)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


class Argon2Passwords:
    def __init__(self, *, fast_for_tests: bool = False) -> None:
        # Tests hash hundreds of passwords; a low cost keeps them quick. Never in production.
        self._ph = (
            PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
            if fast_for_tests
            else PasswordHasher()
        )

    def hash(self, password: str) -> str:
        return self._ph.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._ph.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

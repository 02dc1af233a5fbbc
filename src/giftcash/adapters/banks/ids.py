"""``bank_tran_id``: 20 characters = 이용기관코드 (10) + "U" + 9 characters unique per day
(DOMAIN-FACTS §3). The 9 characters are random (36^9 ≈ 10^14), stored under a unique
index before the call, so a collision fails the insert instead of paying twice.

The format is the open-banking network's; the service only asks for a new id
(``Deps.new_bank_tran_id``, handed in by ``bootstrap``) and stores it before the call."""

from __future__ import annotations

import functools
import secrets
import string
from collections.abc import Callable

_ALPHABET = string.digits + string.ascii_uppercase


def new_bank_tran_id(client_code: str) -> str:
    suffix = "".join(secrets.choice(_ALPHABET) for _ in range(9))
    return f"{client_code}U{suffix}"


def tran_id_source(client_code: str) -> Callable[[], str]:
    """New ids under our 이용기관코드 (``settings.bank_client_code``)."""
    assert len(client_code) == 10, "an 이용기관코드 has 10 characters"
    return functools.partial(new_bank_tran_id, client_code)

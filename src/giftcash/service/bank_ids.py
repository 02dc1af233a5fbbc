"""``bank_tran_id``: 20 characters = 이용기관코드 (10) + "U" + 9 characters unique per day
(DOMAIN-FACTS §3). The 9 characters are random (36^9 ≈ 10^14), stored under a unique
index before the call, so a collision fails the insert instead of paying twice."""

from __future__ import annotations

import secrets
import string

from giftcash.service.deps import Deps

_ALPHABET = string.digits + string.ascii_uppercase


def new_bank_tran_id(deps: Deps) -> str:
    suffix = "".join(secrets.choice(_ALPHABET) for _ in range(9))
    return f"{deps.bank_client_code}U{suffix}"

"""How long a foreign call that did nothing waits before it is tried again: doubling from
``backoff_base_s`` up to ``backoff_cap_s`` (the issuers' and the bank's steps alike)."""

from __future__ import annotations

from datetime import timedelta

from giftcash.service.deps import Deps


def backoff(deps: Deps, attempts: int) -> timedelta:
    seconds = min(deps.limits.backoff_cap_s, deps.limits.backoff_base_s * 2 ** min(attempts, 16))
    return timedelta(seconds=seconds)

"""UUIDv7 ids (RFC 9562 §5.7) as 36-character text, made with the standard library.

Layout: 48-bit Unix time in milliseconds, version 7, 12 bits ``rand_a``, variant 0b10,
62 bits ``rand_b``. Within one process ids are strictly increasing: ``rand_a`` is a
counter seeded at random each millisecond (RFC 9562 §6.2, method 1), and when it runs
out the timestamp moves on by one millisecond, so sorting by id sorts by creation time.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
import uuid

_COUNTER_MAX = 0xFFF
# Seed the counter in the lower half so a busy millisecond has room to count up.
_SEED_BITS = 11


class UuidV7Generator:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = 0
        self._counter = 0

    def __call__(self, now_ms: int | None = None) -> uuid.UUID:
        return self.many(1, now_ms)[0]

    def many(self, n: int, now_ms: int | None = None) -> list[uuid.UUID]:
        """``n`` ids in a row, as ``n`` calls would make them."""
        return [uuid.UUID(int=value) for value in self.values(n, now_ms)]

    def values(self, n: int, now_ms: int | None = None) -> list[int]:
        """``many``'s ids as their 128-bit values: the lock taken once, and the random
        tails (``rand_b``) of all of them from one read of the system's CSPRNG
        (``os.urandom``, which ``secrets`` reads too)."""
        tails = os.urandom(8 * n)
        stamps = []
        with self._lock:
            ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
            for _ in range(n):
                if ms > self._last_ms:
                    self._last_ms, self._counter = ms, secrets.randbits(_SEED_BITS)
                elif self._counter < _COUNTER_MAX:
                    # Same millisecond, or the clock went back: count on from the last id.
                    self._counter += 1
                else:  # the counter is used up: borrow the next millisecond
                    self._last_ms = self._last_ms + 1
                    self._counter = secrets.randbits(_SEED_BITS)
                stamps.append((self._last_ms & (2**48 - 1)) << 80 | self._counter << 64)
        head = 0x7 << 76 | 0b10 << 62
        return [
            stamp | head | int.from_bytes(tails[8 * i : 8 * i + 8]) >> 2
            for i, stamp in enumerate(stamps)
        ]


uuid7 = UuidV7Generator()


def new_id() -> str:
    return str(uuid7())


def new_ids(n: int) -> list[str]:
    """``n`` ids, as ``n`` calls of ``new_id`` would make them (the text ``str(UUID)``
    makes, written from the values without a UUID object each)."""
    out = []
    for value in uuid7.values(n):
        h = f"{value:032x}"
        out.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return out


def timestamp_ms(id_: str) -> int:
    """The millisecond timestamp an id was made at."""
    return uuid.UUID(id_).int >> 80

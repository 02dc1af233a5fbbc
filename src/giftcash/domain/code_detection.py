"""Which brand a code belongs to, read from its format alone, so a pasted list may mix
brands and a code read off a picture needs no brand chosen first.

A brand *fits* a code when its format accepts it (length, alphabet, prefix, check digit,
and a PIN exactly when the brand has one). A fit through a declared prefix is *strong*; a
fit of a brand that declares no prefix (any 16 digits, say) is *weak*. One fit, or one
strong fit among weak ones, names the brand; anything else is ambiguous and the customer
is asked, with the candidates. Nothing here says a code holds value: only the issuer
knows, so a misdetected brand fails at the issuer, it never sells another brand's code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from giftcash.domain.brands import Brand, mask, normalise
from giftcash.domain.errors import DomainError, InvalidFormat

MAX_PASTE_LINES = 500  # a paste longer than this is refused, not cut silently
# Between a code and its PIN on one line: a comma, tab, slash, bar or semicolon, or the
# word PIN. Spaces and dashes inside a code are its grouping, not a separator.
_FIELD_SEPARATOR = re.compile(r"\s*(?:[,\t/|;]|\bpin\b:?)\s*", re.IGNORECASE)


class Outcome(StrEnum):
    DETECTED = "detected"
    AMBIGUOUS = "ambiguous"
    NO_MATCH = "no_match"


@dataclass(frozen=True, slots=True)
class Detection:
    outcome: Outcome
    code: str  # normalised; the caller decides who may see it (masked in logs, never whole)
    pin: str | None
    brand_id: str | None  # set only when detected
    candidates: tuple[str, ...]  # every brand that fits, strong fits first

    @property
    def masked_code(self) -> str:
        return mask(self.code)


class PasteTooLong(DomainError):
    code = "paste_too_long"


def _fits(brand: Brand, code: str, pin: str | None) -> bool:
    try:
        brand.code_format.validate(code, pin)
    except InvalidFormat:
        return False
    return True


def detect(code: str, pin: str | None, brands: Iterable[Brand]) -> Detection:
    """The brand of one code (and PIN, if given). Pure."""
    norm, norm_pin = normalise(code), (normalise(pin) if pin else None) or None
    strong: list[str] = []
    weak: list[str] = []
    for b in brands:
        if _fits(b, norm, norm_pin):
            (strong if b.code_format.prefixes else weak).append(b.id)
    candidates = tuple(strong + weak)
    if len(candidates) == 1 or len(strong) == 1:
        return Detection(Outcome.DETECTED, norm, norm_pin, candidates[0], candidates)
    outcome = Outcome.AMBIGUOUS if candidates else Outcome.NO_MATCH
    return Detection(outcome, norm, norm_pin, None, candidates)


def split_line(line: str) -> tuple[str, str | None]:
    """A pasted line as (code, PIN or None)."""
    parts = [p for p in _FIELD_SEPARATOR.split(line.strip()) if p]
    if len(parts) >= 2:
        return parts[0], "".join(parts[1:])
    return (parts[0] if parts else ""), None


def detect_paste(text: str, brands: Iterable[Brand]) -> list[Detection]:
    """Each non-empty line of a paste, detected. Lines keep their order; group them with
    ``by_brand``."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if len(lines) > MAX_PASTE_LINES:
        raise PasteTooLong(
            f"a paste may hold at most {MAX_PASTE_LINES} codes", limit=MAX_PASTE_LINES
        )
    catalogue = tuple(brands)
    return [detect(*split_line(ln), catalogue) for ln in lines]


def by_brand(detections: Iterable[Detection]) -> dict[str | None, list[Detection]]:
    """Detections grouped by brand; the ``None`` group holds what the customer must decide."""
    groups: dict[str | None, list[Detection]] = {}
    for d in detections:
        groups.setdefault(d.brand_id, []).append(d)
    return groups

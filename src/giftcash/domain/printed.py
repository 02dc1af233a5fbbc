"""What a coupon's picture prints, found in the text read off it (OCR): its expiry date
and the product it names.

Korean mobile coupons print it as "유효기간 2026.03.31", "유효기간: 2025.12.01 ~ 2026.03.31",
"2026년 3월 31일까지" or, in English, "Valid until 2026.03.31". OCR text is noisy, so only
whole, real calendar dates count, and of those the latest: a period prints its start
first, and a coupon never expires before it was issued. What is read here is shown to the
customer; the issuer's inquiry answer is what the policy judges.
"""

from __future__ import annotations

import re
from datetime import date

from giftcash.domain.brands import Brand, Product

MAX_TEXT_CHARS = 20_000  # a screenshot's text is a few hundred; the regexes stay linear
_NUMERIC = re.compile(r"(?<!\d)(20\d{2})\s*[.\-/]\s*(\d{1,2})\s*[.\-/]\s*(\d{1,2})(?!\d)")
_KOREAN = re.compile(r"(?<!\d)(20\d{2})\s*년\s*(\d{1,2})\s*월\s*(\d{1,2})\s*일")


def printed_expiry(text: str) -> date | None:
    """The latest real date in ``text`` (years 2000-2099), or None."""
    text = text[:MAX_TEXT_CHARS]
    found: list[date] = []
    for pattern in (_NUMERIC, _KOREAN):
        for m in pattern.finditer(text):
            year, month, day = (int(g) for g in m.groups())
            try:
                found.append(date(year, month, day))
            except ValueError:  # 2026.02.30: OCR noise, not a date
                continue
    return max(found, default=None)


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text).casefold()


def printed_product(text: str, brand: Brand) -> Product | None:
    """The one product of ``brand`` whose name (Korean or English) the text prints, spaces
    ignored (OCR splits Korean words); None when none does or more than one."""
    squeezed = _squeezed(text[:MAX_TEXT_CHARS])
    named = [
        p
        for p in brand.products
        if _squeezed(p.name_ko) in squeezed or _squeezed(p.name) in squeezed
    ]
    return named[0] if len(named) == 1 else None

"""Brand from the code: a pasted list mixing brands is sorted by brand, lines that more
than one brand could hold ask, and nothing is guessed between equals."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import pytest

from giftcash.domain import code_detection as cd
from giftcash.domain.brands import CATALOGUE, MARKET, find_brand
from giftcash.simulators.issuer import issue_code, issue_pin

RNG = secrets.SystemRandom()


def sold(brand_id: str) -> tuple[str, str | None]:
    fmt = find_brand(brand_id).code_format
    return issue_code(fmt, RNG), issue_pin(fmt, datetime(2025, 1, 2, tzinfo=UTC), RNG)


@pytest.mark.parametrize("brand", (*MARKET, find_brand("cultureland")), ids=lambda b: b.id)
def test_every_prefixed_brand_is_found_from_its_code(brand) -> None:
    for _ in range(20):
        code, pin = sold(brand.id)
        d = cd.detect(code, pin, CATALOGUE)
        assert d.outcome is cd.Outcome.DETECTED and d.brand_id == brand.id, d.candidates


def test_a_mixed_paste_is_sorted_by_brand() -> None:
    wanted = ["gs25_gift", "starbucks_coupon", "gs25_coupon", "lotte_dept", "cultureland",
              "baskin_robbins_coupon", "starbucks_coupon", "cu_gift"]  # fmt: skip
    lines = []
    for i, brand_id in enumerate(wanted):
        code, _ = sold(brand_id)
        shown = find_brand(brand_id).code_format.display(code)
        lines.append(shown if i % 2 else f"  {code.lower()}  ")  # grouped or bare
    groups = cd.by_brand(cd.detect_paste("\n".join(lines) + "\n\n", CATALOGUE))
    assert {k: len(v) for k, v in groups.items()} == {
        "gs25_gift": 1, "starbucks_coupon": 2, "gs25_coupon": 1, "lotte_dept": 1,
        "cultureland": 1, "baskin_robbins_coupon": 1, "cu_gift": 1,
    }  # fmt: skip


def test_a_code_two_brands_could_hold_asks_with_the_candidates() -> None:
    # 16 digits with no brand's prefix: Shinsegae and Starbucks e-Gift both take any.
    d = cd.detect("1234 5678 1234 5678", None, CATALOGUE)
    assert d.outcome is cd.Outcome.AMBIGUOUS and d.brand_id is None
    assert {"shinsegae", "starbucks_kr"} <= set(d.candidates)
    assert d.masked_code == "************5678"


def test_a_pin_line_goes_to_the_brands_with_a_pin() -> None:
    code, pin = sold("booknlife")
    d = cd.detect_paste(f"{code}, {pin}", CATALOGUE)[0]
    assert d.pin == pin and "booknlife" in d.candidates
    assert all(find_brand(b).code_format.pin_length == 8 for b in d.candidates)


def test_no_brand_fits_and_the_paste_is_bounded() -> None:
    assert cd.detect("12345", None, CATALOGUE).outcome is cd.Outcome.NO_MATCH
    with pytest.raises(cd.PasteTooLong):
        cd.detect_paste("1\n" * (cd.MAX_PASTE_LINES + 1), CATALOGUE)


def test_a_misread_check_digit_is_no_brand() -> None:
    code, _ = sold("gs25_coupon")
    wrong = code[:-1] + str((int(code[-1]) + 1) % 10)
    assert "gs25_coupon" not in cd.detect(wrong, None, CATALOGUE).candidates

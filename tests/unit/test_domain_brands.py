"""Brands: code formats (length, alphabet, prefix, PIN), face values, masking.

Every refusal is an ``InvalidFormat`` whose message, repr and context never contain the
code or the PIN (house rule 13)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from giftcash.domain.brands import (
    ALNUM,
    CATALOGUE,
    CULTURELAND,
    DIGITS,
    GOOGLE_PLAY,
    HAPPYMONEY,
    MUNHWA,
    Brand,
    CodeFormat,
    FaceValues,
    brand_index,
    find_brand,
    gs1_check_digit,
    mask,
    normalise,
)
from giftcash.domain.errors import BrandNotFound, FaceValueNotOffered, InvalidAmount, InvalidFormat

PROPERTY = settings(deadline=None)
BRAND_IDS = [b.id for b in CATALOGUE]
PIN_BRANDS = [b for b in CATALOGUE if b.code_format.pin_length is not None]
NO_PIN_BRANDS = [b for b in CATALOGUE if b.code_format.pin_length is None]
PREFIX_BRANDS = [b for b in CATALOGUE if b.code_format.prefixes]
GOOD_PIN = "20240131"


def _by_id(brand_id: str) -> Brand:
    return find_brand(brand_id)


@st.composite
def well_formed(draw: st.DrawFn, fmt: CodeFormat) -> str:
    """A normalised code that this format must accept."""
    length = draw(st.sampled_from(fmt.lengths))
    prefix = draw(st.sampled_from(fmt.prefixes)) if fmt.prefixes else ""
    size = length - len(prefix)
    code = prefix + draw(st.text(alphabet=fmt.alphabet, min_size=size, max_size=size))
    if fmt.checksum == "ean13":  # a GS1 check digit: the last digit follows from the rest
        code = code[:-1] + gs1_check_digit(code[:-1])
    return code


def _pin_for(fmt: CodeFormat) -> str | None:
    return GOOD_PIN if fmt.pin_length is not None else None


def _refused(fmt: CodeFormat, code: str, pin: str | None, reason: str) -> InvalidFormat:
    with pytest.raises(InvalidFormat) as caught:
        fmt.validate(code, pin)
    err = caught.value
    assert err.code == "invalid_format"
    assert err.context.get("reason") == reason
    _assert_secret_free(err, code, pin)
    return err


def _assert_secret_free(err: InvalidFormat, code: str, pin: str | None) -> None:
    shown = " ".join([str(err), err.message, repr(err), repr(err.args), repr(err.context)])
    secrets = [normalise(code), code.strip()] + ([normalise(pin), pin] if pin else [])
    for secret in secrets:
        # no piece of six or more characters: not the code, not most of it
        for i in range(max(len(secret) - 5, 0)):
            assert secret[i : i + 6] not in shown, "the message repeats part of the code"


# -- accepting ------------------------------------------------------------------------


@pytest.mark.parametrize("brand_id", BRAND_IDS)
@PROPERTY
@given(data=st.data())
def test_each_brand_accepts_its_well_formed_codes(brand_id: str, data: st.DataObject) -> None:
    fmt = _by_id(brand_id).code_format
    code = data.draw(well_formed(fmt))
    assert fmt.validate(code, _pin_for(fmt)) == (code, _pin_for(fmt))


@pytest.mark.parametrize("brand_id", BRAND_IDS)
@PROPERTY
@given(data=st.data())
def test_separators_and_case_do_not_matter(brand_id: str, data: st.DataObject) -> None:
    fmt = _by_id(brand_id).code_format
    code = data.draw(well_formed(fmt))
    pieces = [code[i : i + 4] for i in range(0, len(code), 4)]
    gaps = len(pieces) - 1
    separator = st.sampled_from(["-", " ", " - ", "\t", "\u3000", "--", ""])
    seps = data.draw(st.lists(separator, min_size=gaps, max_size=gaps))
    typed = pieces[0] + "".join(sep + piece for sep, piece in zip(seps, pieces[1:], strict=True))
    typed = " " + typed.lower() + " "
    assert fmt.validate(typed, _pin_for(fmt))[0] == code


def test_the_grouped_form_that_brands_display_is_accepted() -> None:
    code = "4160123456789012"
    shown = CULTURELAND.code_format.display(code)
    assert shown == "4160-1234-5678-9012"
    assert CULTURELAND.code_format.validate(shown) == (code, None)
    munhwa = "212345678901234567"
    assert MUNHWA.code_format.display(munhwa) == "2123-4567-8901-234567"


def test_a_lower_case_alphanumeric_code_is_upper_cased() -> None:
    assert GOOGLE_PLAY.code_format.validate("abcd-efgh-1234")[0] == "ABCDEFGH1234"


@pytest.mark.parametrize("brand", PIN_BRANDS, ids=lambda b: b.id)
def test_pins_are_normalised_like_codes(brand: Brand) -> None:
    code = "1" * brand.code_format.lengths[0]
    assert brand.code_format.validate(code, " 2024-01-31 ") == (code, GOOD_PIN)


# -- refusing -------------------------------------------------------------------------


@pytest.mark.parametrize("brand_id", BRAND_IDS)
@PROPERTY
@given(data=st.data())
def test_wrong_length_is_refused(brand_id: str, data: st.DataObject) -> None:
    fmt = _by_id(brand_id).code_format
    code = data.draw(well_formed(fmt))
    shorter = min(fmt.lengths) - 1
    longer = max(fmt.lengths) + 1
    wrong = data.draw(st.sampled_from([code[:shorter], code + code[-1] * (longer - len(code))]))
    assert len(wrong) not in fmt.lengths
    _refused(fmt, wrong, _pin_for(fmt), "length")


@pytest.mark.parametrize("brand_id", BRAND_IDS)
@PROPERTY
@given(data=st.data())
def test_wrong_alphabet_is_refused(brand_id: str, data: st.DataObject) -> None:
    fmt = _by_id(brand_id).code_format
    code = data.draw(well_formed(fmt))
    foreign = "A" if fmt.alphabet == DIGITS else data.draw(st.sampled_from("#_.!ÄÉ가"))
    at = data.draw(st.integers(min_value=4, max_value=len(code) - 1))  # past any prefix
    _refused(fmt, code[:at] + foreign + code[at + 1 :], _pin_for(fmt), "alphabet")


@pytest.mark.parametrize(
    "typed",
    [
        "ABCDEFGHIJß",  # "ß".upper() is "SS": 12 valid characters the customer never typed
        "ABCDEFGHIJﬁ",  # the "fi" ligature
        "ABCDEFGHIJK١",  # an Arabic-Indic digit
        "ＡＢＣＤＥＦＧＨＩＪＫＬ",  # full-width letters
    ],
)
def test_unicode_that_upper_cases_into_ascii_is_not_a_code(typed: str) -> None:
    with pytest.raises(InvalidFormat):
        GOOGLE_PLAY.code_format.validate(typed)


@pytest.mark.parametrize("brand", PREFIX_BRANDS, ids=lambda b: b.id)
@PROPERTY
@given(data=st.data())
def test_wrong_prefix_is_refused(brand: Brand, data: st.DataObject) -> None:
    fmt = brand.code_format
    length = data.draw(st.sampled_from(fmt.lengths))
    code = data.draw(st.text(alphabet=fmt.alphabet, min_size=length, max_size=length))
    if code.startswith(fmt.prefixes):
        code = "0" + code[1:]  # no catalogue prefix starts with 0
    _refused(fmt, code, _pin_for(fmt), "prefix")


@pytest.mark.parametrize(
    ("brand", "code"),
    [
        (CULTURELAND, "4170123456789012"),  # 417: not 416
        (CULTURELAND, "4181123456789012"),  # 4181: not 4180
        (CULTURELAND, "3101234567890123"),  # 310: only 311-319
        (MUNHWA, "112345678901234567"),
        (MUNHWA, "612345678901234567"),
    ],
    ids=lambda v: getattr(v, "id", "code"),
)
def test_near_miss_prefixes_are_refused(brand: Brand, code: str) -> None:
    _refused(brand.code_format, code, None, "prefix")


@pytest.mark.parametrize("brand", PIN_BRANDS, ids=lambda b: b.id)
@pytest.mark.parametrize(
    "pin",
    [None, "", "2024013", "202401311", "2024O131", "²²²²²²²²", "٢٠٢٤٠١٣١", "2024\n0131x"],
)
def test_missing_or_malformed_pin_is_refused(brand: Brand, pin: str | None) -> None:
    code = "1" * brand.code_format.lengths[0]
    _refused(brand.code_format, code, pin, "pin")


@pytest.mark.parametrize("brand", NO_PIN_BRANDS, ids=lambda b: b.id)
def test_unexpected_pin_is_refused(brand: Brand) -> None:
    code = (brand.code_format.prefixes or ("",))[0].ljust(brand.code_format.lengths[0], "7")
    if brand.code_format.checksum == "ean13":
        code = code[:-1] + gs1_check_digit(code[:-1])
    code = brand.code_format.validate(code)[0]
    _refused(brand.code_format, code, "20240131", "pin")
    assert brand.code_format.validate(code, None) == (code, None)


@pytest.mark.parametrize("brand_id", BRAND_IDS)
@pytest.mark.parametrize("code", ["", "   ", "- -"])
def test_empty_code_is_refused(brand_id: str, code: str) -> None:
    fmt = _by_id(brand_id).code_format
    with pytest.raises(InvalidFormat) as caught:
        fmt.validate(code, _pin_for(fmt))
    assert caught.value.context["reason"] == "empty"


# -- face values ----------------------------------------------------------------------

FIXED_BRANDS = [b for b in CATALOGUE if b.face_values.fixed]
RANGE_BRANDS = [b for b in CATALOGUE if not b.face_values.fixed]


def test_the_catalogue_has_both_kinds_of_face_values() -> None:
    assert FIXED_BRANDS and RANGE_BRANDS


@pytest.mark.parametrize("brand", FIXED_BRANDS, ids=lambda b: b.id)
def test_fixed_face_values(brand: Brand) -> None:
    fixed = brand.face_values.fixed
    for value in fixed:
        assert brand.check_face_value(value) == value
    for value in {v + d for v in fixed for d in (-1, 1, 1_000)} - set(fixed):
        if value <= 0:
            continue
        with pytest.raises(FaceValueNotOffered) as caught:
            brand.check_face_value(value)
        assert caught.value.code == "face_value_not_offered"
        assert caught.value.context == {"brand_id": brand.id, "face_value": value}


@pytest.mark.parametrize("brand", RANGE_BRANDS, ids=lambda b: b.id)
def test_face_value_ranges(brand: Brand) -> None:
    fv = brand.face_values
    for value in (fv.minimum, fv.minimum + fv.step, fv.maximum, fv.maximum - fv.step):
        assert brand.check_face_value(value) == value
    for value in (fv.minimum - 1, fv.maximum + 1, fv.maximum + fv.step, fv.minimum + fv.step // 2):
        with pytest.raises(FaceValueNotOffered):
            brand.check_face_value(value)


@PROPERTY
@given(
    minimum=st.integers(1, 10_000),
    step=st.integers(1, 1_000),
    count=st.integers(0, 50),
    amount=st.integers(-100_000, 100_000),
)
def test_a_range_allows_exactly_its_steps(minimum: int, step: int, count: int, amount: int) -> None:
    fv = FaceValues(minimum=minimum, maximum=minimum + count * step, step=step)
    allowed = set(range(fv.minimum, fv.maximum + 1, step))
    assert fv.allows(amount) == (amount in allowed)


@pytest.mark.parametrize("amount", [0, -1_000, True, 1_000.0, "1000"])
def test_face_value_must_be_a_positive_integer(amount: object) -> None:
    with pytest.raises(InvalidAmount):
        CULTURELAND.check_face_value(amount)  # type: ignore[arg-type]


# -- masking --------------------------------------------------------------------------


@PROPERTY
@given(code=st.text(alphabet=ALNUM, min_size=5, max_size=24))
def test_mask_shows_only_the_last_four(code: str) -> None:
    masked = mask(code)
    assert masked.endswith(code[-4:])
    assert set(masked[:-4]) == {"*"}
    assert len(masked) == max(len(code), 8)


@pytest.mark.parametrize("code", ["", "1", "1234"])
def test_mask_of_a_short_code_shows_nothing(code: str) -> None:
    assert mask(code) == "****"


def test_mask_of_a_real_code() -> None:
    assert mask("4160123456789012") == "************9012"


# -- the catalogue --------------------------------------------------------------------


def test_catalogue_ids_are_unique_and_found() -> None:
    assert len(brand_index(CATALOGUE)) == len(CATALOGUE)
    for brand in CATALOGUE:
        assert find_brand(brand.id) is brand
        assert brand.fee_bps == 10_000 - brand.buyback_rate_bps


def test_unknown_brand() -> None:
    with pytest.raises(BrandNotFound) as caught:
        find_brand("nope")
    assert caught.value.kind == "not_found"


def test_the_insolvent_issuer_is_off_by_default() -> None:
    assert HAPPYMONEY.enabled is False

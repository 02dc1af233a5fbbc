"""Every message the pages can show has a Korean translation with the same placeholders,
and the catalogue carries nothing the pages no longer use."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from giftcash.domain import declines
from giftcash.entrypoints.web import i18n
from giftcash.entrypoints.web.i18n import Formats, Tr

WEB = Path(i18n.__file__).parent
PO = WEB / "locale" / "ko" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")


def extracted() -> dict[str | tuple[str, ...], str]:
    method_map = [("**.py", "python"), ("**/templates/**.html", "jinja2.ext:babel_extract")]
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    keywords = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2), "tr": None}
    found: dict[str | tuple[str, ...], str] = {}
    for filename, lineno, message, *_ in extract_from_dir(
        str(WEB), method_map, options, keywords=keywords
    ):
        found.setdefault(message, f"{filename}:{lineno}")
    for entry in declines.REGISTRY.values():  # the decline registry's customer texts
        found.setdefault(entry.text, f"domain/declines.py:{entry.code}")
    return found


@pytest.fixture(scope="module")
def catalogue():
    with PO.open("rb") as f:
        return read_po(f, locale="ko")


def test_every_message_has_a_korean_translation(catalogue):
    messages = extracted()
    assert len(messages) > 150  # the extractor really read the templates and modules
    missing = []
    for message, where in messages.items():
        key = message[0] if isinstance(message, tuple) else message
        entry = catalogue.get(key)
        strings = entry.string if entry else None
        if not entry or entry.fuzzy or not (strings if isinstance(strings, str) else strings[0]):
            missing.append(f"{where}: {key!r}")
    assert not missing, "untranslated:\n" + "\n".join(missing)


def test_translations_keep_the_placeholders(catalogue):
    wrong = []
    for entry in catalogue:
        if not entry.id:
            continue
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        want = sorted(set(PLACEHOLDER.findall(ids[-1])))
        for s in strings:
            if sorted(set(PLACEHOLDER.findall(s))) != want:
                wrong.append(repr(ids[0]))
    assert not wrong, "placeholders differ:\n" + "\n".join(wrong)


def test_the_catalogue_has_no_stale_entries(catalogue):
    used = {m[0] if isinstance(m, tuple) else m for m in extracted()}
    ids = [e.id[0] if isinstance(e.id, tuple) else e.id for e in catalogue if e.id]
    stale = [i for i in ids if i not in used]
    assert not stale, f"no longer used: {stale}"


def test_korean_and_english_formatting():
    ko, en = Formats("ko"), Formats("en")
    assert ko.money(45_000, "KRW") == "45,000원"
    assert en.money(45_000, "KRW") == "₩45,000"
    assert en.money(1_999, "USD") == "$19.99"  # minor units, no float on the way
    assert ko.bps(1_000) == "10%" and en.bps(10_139) == "101.39%"
    assert Tr("ko")("Paid") == "입금 완료" and Tr("en")("Paid") == "Paid"
    assert Tr("xx").lang == "ko"  # Korean first


def test_catalogue_compiles_in_memory_without_a_mo_file():
    assert not list(WEB.glob("locale/**/*.mo"))
    assert i18n.translations("ko").gettext("Sign in") == "로그인"


def test_the_domain_texts_shown_in_korean_are_the_domain_s_own():
    """The scam warning and the advisor's note are translated by their English text: a
    change in the domain must reach the catalogue."""
    from datetime import UTC, datetime

    from giftcash.domain import advisor, policy
    from giftcash.domain.brands import CULTURELAND
    from giftcash.entrypoints.web import messages

    assert messages.SCAM_WARNING == policy.SCAM_WARNING
    note = advisor.advise(
        CULTURELAND, 10_000, funding_source="cash", now=datetime(2026, 1, 5, tzinfo=UTC)
    ).note
    assert note == messages.ROUTES_NOTE_NO_PURCHASE_DATE
    assert messages.note_text(Tr("ko"), note).startswith("구매일을 알 수 없어")


def test_a_stocked_item_is_named_in_both_languages() -> None:
    # resale: a verified voucher kept for a buyer, its seller's payout queued
    from giftcash.entrypoints.web import console_pages, messages

    assert Tr("en")(messages.ITEM_STATUS["stocked"]) == "Verified, payout queued"
    assert Tr("ko")(messages.ITEM_STATUS["stocked"]) == "확인 완료 · 입금 대기"
    assert Tr("ko")(console_pages.ITEM_STATES["stocked"]) == "재판매 재고"
    assert messages.ITEM_STEP_OF["stocked"] in messages.ITEM_STEPS

"""Languages of the web pages: Korean first, English available.

Messages are written in English in the templates and in Python (``N_`` marks them) and
translated through a gettext catalogue per language. The catalogue's source is a ``.po``
file under ``web/locale/``; it is compiled into memory the first time a language is used
(Babel's ``read_po`` then ``write_mo``), so a fresh ``pip install -e .`` needs no build
step and no compiled ``.mo`` file is ever out of date with its ``.po``.

Numbers, money and times are formatted by Babel in the page's locale; times are shown in
Korean time (the exchange's calendar), whatever the server's zone.
"""

from __future__ import annotations

import gettext
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.dates import format_date, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, format_percent
from babel.support import Translations

from giftcash.domain.brands import Brand
from giftcash.domain.money import currency_scale

LOCALE_DIR = Path(__file__).parent / "locale"
LANGS = ("ko", "en")
DEFAULT_LANG = "ko"
BABEL_LOCALE = {"ko": "ko_KR", "en": "en"}
TIMEZONE = "Asia/Seoul"
DOMAIN = "messages"


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown."""
    return message


def pick_lang(value: str | None) -> str:
    return value if value in LANGS else DEFAULT_LANG


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The language's catalogue, compiled from its .po on first use (English needs none)."""
    po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po.exists():
        return gettext.NullTranslations()
    with po.open("rb") as f:
        catalog = read_po(f, locale=BABEL_LOCALE.get(lang, lang), domain=DOMAIN)
    buf = BytesIO()
    write_mo(buf, catalog)  # fuzzy entries stay untranslated, as with msgfmt
    buf.seek(0)
    return Translations(fp=buf, domain=DOMAIN)


class Tr:
    """One page's language: ``tr("msgid %(x)s", x=1)`` translates, then fills in, always
    (as Jinja's new-style gettext does, so a literal percent sign is written ``%%``)."""

    def __init__(self, lang: str | None) -> None:
        self.lang = pick_lang(lang)
        self.fmt = Formats(self.lang)
        self._catalogue = translations(self.lang)

    def __call__(self, message: str, **params: object) -> str:
        return self._catalogue.gettext(message) % params

    def ngettext(self, singular: str, plural: str, n: int, **params: object) -> str:
        return self._catalogue.ngettext(singular, plural, n) % {"num": n, **params}

    def brand(self, brand: Brand) -> str:
        """Korean pages name a brand as Koreans know it; English pages use its English name."""
        return brand.name_ko if self.lang == "ko" else brand.name


class Formats:
    """Babel formatting bound to one page's language."""

    def __init__(self, lang: str) -> None:
        self.lang = pick_lang(lang)
        self.locale = BABEL_LOCALE[self.lang]

    def money(self, amount: int, currency: str) -> str:
        # Minor units to a Decimal at the edge; floats never touch money.
        value = Decimal(amount).scaleb(-currency_scale(currency))
        if self.lang == "ko" and currency == "KRW":
            return format_currency(value, currency, format="#,##0원", locale=self.locale)
        return format_currency(value, currency, locale=self.locale)

    def number(self, value: int) -> str:
        return format_decimal(value, locale=self.locale)

    def bps(self, bps: int) -> str:
        """Basis points as a percentage: 1000 -> 10%, 22813 -> 228.13%."""
        return format_percent(Decimal(bps).scaleb(-4), format="#,##0.##%", locale=self.locale)

    def datetime(self, moment: datetime | None) -> str:
        """The date as ``date`` writes it, then the time to the minute: one way of writing
        a day per language (2026년 12월 4일 오후 5:30; December 4, 2026, 5:30 PM)."""
        if moment is None:
            return ""
        time = format_time(moment, "short", tzinfo=_tz(), locale=self.locale)
        return f"{self.date(moment)}{' ' if self.lang == 'ko' else ', '}{time}"

    def clock(self, moment: datetime, *, seconds: bool = False) -> str:
        """The time of day in Korean time on the 24-hour clock, as banks and issuers write
        it in their notices and records (00:30, 14:03:22), in both languages."""
        pattern = "HH:mm:ss" if seconds else "HH:mm"
        return format_time(moment, pattern, tzinfo=_tz(), locale=self.locale)

    def last_day(self, closes_at: datetime) -> str:
        """The last day before ``closes_at`` (the first instant a route is closed)."""
        return self.date(closes_at - timedelta(microseconds=1))

    def date(self, moment: datetime) -> str:
        local = moment.astimezone(_tz())
        return format_date(local.date(), "long", locale=self.locale)

    def day(self, day: date) -> str:
        """A calendar day as printed (a coupon's expiry): no instant, no time zone."""
        return format_date(day, "long", locale=self.locale)


@cache
def _tz():
    from zoneinfo import ZoneInfo

    return ZoneInfo(TIMEZONE)

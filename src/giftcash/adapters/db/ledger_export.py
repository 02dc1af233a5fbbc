"""The books as a beancount file, so beancount's own ``bean-check`` can audit them.

Account names: each ``:``-segment of ours (lower-case ``[a-z0-9][a-z0-9_-]*``) becomes a
beancount component by upper-casing its first character, and an underscore followed by a
letter by upper-casing that letter (``starbucks_kr`` -> ``StarbucksKr``); beancount's
components start with a capital or a digit and allow no underscore. Because our segments
are lower-case, ``account_from_beancount`` undoes it. Components that start with a digit
(UUIDv7 customer ids) need no prefix: beancount's lexer accepts ``[A-Z0-9]`` there. Any
other underscore becomes ``-`` (lossy), and the export refuses to merge two accounts into
one name.

The file: ``operating_currency``, an ``open`` per account dated by its first posting, one
transaction per transfer (dated by ``created_at`` in ``tz``; the id, kind, ref and
reversed id as metadata), and a closing ``balance`` assertion per account with the stored
balance, so bean-check also proves the stored balances equal the postings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, timedelta, tzinfo
from typing import TextIO

from sqlalchemy import Connection, func, select

from giftcash.adapters.db.ledger_repo import LedgerRepository, StoredTransfer
from giftcash.adapters.db.tables import ledger_postings, ledger_transfers
from giftcash.domain.errors import InvalidAccount
from giftcash.domain.money import DEFAULT_CURRENCY, Money

_UNDERSCORE_LETTER = re.compile(r"_([a-z])")
_INNER_CAPITAL = re.compile(r"(?<=.)([A-Z])")


def beancount_account(path: str) -> str:
    return ":".join(_component(segment) for segment in path.split(":"))


def _component(segment: str) -> str:
    if not segment:
        raise InvalidAccount(f"empty segment in an account name ({segment!r})")
    body = _UNDERSCORE_LETTER.sub(lambda m: m.group(1).upper(), segment).replace("_", "-")
    return body[0].upper() + body[1:]


def account_from_beancount(name: str) -> str:
    """Undo ``beancount_account`` (exact unless the path had an underscore before a
    digit, a dash or the end of a segment)."""
    parts = []
    for component in name.split(":"):
        inner = _INNER_CAPITAL.sub(lambda m: "_" + m.group(1).lower(), component)
        parts.append(inner[0].lower() + inner[1:])
    return ":".join(parts)


def _string(text: str) -> str:
    cleaned = " ".join(text.splitlines())
    return '"' + cleaned.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _amount(amount: int, currency: str) -> str:
    return f"{Money(amount, currency).to_decimal():f} {currency}"


class BeancountWriter:
    def __init__(self, out: TextIO, *, tz: tzinfo = UTC) -> None:
        self.out = out
        self.tz = tz
        self._names: dict[str, str] = {}  # beancount name -> our path

    def name(self, path: str) -> str:
        bean = beancount_account(path)
        owner = self._names.setdefault(bean, path)
        if owner != path:
            raise InvalidAccount(f"{owner!r} and {path!r} map to one beancount account {bean}")
        return bean

    def header(self, operating_currency: str) -> None:
        self.out.write('option "title" "giftcash books"\n')
        self.out.write(f'option "operating_currency" "{operating_currency}"\n\n')

    def opens(self, first_use: Mapping[str, tuple[date, set[str]]]) -> None:
        for path in sorted(first_use):
            day, currencies = first_use[path]
            self.out.write(
                f"{day.isoformat()} open {self.name(path)} {','.join(sorted(currencies))}\n"
            )
        self.out.write("\n")

    def transaction(self, st: StoredTransfer) -> None:
        t = st.transfer
        day = st.created_at.astimezone(self.tz).date()
        narration = t.memo or (f"{t.kind} {t.ref}" if t.ref else t.kind)
        lines = [f"{day.isoformat()} * {_string(narration)}"]
        lines.append(f"  transfer_id: {_string(t.id)}")
        lines.append(f"  kind: {_string(t.kind)}")
        if t.ref:
            lines.append(f"  ref: {_string(t.ref)}")
        if t.reverses:
            lines.append(f"  reverses: {_string(t.reverses)}")
        width = max(len(self.name(p.account)) for p in t.postings) + 2
        for p in t.postings:
            lines.append(f"  {self.name(p.account):<{width}}{_amount(p.amount, t.currency)}")
        self.out.write("\n".join(lines) + "\n\n")

    def balances(self, on: date, balances: Mapping[tuple[str, str], int]) -> None:
        for (path, currency), amount in sorted(balances.items()):
            self.out.write(
                f"{on.isoformat()} balance {self.name(path)} {_amount(amount, currency)}\n"
            )


def export_beancount(
    conn: Connection,
    out: TextIO,
    *,
    operating_currency: str = DEFAULT_CURRENCY,
    tz: tzinfo = UTC,
    assert_balances: bool = True,
) -> int:
    """Write the books to ``out``; answers the number of transactions written."""
    writer = BeancountWriter(out, tz=tz)
    writer.header(operating_currency)
    first_use = _first_use(conn, tz)
    writer.opens(first_use)
    repo = LedgerRepository(conn)
    count, last_day = 0, None
    for st in repo.transfers():
        writer.transaction(st)
        count += 1
        day = st.created_at.astimezone(tz).date()
        last_day = day if last_day is None else max(last_day, day)
    if assert_balances and last_day is not None:
        # A balance directive holds at the start of its day: the day after the last one.
        writer.balances(last_day + timedelta(days=1), repo.balances())
    return count


def _first_use(conn: Connection, tz: tzinfo) -> dict[str, tuple[date, set[str]]]:
    p, t = ledger_postings.c, ledger_transfers.c
    rows = conn.execute(
        select(p.account, p.currency, func.min(t.created_at).label("first_at"))
        .join(ledger_transfers, t.id == p.transfer_id)
        .group_by(p.account, p.currency)
    )
    out: dict[str, tuple[date, set[str]]] = {}
    for r in rows:
        # MIN() keeps the column's type, so this is an aware datetime on both engines.
        first_at = r.first_at
        day = first_at.astimezone(tz).date()
        prior = out.get(r.account)
        if prior is None:
            out[r.account] = (day, {r.currency})
        else:
            out[r.account] = (min(prior[0], day), prior[1] | {r.currency})
    return out

"""Reconciliation: does the money at the bank and at the issuers match our books?

Bank: every line of the operating account's statement is matched by ``bank_tran_id`` and
amount to a payout or a 1-won verification, or (resale) to a buyer's deposit to a
virtual account (a line ``in`` under the bank's deposit id) or our return of one (a line
``out`` under the return's key). Whether each deposit and return at the bank is in our
books, once and whole, is ``reconcile/deposits.py``'s, from the bank's own records. The
answer lists what matched, what the bank moved that our books do not know
(``missing_here``), what our books say left the account but the statement lacks
(``missing_at_bank``), and amounts that differ (``amount_mismatch``). Returns of payouts
(direction ``in``) are flagged, with a warning when our books still call that payout
``sent`` or ``confirmed``; nothing is moved from a report: an operator decides. Bank
fees on the statement are booked once (``domain.ledger.bank_fee``).

Idempotent: each line is stored under the bank's key (``bank_tran_id``, ``direction``);
a line imported before is recognised by that key and changes nothing, a line re-sent with
other content under that key is reported as a conflict and changes nothing either.

Issuer: the issuer's settlement report (one line per redemption) against what the ledger
captured in ``assets:issuer:*``, matched by the redemption's idempotency key.

The files are read by the adapters (``adapters/banks/statements.py``,
``adapters/issuers/settlements.py``) into the lines of ``lines.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice
from typing import Any

from giftcash.domain import ledger
from giftcash.identity.bank_accounts import VERIFY_AMOUNT
from giftcash.reconcile.lines import SettlementLine, StatementLine
from giftcash.service.deps import Deps
from giftcash.service.ports.records import RecordedDeposit, RowView

CHUNK = 500

Progress = Callable[[int], None]


# -- the bank --------------------------------------------------------------------------------


@dataclass
class BankReconciliation:
    matched: list[dict[str, Any]] = field(default_factory=list)
    missing_here: list[dict[str, Any]] = field(default_factory=list)
    missing_at_bank: list[dict[str, Any]] = field(default_factory=list)
    amount_mismatch: list[dict[str, Any]] = field(default_factory=list)
    returned: list[dict[str, Any]] = field(default_factory=list)
    fees: list[dict[str, Any]] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    lines: int = 0
    new_lines: int = 0
    already_imported: int = 0
    period: tuple[date, date] | None = None
    import_id: str = ""

    @property
    def clean(self) -> bool:
        """No differences: exit status 0."""
        return not (
            self.missing_here or self.missing_at_bank or self.amount_mismatch or self.conflicts
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "matched": self.matched,
            "missing_here": self.missing_here,
            "missing_at_bank": self.missing_at_bank,
            "amount_mismatch": self.amount_mismatch,
            "returned": self.returned,
            "fees": self.fees,
            "conflicts": self.conflicts,
            "summary": {
                "lines": self.lines,
                "new_lines": self.new_lines,
                "already_imported": self.already_imported,
                "fees_posted": sum(f["amount"] for f in self.fees if f["posted"]),
                "period": None
                if self.period is None
                else {"from": self.period[0].isoformat(), "to": self.period[1].isoformat()},
                "import_id": self.import_id,
                "clean": self.clean,
            },
        }


def day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """[first 00:00 UTC, the day after ``last`` 00:00 UTC)."""
    return (
        datetime.combine(first, time(), tzinfo=UTC),
        datetime.combine(last + timedelta(days=1), time(), tzinfo=UTC),
    )


def _chunks(lines: Iterable[StatementLine], size: int) -> Iterator[list[StatementLine]]:
    it = iter(lines)
    while chunk := list(islice(it, size)):
        yield chunk


def reconcile_bank(
    deps: Deps,
    lines: Iterable[StatementLine],
    *,
    since: date | None = None,
    until: date | None = None,
    progress: Progress | None = None,
    chunk_size: int = CHUNK,
) -> BankReconciliation:
    """Import a statement and compare it with the books. ``since``/``until`` (inclusive,
    UTC days) bound what our books expect to find on it; by default the days its lines
    span. New lines and their fees are committed chunk by chunk (a crash half-way leaves
    a re-runnable import: the lines already stored are recognised the next time)."""
    out = BankReconciliation(import_id=deps.new_id())
    seen_out: set[str] = set()
    first: date | None = None
    last: date | None = None
    for chunk in _chunks(lines, chunk_size):
        for line in chunk:
            first = line.booked_on if first is None else min(first, line.booked_on)
            last = line.booked_on if last is None else max(last, line.booked_on)
            if line.direction == "out":
                seen_out.add(line.bank_tran_id)
        _import_chunk(deps, chunk, out)
        out.lines += len(chunk)
        if progress is not None:
            progress(len(chunk))
    since = since or first
    until = until or last
    if since is not None and until is not None:
        out.period = (since, until)
        _missing_at_bank(deps, out, since, until, seen_out)
    return out


def _import_chunk(deps: Deps, chunk: list[StatementLine], out: BankReconciliation) -> None:
    now = deps.clock.now()
    ids = [line.bank_tran_id for line in chunk]
    with deps.uow() as uow:
        known = _Known(
            uow.reconcile.payouts_by_tran_id(ids),
            uow.reconcile.verifications_by_tran_id(ids),
            uow.reconcile.deposits_by_bank_id(ids),
            uow.reconcile.deposits_by_return_key(ids),
        )
        stored = uow.reconcile.stored_lines([line.key for line in chunk])
        rows: list[dict[str, Any]] = []
        fees: list[ledger.Transfer] = []
        in_chunk: dict[tuple[str, str], str] = {}
        for line in chunk:
            result, kind, ref = _classify(line, known, out)
            digest = line.content_hash()
            before = stored.get(line.key) or in_chunk.get(line.key)
            if before is not None:
                if before == digest:
                    out.already_imported += 1
                else:
                    out.conflicts.append(
                        {
                            "bank_tran_id": line.bank_tran_id,
                            "direction": line.direction,
                            "note": "imported before with other content; kept the first",
                        }
                    )
                _note_fee(line, out, posted=False)
                continue
            in_chunk[line.key] = digest
            rows.append(_row(line, result, kind, ref, digest, out.import_id, now))
            fee = _fee_transfer(line)
            if fee is not None:
                fees.append(fee)
            _note_fee(line, out, posted=fee is not None)
        uow.reconcile.add_lines(rows)
        uow.ledger.post_many(fees)
        uow.commit()
    out.new_lines += len(rows)


def _fee_amount(line: StatementLine) -> int:
    return line.amount if line.direction == "fee" else line.fee


def _fee_transfer(line: StatementLine) -> ledger.Transfer | None:
    amount = _fee_amount(line)
    if amount <= 0:
        return None
    return ledger.bank_fee(
        f"bank-fee:{line.bank_tran_id}:{line.direction}",
        amount=amount,
        currency=line.currency,
        ref=line.bank_tran_id,
    )


def _note_fee(line: StatementLine, out: BankReconciliation, *, posted: bool) -> None:
    amount = _fee_amount(line)
    if amount > 0:
        out.fees.append(
            {
                "bank_tran_id": line.bank_tran_id,
                "direction": line.direction,
                "amount": amount,
                "currency": line.currency,
                "posted": posted,
            }
        )


def _row(
    line: StatementLine,
    result: str,
    kind: str | None,
    ref: str | None,
    digest: str,
    import_id: str,
    now: datetime,
) -> dict[str, Any]:
    return {
        "bank_tran_id": line.bank_tran_id,
        "direction": line.direction,
        "booked_on": line.booked_on,
        "at": line.at,
        "currency": line.currency,
        "amount": line.amount,
        "fee": line.fee,
        "status": line.status,
        "counterparty": line.counterparty,
        "result": result,
        "matched_kind": kind,
        "matched_ref": ref,
        "line_hash": digest,
        "import_id": import_id,
        "imported_at": now,
    }


@dataclass(frozen=True, slots=True)
class _Known:
    """What our books know of a chunk's ``bank_tran_id``s."""

    payouts: Mapping[str, RowView]
    verifications: Mapping[str, RowView]
    deposits: Mapping[str, RecordedDeposit]  # by the bank's deposit id
    returns: Mapping[str, RecordedDeposit]  # by our return key


def _classify(
    line: StatementLine, known: _Known, out: BankReconciliation
) -> tuple[str, str | None, str | None]:
    """Put the line in its list; answer (result, matched kind, matched ref) to store."""
    if line.direction == "fee":
        return "fee", None, None
    base = {"bank_tran_id": line.bank_tran_id, "direction": line.direction}
    payout = known.payouts.get(line.bank_tran_id)
    verification = known.verifications.get(line.bank_tran_id)
    deposit = known.deposits.get(line.bank_tran_id) if line.direction == "in" else None
    returned = known.returns.get(line.bank_tran_id) if line.direction == "out" else None
    if payout is not None:
        kind, ref, books_amount = "payout", payout["id"], payout["amount"]
        books_status, books_currency = payout["status"], payout["currency"]
    elif verification is not None:
        kind, ref, books_amount = "verification", verification["id"], VERIFY_AMOUNT
        books_status, books_currency = verification["status"], "KRW"
    elif (found := deposit or returned) is not None:
        kind = "deposit" if deposit is not None else "deposit_return"
        ref, books_amount = found.deposit.id, found.deposit.amount
        books_status, books_currency = found.deposit.status, found.currency
    else:
        out.missing_here.append(
            {
                **base,
                "amount": line.amount,
                "currency": line.currency,
                "booked_on": line.booked_on.isoformat(),
                "counterparty": line.counterparty,
            }
        )
        return "missing_here", None, None
    where = {**base, "kind": kind, "ref": ref, "books_status": books_status}
    if (line.amount, line.currency) != (books_amount, books_currency):
        out.amount_mismatch.append(
            {
                **where,
                "bank_amount": line.amount,
                "books_amount": books_amount,
                "currency": line.currency,
            }
        )
        result = "amount_mismatch"
    else:
        result = "matched"
    if line.direction == "in" and kind != "deposit":
        out.returned.append(_returned(where, line, kind, books_status))
        return ("returned" if result == "matched" else result), kind, ref
    if result == "matched":
        out.matched.append({**where, "amount": line.amount, "currency": line.currency})
    return result, kind, ref


def _returned(
    where: dict[str, Any], line: StatementLine, kind: str, books_status: str
) -> dict[str, Any]:
    if kind == "payout" and books_status in ("sent", "confirmed"):
        note = (
            f"the bank returned this transfer but our books still say {books_status}: "
            "check it and move the payout by hand (giftcash payouts inquire)"
        )
        attention = True
    elif kind == "payout":
        note = f"our books say {books_status}"
        attention = books_status != "returned"
    else:
        note = "a returned 1-won deposit: the account may be closed"
        attention = False
    return {
        **where,
        "amount": line.amount,
        "currency": line.currency,
        "booked_on": line.booked_on.isoformat(),
        "attention": attention,
        "note": note,
    }


def _missing_at_bank(
    deps: Deps, out: BankReconciliation, since: date, until: date, seen_out: set[str]
) -> None:
    start, end = day_bounds(since, until)
    with deps.reader() as uow:
        expected = uow.reconcile.expected_at_bank(start, end)
        unseen = [e["bank_tran_id"] for e in expected if e["bank_tran_id"] not in seen_out]
        # A transfer that an earlier statement booked on a day outside this one's period
        # (our clock and the bank's straddling midnight) is not missing; one booked inside
        # the period must be on this statement.
        imported = uow.reconcile.imported_out_days(unseen)
    for e in sorted(expected, key=lambda e: (e["at"], e["bank_tran_id"])):
        booked_on = imported.get(e["bank_tran_id"])
        if e["bank_tran_id"] in seen_out or (
            booked_on is not None and not since <= booked_on <= until
        ):
            continue
        amount = VERIFY_AMOUNT if e["kind"] == "verification" else e["amount"]
        out.missing_at_bank.append(
            {
                "bank_tran_id": e["bank_tran_id"],
                "kind": e["kind"],
                "ref": e["ref"],
                "amount": amount,
                "currency": e["currency"],
                "books_status": e["books_status"],
                "booked_at": e["at"].isoformat(),
            }
        )


# -- the issuers -----------------------------------------------------------------------------


@dataclass
class IssuerReconciliation:
    matched: list[dict[str, Any]] = field(default_factory=list)
    missing_here: list[dict[str, Any]] = field(default_factory=list)
    missing_at_issuer: list[dict[str, Any]] = field(default_factory=list)
    amount_mismatch: list[dict[str, Any]] = field(default_factory=list)
    totals: list[dict[str, Any]] = field(default_factory=list)
    lines: int = 0
    period: tuple[date, date] | None = None

    @property
    def clean(self) -> bool:
        return not (self.missing_here or self.missing_at_issuer or self.amount_mismatch)

    def as_dict(self) -> dict[str, Any]:
        return {
            "matched": self.matched,
            "missing_here": self.missing_here,
            "missing_at_issuer": self.missing_at_issuer,
            "amount_mismatch": self.amount_mismatch,
            "totals": self.totals,
            "summary": {
                "lines": self.lines,
                "period": None
                if self.period is None
                else {"from": self.period[0].isoformat(), "to": self.period[1].isoformat()},
                "clean": self.clean,
            },
        }


def reconcile_issuer(
    deps: Deps,
    lines: Iterable[SettlementLine],
    *,
    since: date | None = None,
    until: date | None = None,
    issuers: Iterable[str] | None = None,
) -> IssuerReconciliation:
    """Compare settlement reports with ``assets:issuer:*``. Read-only: nothing is posted
    (the report says what was captured, not what the issuer has paid us)."""
    report = list(lines)
    only = {i.lower() for i in issuers} if issuers else None
    if only is not None:
        report = [line for line in report if line.issuer in only]
    out = IssuerReconciliation(lines=len(report))
    days = [line.day for line in report]
    since = since or (min(days) if days else None)
    until = until or (max(days) if days else None)
    with deps.reader() as uow:
        ours = uow.reconcile.redemptions_by_key([line.idempotency_key for line in report])
        expected: list[RowView] = []
        if since is not None and until is not None:
            out.period = (since, until)
            expected = uow.reconcile.booked_redemptions(*day_bounds(since, until))
        balances = uow.reconcile.issuer_balances()
    if only is not None:
        expected = [e for e in expected if e["issuer"] in only]
    report_sum: dict[str, int] = {}
    books_sum: dict[str, int] = {}
    reported = set()
    for line in report:
        reported.add(line.idempotency_key)
        report_sum[line.issuer] = report_sum.get(line.issuer, 0) + line.amount
        _match_redemption(line, ours.get(line.idempotency_key), out)
    for e in expected:
        books_sum[e["issuer"]] = books_sum.get(e["issuer"], 0) + e["amount"]
        if e["key"] not in reported:
            out.missing_at_issuer.append(
                {
                    "idempotency_key": e["key"],
                    "item_id": e["item_id"],
                    "issuer": e["issuer"],
                    "amount": e["amount"],
                    "currency": e["currency"],
                    "books_status": e["books_status"],
                    "booked_at": e["at"].isoformat(),
                }
            )
    for issuer in sorted(set(report_sum) | set(books_sum)):
        at_issuer, booked = report_sum.get(issuer, 0), books_sum.get(issuer, 0)
        out.totals.append(
            {
                "issuer": issuer,
                "issuer_amount": at_issuer,
                "books_amount": booked,
                "difference": at_issuer - booked,
                "ledger_balance": balances.get(issuer, 0),
            }
        )
    return out


def _match_redemption(
    line: SettlementLine, ours: RowView | None, out: IssuerReconciliation
) -> None:
    base = {
        "idempotency_key": line.idempotency_key,
        "redemption_id": line.redemption_id,
        "issuer": line.issuer,
    }
    if ours is None or ours["booked"] is None:
        out.missing_here.append(
            {
                **base,
                "amount": line.amount,
                "currency": line.currency,
                "day": line.day.isoformat(),
                "item_id": ours["id"] if ours else None,
                "books_status": ours["status"] if ours else None,
                "note": "no item with this key"
                if ours is None
                else "the item exists but the ledger has no capture for it",
            }
        )
        return
    where = {**base, "item_id": ours["id"], "books_status": ours["status"]}
    if ours["booked"] != line.amount or ours["issuer"] != line.issuer:
        out.amount_mismatch.append(
            {
                **where,
                "issuer_amount": line.amount,
                "books_amount": ours["booked"],
                "books_issuer": ours["issuer"],
                "currency": line.currency,
            }
        )
        return
    out.matched.append({**where, "amount": line.amount, "currency": line.currency})

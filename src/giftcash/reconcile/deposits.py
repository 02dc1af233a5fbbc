"""Reconciliation of the buyers' deposits: the bank's own records of what reached our
virtual accounts, and of what it returned, against the deposits in our books.

The bank lists every deposit received in the period with every return asked for it
(``VirtualAccountPort.deposits_between``); our side is ``order_deposits`` with the state
of each deposit's order. Findings (each makes the run unclean):

- ``deposit_unrecorded``: the bank received it, our books never recorded it (a lost
  notification nobody asked the bank about, or a deleted row);
- ``deposit_missing_at_bank``: our books record a deposit the bank did not receive then;
- ``amount_mismatch``: a deposit's amount differs, or a return was not for the whole
  deposit;
- ``return_missing``: our books say returned, the bank has no return under our key;
- ``return_twice``: the bank returned one deposit more than once;
- ``return_unrecorded``: the bank returned a deposit our books keep, or returned it under
  a key not ours;
- ``kept_unsettled``: a kept deposit whose order is neither paid nor delivered (a
  refunded order's deposit is returned, an expired order's was never kept).

A return queued or sent whose outcome our books have not recorded yet is listed as
``pending`` (the worker's next pass settles it), not as a finding. Read-only: nothing is
moved from a report; an operator decides.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from giftcash.domain.states import DepositStatus, OrderStatus
from giftcash.reconcile.lines import StatementLine
from giftcash.reconcile.matching import BankReconciliation, Progress, day_bounds, reconcile_bank
from giftcash.service.deps import Deps
from giftcash.service.ports import Unavailable
from giftcash.service.ports.records import RecordedDeposit
from giftcash.service.ports.virtual_accounts import BankDeposit, VirtualAccountPort

FINDINGS = (
    "deposit_unrecorded",
    "deposit_missing_at_bank",
    "amount_mismatch",
    "return_missing",
    "return_twice",
    "return_unrecorded",
    "kept_unsettled",
)
KEPT_ORDERS = frozenset({OrderStatus.PAID.value, OrderStatus.DELIVERED.value})


@dataclass
class DepositReconciliation:
    findings: list[dict[str, Any]] = field(default_factory=list)
    pending: list[dict[str, Any]] = field(default_factory=list)
    at_bank: int = 0
    in_books: int = 0
    matched: int = 0
    period: tuple[date, date] | None = None

    @property
    def clean(self) -> bool:
        return not self.findings

    def kinds(self) -> dict[str, int]:
        return dict(Counter(f["finding"] for f in self.findings))

    def as_dict(self) -> dict[str, Any]:
        return {
            "findings": self.findings,
            "pending": self.pending,
            "summary": {
                "at_bank": self.at_bank,
                "in_books": self.in_books,
                "matched": self.matched,
                "findings": self.kinds(),
                "period": None
                if self.period is None
                else {"from": self.period[0].isoformat(), "to": self.period[1].isoformat()},
                "clean": self.clean,
            },
        }


@dataclass(frozen=True, slots=True)
class BankDay:
    """A statement's reconciliation and the deposits' for its period. ``deposits`` is
    None when there are no virtual accounts or none was asked for; ``deposits_unread``:
    the bank could not list them (not clean: run again)."""

    statement: BankReconciliation
    deposits: DepositReconciliation | None
    deposits_unread: bool = False

    @property
    def clean(self) -> bool:
        return (
            self.statement.clean
            and not self.deposits_unread
            and (self.deposits is None or self.deposits.clean)
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.statement.as_dict(),
            "deposits": None if self.deposits is None else self.deposits.as_dict(),
            "deposits_unread": self.deposits_unread,
        }


def reconcile_bank_day(
    deps: Deps,
    lines: Iterable[StatementLine],
    *,
    since: date | None = None,
    until: date | None = None,
    progress: Progress | None = None,
    deposits: bool = True,
) -> BankDay:
    """``matching.reconcile_bank`` on the statement, then, with virtual accounts (and
    ``deposits``), ``reconcile_deposits`` for the statement's period."""
    statement = reconcile_bank(deps, lines, since=since, until=until, progress=progress)
    port = deps.virtual_accounts
    if not deposits or port is None or statement.period is None:
        return BankDay(statement, None)
    try:
        return BankDay(statement, reconcile_deposits(deps, port, *statement.period))
    except Unavailable:
        return BankDay(statement, None, deposits_unread=True)


def reconcile_deposits(
    deps: Deps, port: VirtualAccountPort, since: date, until: date
) -> DepositReconciliation:
    """Compare the deposits received in [since, until] (inclusive UTC days) at the bank
    with our books. Raises ``Unavailable`` when the bank cannot list them."""
    start, end = day_bounds(since, until)
    at_bank = port.deposits_between(start, end)
    with deps.reader() as uow:
        in_window = uow.reconcile.deposits_received(start, end)
        by_id = uow.reconcile.deposits_by_bank_id([b.deposit.deposit_id for b in at_bank])
    ours = {r.deposit.bank_deposit_id: r for r in in_window} | by_id
    out = DepositReconciliation(
        at_bank=len(at_bank), in_books=len(in_window), period=(since, until)
    )
    seen: set[str] = set()
    for b in at_bank:
        seen.add(b.deposit.deposit_id)
        before = len(out.findings)
        _compare(b, ours.get(b.deposit.deposit_id), out)
        out.matched += len(out.findings) == before
    for r in in_window:
        if r.deposit.bank_deposit_id not in seen:
            out.findings.append(
                _finding("deposit_missing_at_bank", r.deposit.bank_deposit_id, r)
                | {
                    "books_amount": r.deposit.amount,
                    "note": "our books record it; the bank does not",
                }
            )
    out.findings.sort(key=lambda f: (FINDINGS.index(f["finding"]), f["deposit_id"]))
    return out


def _finding(kind: str, deposit_id: str, ours: RecordedDeposit | None) -> dict[str, Any]:
    assert kind in FINDINGS, kind
    return {
        "finding": kind,
        "deposit_id": deposit_id,
        "ref": ours.deposit.order_id if ours else None,
        "books_status": ours.deposit.status if ours else None,
        "currency": ours.currency if ours else "KRW",
    }


def _compare(b: BankDeposit, ours: RecordedDeposit | None, out: DepositReconciliation) -> None:
    d = b.deposit
    if ours is None:
        out.findings.append(
            _finding("deposit_unrecorded", d.deposit_id, None)
            | {
                "ref": b.reference,
                "bank_amount": d.amount,
                "note": f"received {d.received_at.isoformat(timespec='seconds')}; not in our books",
            }
        )
        return
    mine = ours.deposit
    if d.amount != mine.amount:
        out.findings.append(
            _finding("amount_mismatch", d.deposit_id, ours)
            | {"bank_amount": d.amount, "books_amount": mine.amount, "note": "the deposit"}
        )
    returned = [r for r in b.returns if r.outcome == "returned"]
    keys = [r.key for r in returned]
    if len(returned) > 1:
        out.findings.append(
            _finding("return_twice", d.deposit_id, ours)
            | {
                "bank_amount": sum(r.amount for r in returned),
                "books_amount": d.amount,
                "note": f"returned {len(returned)} times, under {', '.join(keys)}",
            }
        )
    for r in returned:
        if r.amount != d.amount:
            out.findings.append(
                _finding("amount_mismatch", d.deposit_id, ours)
                | {"bank_amount": r.amount, "books_amount": d.amount, "note": f"return {r.key}"}
            )
    _books_state(d.deposit_id, ours, keys, out)


def _books_state(
    deposit_id: str, ours: RecordedDeposit, keys: list[str], out: DepositReconciliation
) -> None:
    mine = ours.deposit
    status = mine.status
    if status == DepositStatus.RETURNED.value and mine.return_key not in keys:
        out.findings.append(
            _finding("return_missing", deposit_id, ours)
            | {
                "books_amount": mine.amount,
                "note": f"our books say returned under {mine.return_key}; the bank has "
                + (f"returns under {', '.join(keys)} only" if keys else "no return"),
            }
        )
    elif status == DepositStatus.RETURNING.value:
        if keys and mine.return_key not in keys:
            out.findings.append(
                _finding("return_unrecorded", deposit_id, ours)
                | {"note": f"returned at the bank under {', '.join(keys)}, not our key"}
            )
        else:
            note = "sent; our books record it on the worker's next pass" if keys else "queued"
            out.pending.append(
                {"deposit_id": deposit_id, "ref": mine.order_id, "books_status": status}
                | {"amount": mine.amount, "currency": ours.currency, "note": note}
            )
    elif status in (DepositStatus.MATCHED.value, DepositStatus.RECEIVED.value) and keys:
        out.findings.append(
            _finding("return_unrecorded", deposit_id, ours)
            | {"note": f"our books keep it ({status}); the bank returned it under {keys[0]}"}
        )
    if status == DepositStatus.MATCHED.value and ours.order_status not in KEPT_ORDERS:
        out.findings.append(
            _finding("kept_unsettled", deposit_id, ours)
            | {
                "books_amount": mine.amount,
                "note": f"kept, but its order is {ours.order_status}",
            }
        )

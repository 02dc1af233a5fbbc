"""The end checks of a harness run, from both sides: our database and ledger, and what
the issuer and bank simulators say happened. Every figure is a count (or won) that must
be zero for a run to pass.

- unsettled: items not terminal (paid, declined, invalid) and not legitimately waiting
  (review, failed: an operator's turn; redeemed or stocked while the payout account is
  not verified), plus payouts not yet confirmed, returned or rejected, plus accounts (in use
  or waiting for their code) whose 1-won deposit has no recorded outcome.
- double redemptions: codes the issuer redeemed more than once, plus codes captured and
  then sent to the issuer again under another idempotency key (the simulator refuses
  those, a real issuer might not; read from the simulator's own store).
- double payouts: money-moving bank transfers that are not the one transfer of a payout
  or a 1-won verification we know, more than one transfer per id, and customers whose
  account received more than the payouts of their paid items.
- lost won: issuer redemptions total vs the ledger's ``assets:issuer:*`` debits, plus the
  bank's moved total vs what the ledger moved out of the bank (payouts sent, less
  returns, plus 1-won verifications).
- invariant breaks: ``ledger.check`` violations (and a failing ``giftcash ledger check``),
  customer liabilities that differ from the items still owed, confirmed payouts whose
  items are not all paid or do not add up, paid items whose payout is not confirmed.
"""

from __future__ import annotations

import sqlite3
import subprocess
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Connection, Engine, func, select

from giftcash.adapters.db import tables as t
from giftcash.adapters.db.ledger_check import check as ledger_violations
from giftcash.adapters.db.uow import SqlUnitOfWork
from giftcash.domain import ledger
from giftcash.selftest.stack import Simulators, clean_env, giftcash_command
from giftcash.service.deps import Vault

TERMINAL = frozenset({"paid", "declined", "invalid", "withheld"})
WAITING = frozenset({"review", "failed"})
PAYOUT_DONE = frozenset({"confirmed", "returned", "rejected", "cancelled"})
PAYOUT_OWED = frozenset(
    {"pending", "sending", "unknown", "held"}
)  # not yet debited to the customer
MOVED = frozenset({"done", "pending"})  # money that left the operating account and stayed out

AccountHmac = Callable[[str, str], str]  # (bank code, account number) -> our keyed hash


@dataclass
class EndCheck:
    items: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    unsettled: int = 0
    double_redemptions: int = 0
    double_payouts: int = 0
    lost_won: int = 0
    invariant_breaks: int = 0
    ledger_check_exit: int = 0
    recovered: int = 0  # outcomes committed only after the caller died (kills that landed)
    check_errors: int = 0  # a check that could not run
    notes: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (
            self.unsettled
            or self.double_redemptions
            or self.double_payouts
            or self.lost_won
            or self.invariant_breaks
            or self.check_errors
        )


def unsettled(conn: Connection) -> int:
    """Items and payouts that still need a worker (see the module's definition)."""
    i, s, a, p = t.items.c, t.submissions.c, t.bank_accounts.c, t.payouts.c
    rows = conn.execute(
        select(i.status, a.status, func.count())
        .join(t.submissions, s.id == i.submission_id)
        .join(t.bank_accounts, a.id == s.bank_account_id)
        .group_by(i.status, a.status)
    ).all()
    n = sum(
        count
        for status, account_status, count in rows
        if status not in TERMINAL
        and status not in WAITING
        and not (status in ("redeemed", "stocked") and account_status != "verified")
    )
    n += conn.execute(
        select(func.count()).select_from(t.payouts).where(p.status.not_in(PAYOUT_DONE))
    ).scalar_one()
    return int(n) + unrecorded_verifications(conn)


def unrecorded_verifications(conn: Connection) -> int:
    """Accounts in use or waiting for their code whose 1-won deposit has no recorded
    outcome in the books (the sweeper's work)."""
    a, lt = t.bank_accounts.c, t.ledger_transfers.c
    recorded = select(lt.id).where(lt.id == ("verify:" + a.id))
    return int(
        conn.execute(
            select(func.count())
            .select_from(t.bank_accounts)
            .where(
                a.status.in_(("verifying", "verified")),
                a.verify_bank_tran_id.is_not(None),
                ~recorded.exists(),
            )
        ).scalar_one()
    )


def unsettled_now(engine: Engine) -> int:
    with SqlUnitOfWork(engine, read_only=True) as uow:
        return unsettled(uow.conn)


def _aware(moment: datetime | str) -> datetime:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def replays_under_new_keys(issuer_store: Path) -> int:
    """Requests that sent a code the issuer had already captured under another key."""
    if not issuer_store.exists():
        return 0
    db = sqlite3.connect(f"file:{issuer_store}?mode=ro", uri=True)
    try:
        rows = db.execute(
            "SELECT COUNT(DISTINCT idempotency_key), SUM(status_code IN (200, 201))"
            " FROM answers GROUP BY issuer, fingerprint"
        ).fetchall()
    finally:
        db.close()
    return sum(keys - 1 for keys, captured in rows if captured and keys > 1)


def cli_ledger_check(database_url: str, extra_env: dict[str, str] | None = None) -> tuple[int, str]:
    """The exit status of the real ``giftcash ledger check`` on this database, and the
    first line it wrote when it failed."""
    done = subprocess.run(  # noqa: S603 - our own console script, no shell
        [giftcash_command(), "ledger", "check", "--database-url", database_url],
        env={**clean_env(), **(extra_env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    said = (done.stdout + done.stderr).strip().splitlines()
    return done.returncode, (said[0] if done.returncode and said else "")


def _debits_by_kind(conn: Connection) -> dict[str, int]:
    lp, lt = t.ledger_postings.c, t.ledger_transfers.c
    rows = conn.execute(
        select(lt.kind, func.sum(lp.amount))
        .join(t.ledger_transfers, lt.id == lp.transfer_id)
        .where(lp.amount > 0)
        .group_by(lt.kind)
    ).all()
    return {kind: int(total or 0) for kind, total in rows}


def _balances(conn: Connection, prefix: str) -> dict[str, int]:
    lp = t.ledger_postings.c
    rows = conn.execute(
        select(lp.account, func.sum(lp.amount))
        .where(lp.account.like(prefix + "%"))
        .group_by(lp.account)
    ).all()
    return {account: int(total or 0) for account, total in rows}


def check_world(
    engine: Engine, database_url: str, sims: Simulators, vault: Vault, lease_s: float | None = None
) -> EndCheck:
    """``run_checks`` against the selftest's own simulators (stack.Simulators), our bank
    accounts named by the vault's keyed hash: the end of every scenario's run."""
    return run_checks(
        engine,
        database_url=database_url,
        issuer_url=sims.issuer_url,
        bank_url=sims.bank_url,
        issuer_store=sims.issuer_store,
        account_hmac=lambda bank, number: vault.hmac(f"account:{bank}:{number}"),
        lease_s=lease_s,
    )


def run_checks(
    engine: Engine,
    *,
    database_url: str,
    issuer_url: str,
    bank_url: str,
    issuer_store: Path,
    account_hmac: AccountHmac,
    lease_s: float | None = None,
    cli_env: dict[str, str] | None = None,
) -> EndCheck:
    """``account_hmac(bank_code, number)`` is the keyed hash our bank_accounts rows carry
    (the vault's), so the bank's transfers map to our customers without decrypting."""
    out = EndCheck()
    with httpx.Client(timeout=60) as http:
        redemptions = http.get(f"{issuer_url}/sim/redemptions").json()
        transfers = http.get(f"{bank_url}/sim/transfers").json()["transfers"]
        asked = http.get(f"{bank_url}/sim/returns")
    # Returns of buyers' deposits to virtual accounts are resale's (resale.check_resale),
    # not payouts: left out of the payout checks here.
    returns = {r["return_key"] for r in asked.json()["returns"]} if asked.is_success else set()
    transfers = [x for x in transfers if x["bank_tran_id"] not in returns]
    with SqlUnitOfWork(engine, read_only=True) as uow:
        conn = uow.conn
        _items_and_payouts(conn, out)
        _double_redemptions(conn, out, redemptions, issuer_store)
        _bank_side(conn, out, transfers, account_hmac)
        _lost_won(conn, out, redemptions, transfers)
        _invariants(conn, out)
        if lease_s is not None:
            _recovered(conn, out, redemptions, transfers, lease_s)
    out.ledger_check_exit, said = cli_ledger_check(database_url, cli_env)
    if out.ledger_check_exit != 0:
        out.notes.append(f"giftcash ledger check exited {out.ledger_check_exit}: {said}")
        if out.ledger_check_exit == 1:  # it found violations
            out.invariant_breaks += 1
        else:  # it could not check (e.g. the code moved to a newer schema mid-run)
            out.check_errors += 1
    return out


def _items_and_payouts(conn: Connection, out: EndCheck) -> None:
    i = t.items.c
    out.by_status = {
        s: int(n) for s, n in conn.execute(select(i.status, func.count()).group_by(i.status))
    }
    out.items = sum(out.by_status.values())
    out.unsettled = unsettled(conn)
    if out.unsettled:
        out.notes.append(f"unsettled: items by status {out.by_status}")


def _double_redemptions(
    conn: Connection, out: EndCheck, redemptions: dict[str, Any], issuer_store: Path
) -> None:
    twice = int(redemptions.get("codes_redeemed_more_than_once", 0))
    replays = replays_under_new_keys(issuer_store)
    out.double_redemptions = twice + replays
    if out.double_redemptions:
        out.notes.append(f"issuer: {twice} codes redeemed twice, {replays} under a new key")
    ours = set(conn.scalars(select(t.items.c.redeem_key).where(t.items.c.redeem_key.is_not(None))))
    foreign = [r for r in redemptions["redemptions"] if r["idempotency_key"] not in ours]
    if foreign:
        out.notes.append(f"issuer: {len(foreign)} redemptions under keys we never stored")


def _bank_side(
    conn: Connection, out: EndCheck, transfers: list[dict[str, Any]], account_hmac: AccountHmac
) -> None:
    p, a, i = t.payouts.c, t.bank_accounts.c, t.items.c
    payout_ids = set(conn.scalars(select(p.bank_tran_id).where(p.bank_tran_id.is_not(None))))
    verify_ids = set(
        conn.scalars(select(a.verify_bank_tran_id).where(a.verify_bank_tran_id.is_not(None)))
    )
    moving = [x for x in transfers if x["status"] in MOVED | {"returned"}]
    per_id = Counter(x["bank_tran_id"] for x in moving)
    repeated = sum(n - 1 for n in per_id.values() if n > 1)
    unknown = [x for x in moving if x["bank_tran_id"] not in payout_ids | verify_ids]

    owner = {
        h: c for h, c in conn.execute(select(a.account_number_hmac, a.customer_id)) if h is not None
    }
    received: Counter[str] = Counter()
    for x in transfers:
        if x["status"] in MOVED and x["bank_tran_id"] not in verify_ids:
            customer = owner.get(account_hmac(x["bank_code"], x["account_num"]), "?")
            received[customer] += int(x["amount"])
    sent_ids = set(conn.scalars(select(p.id).where(p.status.in_(("sent", "confirmed")))))
    earned: Counter[str] = Counter()
    for customer, payout, status, payout_id in conn.execute(
        select(i.customer_id, i.payout, i.status, i.payout_id)
    ):
        if status == "paid" or (status == "paying" and payout_id in sent_ids):
            earned[customer] += int(payout)
    overpaid = [c for c, won in received.items() if won > earned.get(c, 0)]
    out.double_payouts = repeated + len(unknown) + len(overpaid)
    if out.double_payouts:
        out.notes.append(
            f"bank: {repeated} repeated ids, {len(unknown)} transfers we hold no id for,"
            f" {len(overpaid)} customers paid more than their paid items"
        )


def _lost_won(
    conn: Connection, out: EndCheck, redemptions: dict[str, Any], transfers: list[dict[str, Any]]
) -> None:
    issuer_total = sum(int(r["amount"]) for r in redemptions["redemptions"])
    issuer_debits = _debits(conn, ledger.ISSUER_PREFIX)
    bank_moved = sum(int(x["amount"]) for x in transfers if x["status"] in MOVED)
    d = _debits_by_kind(conn)
    ledger_out = (
        d.get("payout_sent", 0) - d.get("payout_returned", 0) + d.get("account_verification", 0)
    )
    out.lost_won = abs(issuer_total - issuer_debits) + abs(bank_moved - ledger_out)
    if out.lost_won:
        out.notes.append(
            f"issuer captured {issuer_total:,} won, ledger debits {issuer_debits:,};"
            f" bank moved {bank_moved:,} won, ledger moved out {ledger_out:,}"
        )


def _debits(conn: Connection, prefix: str) -> int:
    lp = t.ledger_postings.c
    total = conn.execute(
        select(func.sum(lp.amount)).where(lp.account.like(prefix + "%"), lp.amount > 0)
    ).scalar()
    return int(total or 0)


def _invariants(conn: Connection, out: EndCheck) -> None:
    violations = ledger_violations(conn)
    breaks = len(violations)
    for v in violations[:5]:
        out.notes.append(f"ledger: {v.rule} {v.subject} {v.message}")
    i, p = t.items.c, t.payouts.c
    payouts = {
        r.id: (r.status, int(r.amount), r.customer_id)
        for r in conn.execute(select(p.id, p.status, p.amount, p.customer_id))
    }
    owed: Counter[str] = Counter()
    by_payout: dict[str, list[tuple[str, int]]] = {}
    paid_unconfirmed = 0
    for customer, status, payout, payout_id in conn.execute(
        select(i.customer_id, i.status, i.payout, i.payout_id)
    ):
        if status in ("redeemed", "stocked") or (
            status == "paying" and payout_id in payouts and payouts[payout_id][0] in PAYOUT_OWED
        ):
            owed[customer] += int(payout)
        if payout_id is not None:
            by_payout.setdefault(payout_id, []).append((status, int(payout)))
        if status == "paid" and payouts.get(payout_id, ("",))[0] != "confirmed":
            paid_unconfirmed += 1
    if paid_unconfirmed:
        breaks += paid_unconfirmed
        out.notes.append(f"{paid_unconfirmed} items are paid but their payout is not confirmed")
    liabilities = _balances(conn, ledger.CUSTOMER_PREFIX)
    owed_by_account = {ledger.customer_account(c): won for c, won in owed.items()}
    for account in set(owed_by_account) | set(liabilities):
        balance, expected = -liabilities.get(account, 0), owed_by_account.get(account, 0)
        if balance != expected:
            breaks += 1
            out.notes.append(f"customer liability {balance:,} won, items still owed {expected:,}")
    for payout_id, (status, amount, _customer) in payouts.items():
        if status != "confirmed":
            continue
        items = by_payout.get(payout_id, [])
        if any(s != "paid" for s, _ in items) or sum(won for _, won in items) != amount:
            breaks += 1
            out.notes.append("a confirmed payout does not match its paid items")
    out.invariant_breaks += breaks


def _recovered(
    conn: Connection,
    out: EndCheck,
    redemptions: dict[str, Any],
    transfers: list[dict[str, Any]],
    lease_s: float,
) -> None:
    """Outcomes committed at least a lease after the foreign call: the caller died between
    the call and its commit, and a later claim settled it by inquiry."""
    gap_s = max(lease_s - 0.5, 0.5)
    e, i, p = t.item_events.c, t.items.c, t.payouts.c
    redeemed_at = {
        key: _aware(at)
        for key, at in conn.execute(
            select(i.redeem_key, e.at)
            .join(t.items, i.id == e.item_id)
            .where(e.to_status.in_(("redeemed", "failed")), e.from_status == "redeeming")
        )
    }
    items = sum(
        1
        for r in redemptions["redemptions"]
        if r["idempotency_key"] in redeemed_at
        and (redeemed_at[r["idempotency_key"]] - _aware(r["at"])).total_seconds() >= gap_s
    )
    sent_at = {
        tran_id: _aware(at)
        for tran_id, at in conn.execute(
            select(p.bank_tran_id, p.sent_at).where(p.sent_at.is_not(None))
        )
    }
    payouts = sum(
        1
        for x in transfers
        if x["bank_tran_id"] in sent_at
        and (sent_at[x["bank_tran_id"]] - _aware(x["at"])).total_seconds() >= gap_s
    )
    out.recovered = items + payouts

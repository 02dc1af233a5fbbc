"""Bank simulator in the open-banking (KFTC) shape, DOMAIN-FACTS §3.

Real API (fault injection applies); amounts travel as digit strings, as in KFTC's API:

- ``POST /v2.0/inquiry/real_name {bank_code_std, account_num, account_holder_info_type,
  account_holder_info, tran_dtime}`` → ``rsp_code`` A0000, ``bank_rsp_code`` 000 and
  ``account_holder_name``; an account the simulator never opened is A0002 / 412 (as in
  KFTC's API, ``rsp_message`` is then the generic "참가기관 에러" and the reason is in
  ``bank_rsp_message``).
  ``account_holder_info`` (YYMMDD) is checked against the birth date when the account has
  one.
- ``POST /v2.0/transfer/deposit/acnt_num`` (입금이체, ``req_cnt`` 1) → A0000 with one
  ``res_list`` item: ``bank_rsp_code`` 000, ``bank_tran_id``, ``tran_amt``. The item's
  ``bank_tran_id`` is the idempotency key: the same id again moves nothing and answers
  the first outcome, success or refusal; the same id with another account, amount,
  holder or memo is refused with 409. A refused deposit moves no money.
- ``POST /v2.0/transfer/result {req_cnt, req_list: [{tran_no, org_bank_tran_id,
  org_bank_tran_date, org_tran_amt}]}`` (이체결과조회) → per item ``status``: ``done`` |
  ``pending`` | ``returned`` | ``rejected`` | ``not_found``, with ``bank_rsp_code`` and
  ``tran_amt``. The lookup is by ``org_bank_tran_id``; the amount reported is the one
  actually moved.

Answer codes (``rsp_code`` A0002 "참가기관 에러" plus ``bank_rsp_code``): 412 no such
account and 815 holder name mismatch are the participating banks' codes (as listed in
Payple's documentation); 820 holder information mismatch, 551 insufficient funds in the
withdrawal account, 409 ``bank_tran_id`` reused with another request and 404 transfer
not found are this simulator's own, as is 531 the receiving bank is closed (점검 시간),
which carries ``available_dtime`` (KST, YYYYMMDDHHMMSS: when it takes transfers again)
and is not stored (the bank did nothing: the same ``bank_tran_id`` may be sent again).
A malformed request is HTTP 422 with ``rsp_code`` O0001.

Bank hours (a fault mode, off until set; in memory like ``/sim/faults``): ``POST
/sim/faults/bank-hours {nightly: "23:30-00:30", per_bank: {"088": "23:40-00:10"},
maintenance: [{bank_code, starts_at, ends_at}]}`` (the shape of giftcash's own calendar:
``GIFTCASH_BANK_NIGHTLY``, ``GIFTCASH_BANK_NIGHTLY_PER_BANK`` and the console's
maintenance windows) makes every deposit to a bank inside its window answer 531;
``GET`` shows it with the count of refusals, ``DELETE`` opens every bank again.

Test data and inspection (``/sim/*``, never faulted):

- ``POST /sim/accounts {bank_code, account_number, holder_name, birth_date?, balance?}``
  → 201 (the same account again: 200; another holder on the same number: 409).
- ``POST /sim/transfers/{bank_tran_id}/return {reason}``: a done transfer bounces
  (status ``returned``): the money leaves the customer's account and comes back to the
  operating account.
- ``GET /sim/transfers[?status=]`` → ``{transfers: [{bank_tran_id, bank_code,
  account_num, holder, amount, print_content, status, at, bank_rsp_code,
  bank_rsp_message, returned_at, return_reason}], count}``; ``bank_tran_id`` is the
  primary key, so a second transfer with one id cannot exist. ``GET
  /sim/transfers/{bank_tran_id}`` → one of them.
- ``GET /sim/accounts/{bank_code}/{account_num}/transactions`` → what the customer sees in
  their bank app: ``{account: {bank_code, account_num, holder_name, balance},
  transactions: [{at, direction, amount, balance_after, counterparty, memo,
  bank_tran_id}]}``; the memo of a deposit is its ``print_content`` (where the 1-won
  verification code travels).
- ``GET /sim/operating-account`` → the exchange's own account and its balance.
- ``GET /sim/statement[?date=YYYY-MM-DD]`` → the operating account's statement as CSV,
  one line per transfer (``direction`` out) or return (``direction`` in), in booking
  order, columns: ``date`` (UTC, YYYY-MM-DD), ``bank_tran_id``, ``direction``
  (out | in), ``amount``, ``balance_after`` (the operating account after this line),
  ``counterparty`` (holder, bank code and masked account), ``memo`` (``wd_print_content``
  for a transfer, the reason for a return), ``status`` (done | returned), ``at`` (UTC
  timestamp). Lines are written once and never change: a return is a new line.

Virtual accounts (가상계좌, how buyers pay; ``giftcash.simulators.virtual_accounts``). Real
API (fault injection applies), same envelope (``rsp_code`` A0000, or A0002 with
``bank_rsp_code``), amounts as digit strings, deadlines as KST ``YYYYMMDDHHMMSS``:

- ``POST /v2.0/vaccount/issue {reference, tran_amt, account_holder_name, expire_dtime}``
  → ``{bank_code_std, account_num, reference, account_holder_name, tran_amt,
  expire_dtime, status}``. One account per ``reference`` (our order id): the same
  reference and terms again answer the same account; other terms are refused (408).
- ``POST /v2.0/vaccount/close {account_num}`` → the account, ``status`` closed
  (idempotent; 404 for a number never issued). A closed account takes no more money.
- ``POST /v2.0/vaccount/deposits {account_num}`` (입금내역조회) → the account and
  ``res_list`` of its deposits, oldest first: ``{deposit_id, tran_amt, payer_name,
  payer_bank_code_std, payer_account_num_masked, received_at (ISO UTC), state (received |
  returned)}``.
- ``POST /v2.0/vaccount/return {bank_tran_id, deposit_id, tran_amt, print_content}``
  (반환): the whole deposit back to its payer; ``bank_tran_id`` is our key. The same key
  again answers the first outcome and moves nothing; the same key with another deposit or
  amount, or a payout's ``bank_tran_id``, is refused (409); refusals: 404 no such deposit,
  610 already returned (under another key), 611 not the full amount (a refusal is kept
  under its key, like a deposit's); 531 the payer's bank is closed (bank hours, with
  ``available_dtime``) and 551 the operating account is short are not kept: the same key
  may come again. A return books a transfer (``/sim/transfers``, status done) and a
  statement line.
- ``POST /v2.0/vaccount/return/result {org_bank_tran_id}`` → ``status`` returned |
  rejected | not_found, with ``deposit_id`` and ``tran_amt``: how a lost answer is
  resolved.
- ``POST /v2.0/vaccount/transactions {from_dtime, to_dtime, befor_inquiry_trace_info?,
  page_size?}`` (가상계좌 입금내역 일괄조회, KST ``YYYYMMDDHHMMSS``) → every deposit
  received in [from, to) on any of the bank's virtual accounts, oldest first, as
  ``res_list`` items of the deposits inquiry plus ``account_num``, ``reference`` and
  ``returns: [{bank_tran_id, tran_amt, status (returned | rejected), bank_rsp_code,
  returned_at}]`` (every return asked for the deposit, at any time). At most
  ``page_size`` (≤ 500) a page: ``next_page_yn`` Y means more, asked for by sending the
  answer's ``befor_inquiry_trace_info`` back. What ``giftcash reconcile bank`` compares
  with the deposits and returns in our books.

Deposit notifications: each deposit is announced by a POST of ``{type:
"virtual_account.deposit", timestamp, data: {bank_code_std, account_num, reference,
deposit_id, tran_amt, payer_name, payer_bank_code_std, payer_account_num_masked,
received_at, state}}`` to the notification URL, signed the Standard Webhooks way
(``webhook-id``: ``msg_<deposit_id>``, the same on every retry and repeat;
``webhook-timestamp``: Unix seconds of this attempt; ``webhook-signature``: ``v1,`` +
base64 HMAC-SHA256 of ``{id}.{timestamp}.{body}`` under the ``whsec_`` secret). The
notification waits in an outbox and is sent by a background loop (or ``POST
/sim/notifications/deliver``, one pass); any answer but 2xx is retried after a backoff
that doubles from ``notification_backoff_s`` up to 300 s, for at most 20 attempts
(then ``failed``). Faults, in memory like ``/sim/faults``: ``POST
/sim/faults/notifications {lost_rate, repeat_rate, delay_ms, out_of_order, seed}`` — a
lost notification is never sent (status ``lost``), a repeated one goes twice per
attempt, a delayed one waits ``delay_ms`` before its first attempt, out of order sends
the due ones newest first; ``GET`` shows it with counts, ``DELETE`` clears it.

Virtual-account test data and inspection (never faulted):

- ``POST /sim/virtual-accounts/{account_num}/deposits {payer_name, payer_bank_code,
  payer_account, amount}`` → 201 with the deposit: a buyer's transfer. The bank takes any
  amount, any name, after the deadline and twice (judging it is giftcash's job); only a
  closed account refuses (409) and an unknown one is 404. The money lands on the
  operating account (a statement line ``in``, status ``deposit``; a return is a line
  ``out``, status ``deposit_return``) and, if the simulator opened the payer's account,
  leaves it (and comes back on a return).
- ``GET /sim/virtual-accounts`` → every account with its deposits (payer account in
  full); ``GET /sim/returns[?deposit_id=]`` → every return asked (``return_key``,
  ``deposit_id``, ``amount``, ``status`` returned | rejected, ``bank_rsp_code``, ``memo``,
  ``at``): a deposit has at most one ``returned`` row; ``GET /sim/notifications`` → the
  outbox (``msg_id``, ``deposit_id``, ``status`` pending | delivered | lost | failed,
  ``copies``, ``attempts``, ``sends``, ``next_at``, ``delivered_at``, ``last_answer``).

Settlement: a deposit completes at once unless the app is built with
``settlement_delay_s``; then it is ``pending`` (the amount is held against the operating
account's available funds, but nobody is debited or credited and there is no statement
line yet) until that much time has passed on the clock, when the next request books it.
``GET /sim/operating-account`` shows ``balance`` and ``pending``.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from giftcash.domain import bank_hours as bh
from giftcash.domain.banks import BANKS, InvalidBankAccount, mask_account, same_holder
from giftcash.domain.banks import normalise_account_number as _normalise_account
from giftcash.simulators.common import (
    Clock,
    answer,
    base_app,
    csv_response,
    iso,
    serve,
    utc_now,
)
from giftcash.simulators.store import META_SCHEMA, Store, meta_get, meta_set
from giftcash.simulators.virtual_accounts import SCHEMA as VA_SCHEMA
from giftcash.simulators.virtual_accounts import (
    AccountRefIn,
    Delivery,
    IssueIn,
    NotificationFaults,
    PayerDepositIn,
    ReturnResultIn,
    Sender,
    VirtualAccounts,
    http_sender,
)
from giftcash.simulators.virtual_accounts import ListIn as VaListIn
from giftcash.simulators.virtual_accounts import ReturnIn as DepositReturnIn

OK, BANK_OK = "A0000", "000"
BANK_ERROR = "A0002"  # 참가기관 에러: the participating bank refused
NO_ACCOUNT, NAME_MISMATCH, INFO_MISMATCH = "412", "815", "820"
NO_FUNDS, ID_REUSED, NOT_FOUND = "551", "409", "404"
CLOSED = "531"
MESSAGES = {
    CLOSED: "수취은행 점검 시간 (the receiving bank is closed for maintenance)",
    NO_ACCOUNT: "해당계좌 없음 (no such account)",
    NAME_MISMATCH: "예금주명 불일치 (holder name mismatch)",
    INFO_MISMATCH: "실명정보 불일치 (holder information mismatch)",
    NO_FUNDS: "잔액 부족 (insufficient funds in the withdrawal account)",
    ID_REUSED: "은행거래고유번호 중복 (bank_tran_id used for another request)",
    NOT_FOUND: "원거래 없음 (no such transfer)",
}

SCHEMA = (
    META_SCHEMA
    + """
CREATE TABLE IF NOT EXISTS accounts (
    bank_code TEXT NOT NULL,
    account_num TEXT NOT NULL,
    holder_name TEXT NOT NULL,
    birth_date TEXT,
    balance INTEGER NOT NULL,
    opened_at TEXT NOT NULL,
    PRIMARY KEY (bank_code, account_num)
);
CREATE TABLE IF NOT EXISTS transfers (
    bank_tran_id TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    bank_code TEXT NOT NULL,
    account_num TEXT NOT NULL,
    holder TEXT NOT NULL,
    amount INTEGER NOT NULL CHECK (amount > 0),
    print_content TEXT NOT NULL,
    wd_print_content TEXT NOT NULL,
    req_client_name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'done', 'returned', 'rejected')),
    bank_rsp_code TEXT NOT NULL,
    bank_rsp_message TEXT NOT NULL,
    response TEXT NOT NULL,
    at TEXT NOT NULL,
    settles_at TEXT NOT NULL,
    returned_at TEXT,
    return_reason TEXT
);
CREATE INDEX IF NOT EXISTS transfers_pending ON transfers (settles_at) WHERE status = 'pending';
CREATE TABLE IF NOT EXISTS account_entries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    bank_code TEXT NOT NULL,
    account_num TEXT NOT NULL,
    at TEXT NOT NULL,
    bank_tran_id TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    amount INTEGER NOT NULL,
    balance_after INTEGER NOT NULL,
    counterparty TEXT NOT NULL,
    memo TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS account_entries_account ON account_entries (bank_code, account_num);
CREATE TABLE IF NOT EXISTS statement (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    bank_tran_id TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    amount INTEGER NOT NULL,
    balance_after INTEGER NOT NULL,
    counterparty TEXT NOT NULL,
    memo TEXT NOT NULL,
    status TEXT NOT NULL
);
"""
    + VA_SCHEMA
)

STATEMENT_COLUMNS = (
    "date",
    "bank_tran_id",
    "direction",
    "amount",
    "balance_after",
    "counterparty",
    "memo",
    "status",
    "at",
)


class Loose(BaseModel):
    """KFTC bodies carry many fields the simulator does not need: accept and ignore them."""

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)


class RealNameIn(Loose):
    bank_code_std: str = Field(max_length=8)
    account_num: str = Field(max_length=32)
    account_holder_info_type: str = Field(default=" ", max_length=2)
    account_holder_info: str = Field(default="", max_length=16)
    tran_dtime: str = Field(default="", max_length=14)


class DepositItem(Loose):
    tran_no: str = Field(default="1", max_length=5)
    bank_tran_id: str = Field(min_length=1, max_length=40)
    bank_code_std: str = Field(max_length=8)
    account_num: str = Field(max_length=32)
    account_holder_name: str = Field(default="", max_length=40)
    print_content: str = Field(default="", max_length=40)
    tran_amt: str = Field(pattern=r"^[0-9]{1,12}$")
    req_client_name: str = Field(default="", max_length=40)


class DepositIn(Loose):
    cntr_account_type: str = Field(default="N", max_length=1)
    cntr_account_num: str = Field(default="", max_length=32)
    wd_print_content: str = Field(default="", max_length=40)
    name_check_option: str = Field(default="on", pattern=r"^(on|off)$")
    tran_dtime: str = Field(default="", max_length=14)
    req_cnt: int = Field(ge=1, le=1)
    req_list: list[DepositItem] = Field(min_length=1, max_length=1)


class ResultItem(Loose):
    tran_no: str = Field(default="1", max_length=5)
    org_bank_tran_id: str = Field(min_length=1, max_length=40)
    org_bank_tran_date: str = Field(default="", max_length=8)
    org_tran_amt: str = Field(default="", max_length=12)


class ResultIn(Loose):
    check_type: str = Field(default="2", max_length=1)
    tran_dtime: str = Field(default="", max_length=14)
    req_cnt: int = Field(ge=1, le=25)
    req_list: list[ResultItem] = Field(min_length=1, max_length=25)


class AccountIn(BaseModel):
    bank_code: str = Field(max_length=8)
    account_number: str = Field(max_length=32)
    holder_name: str = Field(min_length=1, max_length=40)
    birth_date: date | None = None
    balance: int = Field(default=0, ge=0)


class MaintenanceIn(BaseModel):
    bank_code: str = Field(max_length=8)
    starts_at: datetime
    ends_at: datetime


class BankHoursIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    nightly: str = Field(default="", max_length=16)
    per_bank: dict[str, str] = Field(default_factory=dict, max_length=64)
    maintenance: list[MaintenanceIn] = Field(default_factory=list, max_length=256)

    def calendar(self) -> bh.BankCalendar:
        """Raises ``InvalidBankHours``."""
        maintenance = []
        for n, m in enumerate(self.maintenance):
            bh.check_maintenance(m.starts_at, m.ends_at)
            maintenance.append(bh.Maintenance(f"sim-{n}", m.bank_code, m.starts_at, m.ends_at))
        return bh.BankCalendar(
            default=bh.parse_nightly(self.nightly),
            per_bank={b: bh.parse_nightly(w) for b, w in self.per_bank.items()},
            maintenance=tuple(maintenance),
        )


class ReturnIn(BaseModel):
    reason: str = Field(default="returned by the receiving bank", max_length=100)


def _digits(account_num: str) -> str:
    return "".join(ch for ch in account_num if ch not in " -")


class BankSim:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        operating_bank_code: str,
        operating_account: str,
        operating_holder: str,
        opening_balance: int,
        settlement_delay_s: float,
    ) -> None:
        self.store = store
        self.clock = clock
        self.operating = (operating_bank_code, operating_account, operating_holder)
        self.settlement_delay = timedelta(seconds=settlement_delay_s)
        self.hours: BankHoursIn | None = None
        self.calendar = bh.BankCalendar()  # no windows until the fault mode sets some
        self.closed_refusals = 0
        with store.tx() as db:
            if meta_get(db, "operating_balance") is None:
                meta_set(db, "operating_balance", str(opening_balance))

    # -- helpers ---------------------------------------------------------------------------

    def _envelope(self, now: datetime) -> dict[str, Any]:
        return {
            "api_tran_id": uuid.uuid4().hex,
            "api_tran_dtm": now.strftime("%Y%m%d%H%M%S%f")[:17],
        }

    @staticmethod
    def _operating_balance(db: sqlite3.Connection) -> int:
        return int(meta_get(db, "operating_balance") or 0)

    @staticmethod
    def _pending(db: sqlite3.Connection) -> int:
        row = db.execute("SELECT SUM(amount) FROM transfers WHERE status = 'pending'").fetchone()
        return int(row[0] or 0)

    def _available(self, db: sqlite3.Connection) -> int:
        """What the operating account can still send: pending deposits are spoken for."""
        return self._operating_balance(db) - self._pending(db)

    def _book_account(
        self,
        db: sqlite3.Connection,
        t: sqlite3.Row | dict[str, Any],
        direction: str,
        memo: str,
        at: str,
    ) -> None:
        sign = 1 if direction == "in" else -1
        db.execute(
            "UPDATE accounts SET balance = balance + ? WHERE bank_code = ? AND account_num = ?",
            (sign * t["amount"], t["bank_code"], t["account_num"]),
        )
        row = db.execute(
            "SELECT balance FROM accounts WHERE bank_code = ? AND account_num = ?",
            (t["bank_code"], t["account_num"]),
        ).fetchone()
        if row is None:  # a payer of a virtual account the simulator never opened
            return
        balance = row[0]
        db.execute(
            "INSERT INTO account_entries (bank_code, account_num, at, bank_tran_id, direction,"
            " amount, balance_after, counterparty, memo) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (t["bank_code"], t["account_num"], at, t["bank_tran_id"], direction, t["amount"],
             balance, t["req_client_name"] or self.operating[2], memo),
        )  # fmt: skip

    def _book_statement(
        self,
        db: sqlite3.Connection,
        t: sqlite3.Row | dict[str, Any],
        direction: str,
        memo: str,
        status: str,
        at: str,
        balance_after: int,
    ) -> None:
        counterparty = f"{t['holder']} {t['bank_code']} {mask_account(t['account_num'])}"
        db.execute(
            "INSERT INTO statement (at, bank_tran_id, direction, amount, balance_after,"
            " counterparty, memo, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (at, t["bank_tran_id"], direction, t["amount"], balance_after, counterparty, memo,
             status),
        )  # fmt: skip

    def _settle(self, db: sqlite3.Connection, t: sqlite3.Row | dict[str, Any], at: str) -> None:
        """Book a deposit: debit the operating account, credit the customer, and write the
        statement line (so each line's balance follows from the one before)."""
        balance = self._operating_balance(db) - t["amount"]
        meta_set(db, "operating_balance", str(balance))
        self._book_account(db, t, "in", t["print_content"], at)
        self._book_statement(db, t, "out", t["wd_print_content"], "done", at, balance)

    def book_virtual(self, db: sqlite3.Connection, m: dict[str, Any]) -> None:
        """A virtual-account movement on the operating account: a payer's deposit (a
        statement line ``in``, status ``deposit``) or our return of one (a transfer in
        ``/sim/transfers`` and a statement line ``out``, status ``deposit_return``)."""
        deposit = m["kind"] == "deposit"
        sign = 1 if deposit else -1
        balance = self._operating_balance(db) + sign * m["amount"]
        meta_set(db, "operating_balance", str(balance))
        t = {**m, "req_client_name": self.operating[2]}  # the payer's counterparty: us
        if not deposit:
            db.execute(
                "INSERT INTO transfers (bank_tran_id, fingerprint, bank_code, account_num, holder,"
                " amount, print_content, wd_print_content, req_client_name, status,"
                " bank_rsp_code, bank_rsp_message, response, at, settles_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'done', ?, '', '{}', ?, ?)",
                (m["bank_tran_id"], "virtual-account-return", m["bank_code"], m["account_num"],
                 m["holder"], m["amount"], m["memo"], m["memo"], self.operating[2], BANK_OK,
                 m["at"], m["at"]),
            )  # fmt: skip
        self._book_account(db, t, "in" if not deposit else "out", m["memo"], m["at"])
        status = "deposit" if deposit else "deposit_return"
        direction = "in" if deposit else "out"
        self._book_statement(db, t, direction, m["memo"], status, m["at"], balance)

    def return_held(
        self, db: sqlite3.Connection, bank_code: str, amount: int
    ) -> dict[str, Any] | None:
        """Why a virtual-account return cannot go now (the payer's bank is closed: 531 with
        ``available_dtime``; the operating account is short: 551), as answer fields; None
        when it can. Like a closed bank's deposit refusal, it is not stored."""
        self.settle_due(db)
        now = self.clock()
        opens = bh.reopens_at(self.calendar, bank_code, now)
        if opens is not None:
            self.closed_refusals += 1
            whole = opens + timedelta(microseconds=(1_000_000 - opens.microsecond) % 1_000_000)
            return {
                "rsp_code": BANK_ERROR,
                "rsp_message": "참가기관 에러",
                "bank_rsp_code": CLOSED,
                "bank_rsp_message": MESSAGES[CLOSED],
                "available_dtime": whole.astimezone(bh.KST).strftime("%Y%m%d%H%M%S"),
            }
        if amount > self._available(db):
            return {
                "rsp_code": BANK_ERROR,
                "rsp_message": "참가기관 에러",
                "bank_rsp_code": NO_FUNDS,
                "bank_rsp_message": MESSAGES[NO_FUNDS],
            }
        return None

    def settle_due(self, db: sqlite3.Connection) -> None:
        """Pending deposits whose time has come are booked now (lazily, on any request)."""
        if not self.settlement_delay:
            return
        now = iso(self.clock())
        due = db.execute(
            "SELECT * FROM transfers WHERE status = 'pending' AND settles_at <= ?"
            " ORDER BY settles_at, bank_tran_id",
            (now,),
        ).fetchall()
        for t in due:
            db.execute(
                "UPDATE transfers SET status = 'done' WHERE bank_tran_id = ?", (t["bank_tran_id"],)
            )
            self._settle(db, t, t["settles_at"])

    # -- the open-banking API --------------------------------------------------------------

    def real_name(self, body: RealNameIn) -> dict[str, Any]:
        now = self.clock()
        account_num = _digits(body.account_num)
        with self.store.tx() as db:
            row = db.execute(
                "SELECT * FROM accounts WHERE bank_code = ? AND account_num = ?",
                (body.bank_code_std, account_num),
            ).fetchone()
        base = {
            **self._envelope(now),
            "bank_tran_id": "",
            "bank_tran_date": now.strftime("%Y%m%d"),
            "bank_code_tran": body.bank_code_std,
            "bank_code_std": body.bank_code_std,
            "bank_code_sub": f"{body.bank_code_std}0001",
            "bank_name": BANKS.get(body.bank_code_std, ""),
            "account_num": account_num,
            "account_holder_info_type": body.account_holder_info_type,
            "account_holder_info": body.account_holder_info,
        }
        refusal = None
        if row is None:
            refusal = NO_ACCOUNT
        elif (
            row["birth_date"]
            and body.account_holder_info_type.strip() in ("", "0")
            and body.account_holder_info
            and body.account_holder_info != date.fromisoformat(row["birth_date"]).strftime("%y%m%d")
        ):
            refusal = INFO_MISMATCH
        if refusal is not None:
            return {
                **base,
                "rsp_code": BANK_ERROR,
                "rsp_message": "참가기관 에러",
                "bank_rsp_code": refusal,
                "bank_rsp_message": MESSAGES[refusal],
                "account_holder_name": "",
            }
        return {
            **base,
            "rsp_code": OK,
            "rsp_message": "",
            "bank_rsp_code": BANK_OK,
            "bank_rsp_message": "",
            "account_holder_name": row["holder_name"],
            "account_type": "1",
        }

    def deposit(self, body: DepositIn) -> tuple[int, dict[str, Any]]:
        item = body.req_list[0]
        account_num = _digits(item.account_num)
        amount = int(item.tran_amt)
        if amount <= 0:
            return 422, {"rsp_code": "O0001", "rsp_message": "tran_amt must be positive"}
        fingerprint = hashlib.sha256(
            json.dumps(
                [item.bank_code_std, account_num, amount, item.account_holder_name,
                 item.print_content, body.wd_print_content, body.name_check_option]
            ).encode()
        ).hexdigest()  # fmt: skip
        now = self.clock()
        with self.store.tx() as db:
            self.settle_due(db)
            prior = db.execute(
                "SELECT fingerprint, response FROM transfers WHERE bank_tran_id = ?",
                (item.bank_tran_id,),
            ).fetchone()
            if prior is not None:
                if prior["fingerprint"] == fingerprint:
                    return 200, json.loads(prior["response"])
                return 200, self._deposit_answer(now, body, item, ID_REUSED)
            opens = bh.reopens_at(self.calendar, item.bank_code_std, now)
            if opens is not None:  # refused before any work, and not kept
                self.closed_refusals += 1
                refused = self._deposit_answer(now, body, item, CLOSED)
                # to the whole second, rounded up: who comes back then finds it open
                whole = opens + timedelta(microseconds=(1_000_000 - opens.microsecond) % 1_000_000)
                available = whole.astimezone(bh.KST).strftime("%Y%m%d%H%M%S")
                refused["res_list"][0]["available_dtime"] = available
                return 200, refused
            account = db.execute(
                "SELECT * FROM accounts WHERE bank_code = ? AND account_num = ?",
                (item.bank_code_std, account_num),
            ).fetchone()
            refusal = None
            if account is None:
                refusal = NO_ACCOUNT
            elif body.name_check_option == "on" and not same_holder(
                account["holder_name"], item.account_holder_name
            ):
                refusal = NAME_MISMATCH
            elif amount > self._available(db):
                refusal = NO_FUNDS
            response = self._deposit_answer(now, body, item, refusal)
            t = {
                "bank_tran_id": item.bank_tran_id,
                "bank_code": item.bank_code_std,
                "account_num": account_num,
                "holder": account["holder_name"] if account else item.account_holder_name,
                "amount": amount,
                "print_content": item.print_content,
                "wd_print_content": body.wd_print_content,
                "req_client_name": item.req_client_name,
            }
            settles_at = now + self.settlement_delay
            if refusal is not None:
                status = "rejected"
            elif self.settlement_delay:
                status = "pending"
            else:
                status = "done"
            db.execute(
                "INSERT INTO transfers (bank_tran_id, fingerprint, bank_code, account_num, holder,"
                " amount, print_content, wd_print_content, req_client_name, status,"
                " bank_rsp_code, bank_rsp_message, response, at, settles_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (t["bank_tran_id"], fingerprint, t["bank_code"], t["account_num"], t["holder"],
                 amount, t["print_content"], t["wd_print_content"], t["req_client_name"], status,
                 refusal or BANK_OK, MESSAGES.get(refusal or "", ""), json.dumps(response),
                 iso(now), iso(settles_at)),
            )  # fmt: skip
            if status == "done":
                self._settle(db, t, iso(now))
        return 200, response

    def _deposit_answer(
        self, now: datetime, body: DepositIn, item: DepositItem, refusal: str | None
    ) -> dict[str, Any]:
        bank_code, account, holder = self.operating
        return {
            **self._envelope(now),
            "rsp_code": OK if refusal is None else BANK_ERROR,
            "rsp_message": "" if refusal is None else "참가기관 에러",
            "wd_bank_code_std": bank_code,
            "wd_bank_code_sub": f"{bank_code}0001",
            "wd_bank_name": BANKS.get(bank_code, ""),
            "wd_account_num_masked": mask_account(account),
            "wd_print_content": body.wd_print_content,
            "wd_account_holder_name": holder,
            "res_cnt": "1",
            "res_list": [
                {
                    "tran_no": item.tran_no,
                    "bank_tran_id": item.bank_tran_id,
                    "bank_tran_date": now.strftime("%Y%m%d"),
                    "bank_code_tran": item.bank_code_std,
                    "bank_rsp_code": refusal or BANK_OK,
                    "bank_rsp_message": MESSAGES.get(refusal or "", ""),
                    "bank_code_std": item.bank_code_std,
                    "bank_code_sub": f"{item.bank_code_std}0001",
                    "bank_name": BANKS.get(item.bank_code_std, ""),
                    "account_num_masked": mask_account(_digits(item.account_num) or "0000"),
                    "print_content": item.print_content,
                    "account_holder_name": item.account_holder_name,
                    "tran_amt": item.tran_amt,
                    "cms_num": "",
                }
            ],
        }

    def transfer_result(self, body: ResultIn) -> dict[str, Any]:
        now = self.clock()
        with self.store.tx() as db:
            self.settle_due(db)
            rows = {
                q.org_bank_tran_id: db.execute(
                    "SELECT * FROM transfers WHERE bank_tran_id = ?", (q.org_bank_tran_id,)
                ).fetchone()
                for q in body.req_list
            }
        res_list = []
        for q in body.req_list:
            t = rows[q.org_bank_tran_id]
            item: dict[str, Any] = {
                "tran_no": q.tran_no,
                "org_bank_tran_id": q.org_bank_tran_id,
                "org_bank_tran_date": q.org_bank_tran_date,
                "org_tran_amt": q.org_tran_amt,
            }
            if t is None:
                item |= {
                    "status": "not_found",
                    "bank_rsp_code": NOT_FOUND,
                    "bank_rsp_message": MESSAGES[NOT_FOUND],
                }
            else:
                item |= {
                    "status": t["status"],
                    "bank_tran_id": t["bank_tran_id"],
                    "bank_tran_date": datetime.fromisoformat(t["at"]).strftime("%Y%m%d"),
                    "bank_code_std": t["bank_code"],
                    "bank_rsp_code": t["bank_rsp_code"],
                    "bank_rsp_message": t["bank_rsp_message"],
                    "tran_amt": str(t["amount"]),
                    "returned_at": t["returned_at"],
                    "return_reason": t["return_reason"],
                }
            res_list.append(item)
        return {
            **self._envelope(now),
            "rsp_code": OK,
            "rsp_message": "",
            "res_cnt": str(len(res_list)),
            "res_list": res_list,
        }

    # -- bank hours (a fault mode) ---------------------------------------------------------

    def set_hours(self, hours: BankHoursIn | None) -> tuple[int, dict[str, Any]]:
        try:
            calendar = hours.calendar() if hours is not None else bh.BankCalendar()
        except bh.InvalidBankHours as e:
            return 422, {"error": e.code, "message": e.message}
        self.hours, self.calendar, self.closed_refusals = hours, calendar, 0
        return 200, self.describe_hours()

    def describe_hours(self) -> dict[str, Any]:
        hours = self.hours.model_dump(mode="json") if self.hours is not None else None
        return {"bank_hours": hours, "closed_refusals": self.closed_refusals}

    # -- test data and inspection ----------------------------------------------------------

    def open_account(self, body: AccountIn) -> tuple[int, dict[str, Any]]:
        try:
            account_num = _normalise_account(body.bank_code, body.account_number)
        except InvalidBankAccount as e:
            return 422, {"error": e.code, "message": e.message}
        view = {
            "bank_code": body.bank_code,
            "account_number": account_num,
            "holder_name": body.holder_name,
            "birth_date": body.birth_date.isoformat() if body.birth_date else None,
        }
        with self.store.tx() as db:
            row = db.execute(
                "SELECT holder_name FROM accounts WHERE bank_code = ? AND account_num = ?",
                (body.bank_code, account_num),
            ).fetchone()
            if row is not None:
                if row["holder_name"] == body.holder_name:
                    return 200, view
                return 409, {"error": "account_exists", "message": "another holder has it"}
            db.execute(
                "INSERT INTO accounts (bank_code, account_num, holder_name, birth_date, balance,"
                " opened_at) VALUES (?, ?, ?, ?, ?, ?)",
                (body.bank_code, account_num, body.holder_name, view["birth_date"], body.balance,
                 iso(self.clock())),
            )  # fmt: skip
        return 201, view

    def return_transfer(self, bank_tran_id: str, reason: str) -> tuple[int, dict[str, Any]]:
        now = iso(self.clock())
        with self.store.tx() as db:
            self.settle_due(db)
            t = db.execute(
                "SELECT * FROM transfers WHERE bank_tran_id = ?", (bank_tran_id,)
            ).fetchone()
            if t is None:
                return 404, {"error": "not_found", "message": "no such transfer"}
            if t["status"] != "done":
                return 409, {
                    "error": "not_returnable",
                    "message": f"a {t['status']} transfer cannot be returned",
                }
            db.execute(
                "UPDATE transfers SET status = 'returned', returned_at = ?, return_reason = ?"
                " WHERE bank_tran_id = ?",
                (now, reason, bank_tran_id),
            )
            balance = self._operating_balance(db) + t["amount"]
            meta_set(db, "operating_balance", str(balance))
            self._book_account(db, t, "out", f"반환 {reason}"[:40], now)
            self._book_statement(db, t, "in", reason, "returned", now, balance)
            view = self._transfer_view(db, bank_tran_id)
        assert view is not None
        return 200, view

    def _transfer_view(self, db: sqlite3.Connection, bank_tran_id: str) -> dict[str, Any] | None:
        t = db.execute("SELECT * FROM transfers WHERE bank_tran_id = ?", (bank_tran_id,)).fetchone()
        return None if t is None else _transfer_dict(t)

    def transfer(self, bank_tran_id: str) -> tuple[int, dict[str, Any]]:
        with self.store.tx() as db:
            self.settle_due(db)
            view = self._transfer_view(db, bank_tran_id)
        if view is None:
            return 404, {"error": "not_found", "message": "no such transfer"}
        return 200, view

    def transfers(self, status: str | None) -> dict[str, Any]:
        with self.store.tx() as db:
            self.settle_due(db)
            rows = db.execute(
                "SELECT * FROM transfers WHERE (? IS NULL OR status = ?) ORDER BY at, bank_tran_id",
                (status, status),
            ).fetchall()
        return {"transfers": [_transfer_dict(t) for t in rows], "count": len(rows)}

    def account_transactions(self, bank_code: str, account_num: str) -> tuple[int, dict[str, Any]]:
        with self.store.tx() as db:
            self.settle_due(db)
            account = db.execute(
                "SELECT * FROM accounts WHERE bank_code = ? AND account_num = ?",
                (bank_code, _digits(account_num)),
            ).fetchone()
            if account is None:
                return 404, {"error": "not_found", "message": "no such account"}
            rows = db.execute(
                "SELECT * FROM account_entries WHERE bank_code = ? AND account_num = ?"
                " ORDER BY seq",
                (bank_code, account["account_num"]),
            ).fetchall()
        return 200, {
            "account": {
                "bank_code": account["bank_code"],
                "account_num": account["account_num"],
                "holder_name": account["holder_name"],
                "balance": account["balance"],
            },
            "transactions": [
                {
                    k: r[k]
                    for k in (
                        "at",
                        "direction",
                        "amount",
                        "balance_after",
                        "counterparty",
                        "memo",
                        "bank_tran_id",
                    )
                }
                for r in rows
            ],
        }

    def operating_account(self) -> dict[str, Any]:
        with self.store.tx() as db:
            self.settle_due(db)
            balance = self._operating_balance(db)
            pending = self._pending(db)
        bank_code, account, holder = self.operating
        return {
            "bank_code": bank_code,
            "account_num": account,
            "holder_name": holder,
            "balance": balance,
            "pending": pending,
        }

    def statement(self, day: date | None) -> list[tuple[Any, ...]]:
        with self.store.tx() as db:
            self.settle_due(db)
            rows = db.execute(
                "SELECT * FROM statement WHERE (? IS NULL OR substr(at, 1, 10) = ?) ORDER BY seq",
                (day and day.isoformat(), day and day.isoformat()),
            ).fetchall()
        return [
            (r["at"][:10], r["bank_tran_id"], r["direction"], r["amount"], r["balance_after"],
             r["counterparty"], r["memo"], r["status"], r["at"])
            for r in rows
        ]  # fmt: skip


def _transfer_dict(t: sqlite3.Row) -> dict[str, Any]:
    return {
        "bank_tran_id": t["bank_tran_id"],
        "bank_code": t["bank_code"],
        "account_num": t["account_num"],
        "holder": t["holder"],
        "amount": t["amount"],
        "print_content": t["print_content"],
        "status": t["status"],
        "at": t["at"],
        "bank_rsp_code": t["bank_rsp_code"],
        "bank_rsp_message": t["bank_rsp_message"],
        "returned_at": t["returned_at"],
        "return_reason": t["return_reason"],
    }


def create_bank_app(
    data_dir: Path,
    *,
    clock: Clock = utc_now,
    operating_bank_code: str = "004",
    operating_account: str = "00000000000001",
    operating_holder: str = "giftcash",
    opening_balance: int = 1_000_000_000_000,
    settlement_delay_s: float = 0.0,
    notification_url: str | None = None,
    notification_secret: str = "",
    notification_sender: Sender | None = None,
    notification_backoff_s: float = 1.0,
    notification_poll_s: float = 0.2,
) -> FastAPI:
    """``opening_balance`` is the operating account's balance when the directory is new
    (KRW, so whole won); a deposit larger than what is left is refused (551).

    Deposit notifications go to ``notification_url`` (or through ``notification_sender``,
    a test's stand-in for the HTTP POST), signed with ``notification_secret`` (``whsec_…``);
    without either they stay in the outbox (``GET /sim/notifications``). A background
    thread delivers them while the app runs (a server, or a ``with TestClient``);
    ``POST /sim/notifications/deliver`` runs one pass on demand."""
    store = Store(Path(data_dir) / "bank.sqlite3", SCHEMA)
    sim = BankSim(
        store,
        clock,
        operating_bank_code=operating_bank_code,
        operating_account=operating_account,
        operating_holder=operating_holder,
        opening_balance=opening_balance,
        settlement_delay_s=settlement_delay_s,
    )
    sender = notification_sender
    if sender is None and notification_url:
        sender = http_sender(notification_url)
    vaccts = VirtualAccounts(
        store,
        clock,
        bank_code=operating_bank_code,
        book=sim.book_virtual,
        hold=sim.return_held,
        delivery=Delivery(sender, notification_secret, backoff_s=notification_backoff_s),
    )
    app = base_app(
        "giftcash bank simulator",
        store,
        api_prefixes=("/v2.0/",),
        invalid_body={"rsp_code": "O0001", "rsp_message": "요청 전문 오류 (malformed request)"},
        background=lambda: vaccts.run_delivery(notification_poll_s),
    )
    app.state.sim = sim
    app.state.virtual_accounts = vaccts

    @app.post("/v2.0/vaccount/issue")
    def issue_virtual_account(body: IssueIn) -> dict[str, Any]:
        return vaccts.issue(body)

    @app.post("/v2.0/vaccount/close")
    def close_virtual_account(body: AccountRefIn) -> dict[str, Any]:
        return vaccts.close(body)

    @app.post("/v2.0/vaccount/deposits")
    def virtual_account_deposits(body: AccountRefIn) -> dict[str, Any]:
        return vaccts.inquire(body)

    @app.post("/v2.0/vaccount/return")
    def return_deposit(body: DepositReturnIn) -> dict[str, Any]:
        return vaccts.return_deposit(body)

    @app.post("/v2.0/vaccount/transactions")
    def virtual_account_transactions(body: VaListIn) -> dict[str, Any]:
        return vaccts.list_window(body)

    @app.post("/v2.0/vaccount/return/result")
    def return_result(body: ReturnResultIn) -> dict[str, Any]:
        return vaccts.return_result(body)

    @app.post("/sim/virtual-accounts/{account_num}/deposits")
    def pay_in(account_num: str, body: PayerDepositIn) -> JSONResponse:
        return answer(*vaccts.pay_in(account_num, body))

    @app.get("/sim/virtual-accounts")
    def virtual_accounts() -> dict[str, Any]:
        return vaccts.accounts()

    @app.get("/sim/returns")
    def deposit_returns(deposit_id: str | None = None) -> dict[str, Any]:
        return vaccts.returns(deposit_id)

    @app.get("/sim/notifications")
    def notifications() -> dict[str, Any]:
        return vaccts.notifications()

    @app.post("/sim/notifications/deliver")
    def deliver_notifications() -> dict[str, Any]:
        return {"sent": vaccts.deliver_due()}

    @app.get("/sim/faults/notifications")
    def notification_faults() -> dict[str, Any]:
        return vaccts.describe_faults()

    @app.post("/sim/faults/notifications")
    def set_notification_faults(body: NotificationFaults) -> dict[str, Any]:
        return vaccts.set_faults(body)

    @app.delete("/sim/faults/notifications")
    def clear_notification_faults() -> dict[str, Any]:
        return vaccts.set_faults(None)

    @app.post("/v2.0/inquiry/real_name")
    def real_name(body: RealNameIn) -> dict[str, Any]:
        return sim.real_name(body)

    @app.post("/v2.0/transfer/deposit/acnt_num")
    def deposit(body: DepositIn) -> JSONResponse:
        return answer(*sim.deposit(body))

    @app.post("/v2.0/transfer/result")
    def transfer_result(body: ResultIn) -> dict[str, Any]:
        return sim.transfer_result(body)

    @app.get("/sim/faults/bank-hours")
    def bank_hours() -> dict[str, Any]:
        return sim.describe_hours()

    @app.post("/sim/faults/bank-hours")
    def set_bank_hours(body: BankHoursIn) -> JSONResponse:
        return answer(*sim.set_hours(body))

    @app.delete("/sim/faults/bank-hours")
    def open_all_banks() -> JSONResponse:
        return answer(*sim.set_hours(None))

    @app.post("/sim/accounts")
    def open_account(body: AccountIn) -> JSONResponse:
        return answer(*sim.open_account(body))

    @app.get("/sim/accounts/{bank_code}/{account_num}/transactions")
    def transactions(bank_code: str, account_num: str) -> JSONResponse:
        return answer(*sim.account_transactions(bank_code, account_num))

    @app.post("/sim/transfers/{bank_tran_id}/return")
    def return_transfer(bank_tran_id: str, body: ReturnIn | None = None) -> JSONResponse:
        return answer(*sim.return_transfer(bank_tran_id, (body or ReturnIn()).reason))

    @app.get("/sim/transfers")
    def transfers(status: str | None = None) -> dict[str, Any]:
        return sim.transfers(status)

    @app.get("/sim/transfers/{bank_tran_id}")
    def transfer(bank_tran_id: str) -> JSONResponse:
        return answer(*sim.transfer(bank_tran_id))

    @app.get("/sim/operating-account")
    def operating_account() -> dict[str, Any]:
        return sim.operating_account()

    @app.get("/sim/statement")
    def statement(day: Annotated[date | None, Query(alias="date")] = None) -> Response:
        return csv_response(STATEMENT_COLUMNS, sim.statement(day))

    return app


def run_bank(host: str, port: int, data_dir: Path, **options: Any) -> None:
    serve(create_bank_app(data_dir, **options), host, port)

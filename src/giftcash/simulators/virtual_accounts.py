"""The bank simulator's virtual accounts (가상계좌): how buyers pay giftcash by transfer.

A virtual account is a number the bank issues for one of our references (an order id),
with the exact amount, the holder name the payer's bank shows and a deadline. Money paid
into it lands on the operating account. The bank takes whatever arrives — any amount,
any payer name, after the deadline, twice — and tells giftcash about each deposit; judging
a deposit, and returning it, is giftcash's job. Only a closed account refuses money (the
bank no longer knows the number, so the payer's transfer never leaves their account).

The endpoints are listed in ``giftcash.simulators.bank``'s docstring. This module holds
the tables, the rules and the notification outbox with its delivery loop.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

from giftcash.adapters.webhooks import signing
from giftcash.domain.banks import mask_account
from giftcash.simulators.common import Clock, iso
from giftcash.simulators.store import Store, meta_get, meta_set

log = logging.getLogger(__name__)
KST = timezone(timedelta(hours=9))
OK, BANK_OK, BANK_ERROR = "A0000", "000", "A0002"
NOT_FOUND, ID_REUSED, REFERENCE_REUSED = "404", "409", "408"
ALREADY_RETURNED, NOT_FULL_AMOUNT, CLOSED_ACCOUNT = "610", "611", "612"
MESSAGES = {
    NOT_FOUND: "원거래 없음 (no such account or deposit)",
    ID_REUSED: "은행거래고유번호 중복 (bank_tran_id used for another request)",
    REFERENCE_REUSED: "참조번호 중복 (the reference has an account with other terms)",
    ALREADY_RETURNED: "이미 반환된 입금 (the deposit was already returned)",
    NOT_FULL_AMOUNT: "전액 반환만 가능 (a deposit is returned in full only)",
    CLOSED_ACCOUNT: "해지된 가상계좌 (the virtual account is closed)",
}
NOTIFICATION_TYPE = "virtual_account.deposit"
LIST_PAGE = 500  # deposits per page of the window listing

SCHEMA = """
CREATE TABLE IF NOT EXISTS virtual_accounts (
    account_num TEXT PRIMARY KEY,
    bank_code TEXT NOT NULL,
    reference TEXT NOT NULL UNIQUE,
    fingerprint TEXT NOT NULL,
    holder_name TEXT NOT NULL,
    amount INTEGER NOT NULL CHECK (amount > 0),
    expires_at TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    issued_at TEXT NOT NULL,
    closed_at TEXT
);
CREATE TABLE IF NOT EXISTS va_deposits (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    deposit_id TEXT NOT NULL UNIQUE,
    account_num TEXT NOT NULL,
    amount INTEGER NOT NULL CHECK (amount > 0),
    payer_name TEXT NOT NULL,
    payer_bank_code TEXT NOT NULL,
    payer_account TEXT NOT NULL,
    received_at TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('received', 'returned')),
    returned_at TEXT,
    return_key TEXT
);
CREATE TABLE IF NOT EXISTS va_returns (
    return_key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    deposit_id TEXT NOT NULL,
    amount INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('returned', 'rejected')),
    bank_rsp_code TEXT NOT NULL,
    bank_rsp_message TEXT NOT NULL,
    memo TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS va_returns_once ON va_returns (deposit_id)
    WHERE status = 'returned';
CREATE TABLE IF NOT EXISTS va_notifications (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    msg_id TEXT NOT NULL UNIQUE,
    deposit_id TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'lost', 'failed')),
    copies INTEGER NOT NULL CHECK (copies IN (1, 2)),
    attempts INTEGER NOT NULL DEFAULT 0,
    sends INTEGER NOT NULL DEFAULT 0,
    next_at TEXT NOT NULL,
    delivered_at TEXT,
    last_answer TEXT
);
"""


class Loose(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)


class IssueIn(Loose):
    reference: str = Field(min_length=1, max_length=64)
    tran_amt: str = Field(pattern=r"^[0-9]{1,12}$")
    account_holder_name: str = Field(min_length=1, max_length=40)
    expire_dtime: str = Field(pattern=r"^[0-9]{14}$")  # KST YYYYMMDDHHMMSS
    tran_dtime: str = Field(default="", max_length=14)


class AccountRefIn(Loose):
    account_num: str = Field(min_length=1, max_length=32)
    tran_dtime: str = Field(default="", max_length=14)


class ReturnIn(Loose):
    bank_tran_id: str = Field(min_length=1, max_length=40)
    deposit_id: str = Field(min_length=1, max_length=40)
    tran_amt: str = Field(pattern=r"^[0-9]{1,12}$")
    print_content: str = Field(default="", max_length=40)
    tran_dtime: str = Field(default="", max_length=14)


class ReturnResultIn(Loose):
    org_bank_tran_id: str = Field(min_length=1, max_length=40)
    tran_dtime: str = Field(default="", max_length=14)


class ListIn(Loose):
    """A window of deposits by their receipt, KST ``YYYYMMDDHHMMSS``: [from, to). Paged:
    ``befor_inquiry_trace_info`` is the previous page's answer of that name (KFTC's
    spelling), empty for the first page."""

    from_dtime: str = Field(pattern=r"^[0-9]{14}$")
    to_dtime: str = Field(pattern=r"^[0-9]{14}$")
    befor_inquiry_trace_info: str = Field(default="", pattern=r"^[0-9]{0,12}$")
    page_size: int = Field(default=LIST_PAGE, ge=1, le=LIST_PAGE)
    tran_dtime: str = Field(default="", max_length=14)


class PayerDepositIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    payer_name: str = Field(min_length=1, max_length=40)
    payer_bank_code: str = Field(min_length=3, max_length=8)
    payer_account: str = Field(min_length=1, max_length=32)
    amount: int = Field(gt=0, le=10**12)


class NotificationFaults(BaseModel):
    """How the bank's notifications go wrong (``/sim/faults/notifications``)."""

    model_config = ConfigDict(extra="forbid")

    lost_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    repeat_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    delay_ms: int = Field(default=0, ge=0, le=3_600_000)
    out_of_order: bool = False
    seed: int | None = None


def kst_dtime(moment: datetime) -> str:
    return moment.astimezone(KST).strftime("%Y%m%d%H%M%S")


def from_kst_dtime(value: str) -> datetime:
    return datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=KST)


def _fingerprint(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()


def _digits(account_num: str) -> str:
    return "".join(ch for ch in account_num if ch not in " -")


Sender = Callable[[bytes, dict[str, str]], int]


def http_sender(url: str, timeout_s: float = 5.0) -> Sender:
    """POST to giftcash's notification endpoint; the answer's status, 0 when none came."""
    client = httpx.Client(timeout=timeout_s)

    def send(body: bytes, headers: dict[str, str]) -> int:
        try:
            return client.post(url, content=body, headers=headers).status_code
        except httpx.HTTPError:
            return 0

    return send


@dataclass(frozen=True, slots=True)
class Delivery:
    """How notifications are sent: to whom, signed with what, retried how often."""

    send: Sender | None = None  # None: kept in the outbox, never sent
    secret: str = ""  # Standard Webhooks ``whsec_…``
    backoff_s: float = 1.0  # the first retry's wait; doubled per attempt
    backoff_cap_s: float = 300.0
    max_attempts: int = 20  # then ``failed``: the service still finds it by inquiry


class VirtualAccounts:
    """Virtual accounts on the bank simulator's store. ``bank_code`` is the bank of the
    account money lands on; ``book`` books a movement of the operating account (the
    bank's statement); ``hold`` answers the refusal of a return the bank cannot make now
    (the payer's bank closed, the operating account short), given (db, payer's bank code,
    amount), or None."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        bank_code: str,
        book: Callable[[sqlite3.Connection, dict[str, Any]], None],
        hold: Callable[[sqlite3.Connection, str, int], dict[str, Any] | None],
        delivery: Delivery,
    ) -> None:
        self.store = store
        self.clock = clock
        self.bank_code = bank_code
        self.book = book
        self.hold = hold
        self.delivery = delivery
        self.faults = NotificationFaults()
        self._rng = random.Random()
        self.fault_counts = {"lost": 0, "repeated": 0, "delayed": 0}
        self._deliver_lock = threading.Lock()
        if delivery.send is not None and not delivery.secret.startswith(signing.PREFIX):
            raise ValueError("deposit notifications need a whsec_ secret to be signed with")

    def _envelope(self) -> dict[str, Any]:
        now = self.clock()
        return {"api_tran_dtm": now.strftime("%Y%m%d%H%M%S%f")[:17], "rsp_message": ""}

    def _refused(self, code: str, **extra: Any) -> dict[str, Any]:
        return {
            **self._envelope(),
            "rsp_code": BANK_ERROR,
            "rsp_message": "참가기관 에러",
            "bank_rsp_code": code,
            "bank_rsp_message": MESSAGES[code],
            **extra,
        }

    @staticmethod
    def _next_number(db: sqlite3.Connection, key: str) -> int:
        n = int(meta_get(db, key) or 0) + 1
        meta_set(db, key, str(n))
        return n

    # -- the bank's API --------------------------------------------------------------------

    def issue(self, body: IssueIn) -> dict[str, Any]:
        amount = int(body.tran_amt)
        if amount <= 0:
            return self._refused(NOT_FULL_AMOUNT)
        expires_at = from_kst_dtime(body.expire_dtime)
        fingerprint = _fingerprint(amount, body.account_holder_name, iso(expires_at))
        with self.store.tx() as db:
            row = db.execute(
                "SELECT * FROM virtual_accounts WHERE reference = ?", (body.reference,)
            ).fetchone()
            if row is not None and row["fingerprint"] != fingerprint:
                return self._refused(REFERENCE_REUSED)
            if row is None:
                number = f"79{self._next_number(db, 'va_next_number'):012d}"
                db.execute(
                    "INSERT INTO virtual_accounts (account_num, bank_code, reference, fingerprint,"
                    " holder_name, amount, expires_at, status, issued_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?)",
                    (number, self.bank_code, body.reference, fingerprint,
                     body.account_holder_name, amount, iso(expires_at), iso(self.clock())),
                )  # fmt: skip
                row = db.execute(
                    "SELECT * FROM virtual_accounts WHERE account_num = ?", (number,)
                ).fetchone()
        return {
            **self._envelope(),
            "rsp_code": OK,
            "bank_rsp_code": BANK_OK,
            **self._account_fields(row),
        }

    @staticmethod
    def _account_fields(row: sqlite3.Row) -> dict[str, Any]:
        return {
            "bank_code_std": row["bank_code"],
            "account_num": row["account_num"],
            "reference": row["reference"],
            "account_holder_name": row["holder_name"],
            "tran_amt": str(row["amount"]),
            "expire_dtime": kst_dtime(datetime.fromisoformat(row["expires_at"])),
            "status": row["status"],
        }

    def close(self, body: AccountRefIn) -> dict[str, Any]:
        number = _digits(body.account_num)
        with self.store.tx() as db:
            row = db.execute(
                "SELECT * FROM virtual_accounts WHERE account_num = ?", (number,)
            ).fetchone()
            if row is None:
                return self._refused(NOT_FOUND)
            if row["status"] == "open":
                db.execute(
                    "UPDATE virtual_accounts SET status = 'closed', closed_at = ?"
                    " WHERE account_num = ?",
                    (iso(self.clock()), number),
                )
            row = db.execute(
                "SELECT * FROM virtual_accounts WHERE account_num = ?", (number,)
            ).fetchone()
        return {**self._envelope(), "rsp_code": OK, "bank_rsp_code": BANK_OK,
                **self._account_fields(row)}  # fmt: skip

    def inquire(self, body: AccountRefIn) -> dict[str, Any]:
        number = _digits(body.account_num)
        with self.store.tx() as db:
            row = db.execute(
                "SELECT * FROM virtual_accounts WHERE account_num = ?", (number,)
            ).fetchone()
            if row is None:
                return self._refused(NOT_FOUND)
            deposits = db.execute(
                "SELECT * FROM va_deposits WHERE account_num = ? ORDER BY seq", (number,)
            ).fetchall()
        items = [_deposit_fields(d) for d in deposits]
        return {
            **self._envelope(),
            "rsp_code": OK,
            "bank_rsp_code": BANK_OK,
            **self._account_fields(row),
            "res_cnt": str(len(items)),
            "res_list": items,
        }

    def return_deposit(self, body: ReturnIn) -> dict[str, Any]:
        """The whole deposit back to the payer, once. ``bank_tran_id`` is our key: the
        same key again answers the first outcome and moves nothing; the same key for
        another deposit or amount is refused (409)."""
        amount = int(body.tran_amt)
        fingerprint = _fingerprint(body.deposit_id, amount)
        now = iso(self.clock())
        with self.store.tx() as db:
            prior = db.execute(
                "SELECT * FROM va_returns WHERE return_key = ?", (body.bank_tran_id,)
            ).fetchone()
            if prior is not None:
                if prior["fingerprint"] != fingerprint:
                    return self._refused(ID_REUSED, bank_tran_id=body.bank_tran_id)
                return self._return_answer(prior)
            taken = db.execute(  # the id of a payout: the two share one space of ids
                "SELECT 1 FROM transfers WHERE bank_tran_id = ?", (body.bank_tran_id,)
            ).fetchone()
            if taken is not None:
                return self._refused(ID_REUSED, bank_tran_id=body.bank_tran_id)
            deposit = db.execute(
                "SELECT * FROM va_deposits WHERE deposit_id = ?", (body.deposit_id,)
            ).fetchone()
            if deposit is None:  # not stored: nothing to key it to
                return self._refused(NOT_FOUND, bank_tran_id=body.bank_tran_id)
            memo = body.print_content or f"반환 {deposit['deposit_id']}"
            refusal = None
            if deposit["state"] == "returned":
                refusal = ALREADY_RETURNED
            elif amount != deposit["amount"]:
                refusal = NOT_FULL_AMOUNT
            else:
                held = self.hold(db, deposit["payer_bank_code"], amount)
                if held is not None:  # refused before any work: not kept under the key
                    return {**self._envelope(), "bank_tran_id": body.bank_tran_id, **held}
            db.execute(
                "INSERT INTO va_returns (return_key, fingerprint, deposit_id, amount, status,"
                " bank_rsp_code, bank_rsp_message, memo, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (body.bank_tran_id, fingerprint, body.deposit_id, amount,
                 "rejected" if refusal else "returned", refusal or BANK_OK,
                 MESSAGES.get(refusal or "", ""), memo, now),
            )  # fmt: skip
            if refusal is None:
                db.execute(
                    "UPDATE va_deposits SET state = 'returned', returned_at = ?, return_key = ?"
                    " WHERE deposit_id = ?",
                    (now, body.bank_tran_id, body.deposit_id),
                )
                self.book(
                    db,
                    {
                        "kind": "return",
                        "bank_tran_id": body.bank_tran_id,
                        "bank_code": deposit["payer_bank_code"],
                        "account_num": deposit["payer_account"],
                        "holder": deposit["payer_name"],
                        "amount": amount,
                        "memo": memo,
                        "at": now,
                    },
                )
            row = db.execute(
                "SELECT * FROM va_returns WHERE return_key = ?", (body.bank_tran_id,)
            ).fetchone()
        return self._return_answer(row)

    def _return_answer(self, r: sqlite3.Row) -> dict[str, Any]:
        fields = {
            "bank_tran_id": r["return_key"],
            "deposit_id": r["deposit_id"],
            "tran_amt": str(r["amount"]),
            "status": r["status"],
            "bank_tran_date": r["at"][:10].replace("-", ""),
        }
        if r["status"] == "rejected":
            return self._refused(r["bank_rsp_code"], **fields)
        return {**self._envelope(), "rsp_code": OK, "bank_rsp_code": BANK_OK,
                "bank_rsp_message": "", **fields}  # fmt: skip

    def return_result(self, body: ReturnResultIn) -> dict[str, Any]:
        with self.store.tx() as db:
            row = db.execute(
                "SELECT * FROM va_returns WHERE return_key = ?", (body.org_bank_tran_id,)
            ).fetchone()
        if row is None:
            return {
                **self._envelope(),
                "rsp_code": OK,
                "org_bank_tran_id": body.org_bank_tran_id,
                "status": "not_found",
                "bank_rsp_code": NOT_FOUND,
                "bank_rsp_message": MESSAGES[NOT_FOUND],
            }
        return {
            **self._envelope(),
            "rsp_code": OK,
            "org_bank_tran_id": body.org_bank_tran_id,
            "status": row["status"],
            "deposit_id": row["deposit_id"],
            "tran_amt": str(row["amount"]),
            "bank_rsp_code": row["bank_rsp_code"],
            "bank_rsp_message": row["bank_rsp_message"],
        }

    def list_window(self, body: ListIn) -> dict[str, Any]:
        """Every deposit received in [from, to) on any of our virtual accounts, oldest
        first, each with every return asked for it (returned or rejected, under which
        key): what reconciliation compares with our records. One page at a time."""
        since, until = from_kst_dtime(body.from_dtime), from_kst_dtime(body.to_dtime)
        after = int(body.befor_inquiry_trace_info or 0)
        with self.store.tx() as db:
            rows = db.execute(
                "SELECT d.*, a.reference FROM va_deposits d"
                " JOIN virtual_accounts a ON a.account_num = d.account_num"
                " WHERE d.received_at >= ? AND d.received_at < ? AND d.seq > ?"
                " ORDER BY d.seq LIMIT ?",
                (iso(since), iso(until), after, body.page_size + 1),
            ).fetchall()
            page, more = rows[: body.page_size], len(rows) > body.page_size
            last = page[-1]["seq"] if page else after
            returns = db.execute(
                "SELECT r.* FROM va_returns r JOIN va_deposits d ON d.deposit_id = r.deposit_id"
                " WHERE d.received_at >= ? AND d.received_at < ? AND d.seq > ? AND d.seq <= ?"
                " ORDER BY r.at, r.rowid",
                (iso(since), iso(until), after, last),
            ).fetchall()
        by_deposit: dict[str, list[dict[str, Any]]] = {}
        for r in returns:
            by_deposit.setdefault(r["deposit_id"], []).append(
                {
                    "bank_tran_id": r["return_key"],
                    "tran_amt": str(r["amount"]),
                    "status": r["status"],
                    "bank_rsp_code": r["bank_rsp_code"],
                    "returned_at": r["at"],
                }
            )
        items = [
            {
                **_deposit_fields(d),
                "account_num": d["account_num"],
                "reference": d["reference"],
                "returns": by_deposit.get(d["deposit_id"], []),
            }
            for d in page
        ]
        return {
            **self._envelope(),
            "rsp_code": OK,
            "bank_rsp_code": BANK_OK,
            "res_cnt": str(len(items)),
            "res_list": items,
            "next_page_yn": "Y" if more else "N",
            "befor_inquiry_trace_info": str(page[-1]["seq"]) if more else "",
        }

    # -- the payer (test data) -------------------------------------------------------------

    def pay_in(self, number: str, body: PayerDepositIn) -> tuple[int, dict[str, Any]]:
        """A buyer's transfer into the account: booked, then announced to giftcash."""
        now = self.clock()
        with self.store.tx() as db:
            account = db.execute(
                "SELECT * FROM virtual_accounts WHERE account_num = ?", (_digits(number),)
            ).fetchone()
            if account is None:
                return 404, {"error": "not_found", "message": "no such virtual account"}
            if account["status"] == "closed":
                return 409, {"error": "account_closed", "message": MESSAGES[CLOSED_ACCOUNT]}
            deposit_id = f"VD{self._next_number(db, 'va_next_deposit'):012d}"
            db.execute(
                "INSERT INTO va_deposits (deposit_id, account_num, amount, payer_name,"
                " payer_bank_code, payer_account, received_at, state)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, 'received')",
                (deposit_id, account["account_num"], body.amount, body.payer_name,
                 body.payer_bank_code, _digits(body.payer_account), iso(now)),
            )  # fmt: skip
            self.book(
                db,
                {
                    "kind": "deposit",
                    "bank_tran_id": deposit_id,
                    "bank_code": body.payer_bank_code,
                    "account_num": _digits(body.payer_account),
                    "holder": body.payer_name,
                    "amount": body.amount,
                    "memo": f"가상계좌 {account['account_num']}",
                    "at": iso(now),
                },
            )
            deposit = db.execute(
                "SELECT * FROM va_deposits WHERE deposit_id = ?", (deposit_id,)
            ).fetchone()
            self._enqueue(db, account, deposit, now)
        return 201, {"account_num": account["account_num"], **_deposit_fields(deposit)}

    # -- notifications ---------------------------------------------------------------------

    def set_faults(self, faults: NotificationFaults | None) -> dict[str, Any]:
        self.faults = faults or NotificationFaults()
        self._rng = random.Random(self.faults.seed)
        self.fault_counts = dict.fromkeys(self.fault_counts, 0)
        return self.describe_faults()

    def describe_faults(self) -> dict[str, Any]:
        return {**self.faults.model_dump(), "counts": dict(self.fault_counts)}

    def _enqueue(
        self, db: sqlite3.Connection, account: sqlite3.Row, deposit: sqlite3.Row, now: datetime
    ) -> None:
        f = self.faults
        lost = self._rng.random() < f.lost_rate
        repeated = self._rng.random() < f.repeat_rate
        for name, hit in (("lost", lost), ("repeated", repeated), ("delayed", f.delay_ms > 0)):
            self.fault_counts[name] += int(hit)
        body = {
            "type": NOTIFICATION_TYPE,
            "timestamp": iso(now),
            "data": {
                "bank_code_std": account["bank_code"],
                "account_num": account["account_num"],
                "reference": account["reference"],
                **_deposit_fields(deposit),
            },
        }
        db.execute(
            "INSERT INTO va_notifications (msg_id, deposit_id, body, status, copies, next_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (f"msg_{deposit['deposit_id']}", deposit["deposit_id"],
             json.dumps(body, ensure_ascii=False, separators=(",", ":")),
             "lost" if lost else "pending", 2 if repeated else 1,
             iso(now + timedelta(milliseconds=f.delay_ms))),
        )  # fmt: skip

    def deliver_due(self, limit: int = 100) -> int:
        """One pass over the outbox: each due notification is sent once (twice when the
        fault repeats it); 2xx delivers it, anything else waits its backoff. Sending
        happens outside the store's lock. Answers how many were sent."""
        if self.delivery.send is None:
            return 0
        with self._deliver_lock:
            with self.store.tx() as db:
                due = db.execute(
                    "SELECT * FROM va_notifications WHERE status = 'pending' AND next_at <= ?"
                    " ORDER BY seq LIMIT ?",
                    (iso(self.clock()), limit),
                ).fetchall()
            if self.faults.out_of_order:  # the newest first: later deposits overtake
                due.reverse()
            for n in due:
                self._attempt(n)
            return len(due)

    def _attempt(self, n: sqlite3.Row) -> None:
        assert self.delivery.send is not None
        body = n["body"].encode()
        statuses = []
        for _ in range(n["copies"]):
            timestamp = int(self.clock().timestamp())
            headers = signing.headers(self.delivery.secret, n["msg_id"], timestamp, n["body"])
            statuses.append(self.delivery.send(body, headers))
        ok = any(200 <= s < 300 for s in statuses)
        attempts = n["attempts"] + 1
        now = self.clock()
        wait_s = min(self.delivery.backoff_s * 2 ** (attempts - 1), self.delivery.backoff_cap_s)
        if ok:
            status = "delivered"
        elif attempts >= self.delivery.max_attempts:
            status = "failed"
        else:
            status = "pending"
        with self.store.tx() as db:
            db.execute(
                "UPDATE va_notifications SET status = ?, attempts = ?, sends = sends + ?,"
                " next_at = ?, delivered_at = ?, last_answer = ? WHERE seq = ?",
                (status, attempts, len(statuses), iso(now + timedelta(seconds=wait_s)),
                 iso(now) if ok else None, str(statuses[-1]), n["seq"]),
            )  # fmt: skip

    def run_delivery(self, poll_s: float = 0.2) -> Callable[[], None]:
        """Deliver in a daemon thread until the returned function is called."""
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(poll_s):
                try:
                    self.deliver_due()
                except Exception:  # a broken pass must not end delivery for good
                    log.exception("deposit notification delivery failed; retrying")

        thread = threading.Thread(target=loop, name="bank-sim-notifications", daemon=True)
        thread.start()

        def halt() -> None:
            stop.set()
            thread.join(timeout=5)

        return halt

    # -- inspection ------------------------------------------------------------------------

    def accounts(self) -> dict[str, Any]:
        with self.store.tx() as db:
            rows = db.execute("SELECT * FROM virtual_accounts ORDER BY issued_at").fetchall()
            deposits = db.execute("SELECT * FROM va_deposits ORDER BY seq").fetchall()
        by_account: dict[str, list[dict[str, Any]]] = {}
        for d in deposits:
            by_account.setdefault(d["account_num"], []).append(
                {**_deposit_fields(d), "payer_account": d["payer_account"]}
            )
        items = [
            {
                **self._account_fields(r),
                "expires_at": r["expires_at"],
                "issued_at": r["issued_at"],
                "closed_at": r["closed_at"],
                "deposits": by_account.get(r["account_num"], []),
            }
            for r in rows
        ]
        return {"virtual_accounts": items, "count": len(items)}

    def returns(self, deposit_id: str | None) -> dict[str, Any]:
        with self.store.tx() as db:
            rows = db.execute(
                "SELECT * FROM va_returns WHERE (? IS NULL OR deposit_id = ?) ORDER BY at, rowid",
                (deposit_id, deposit_id),
            ).fetchall()
        items = [
            {k: r[k] for k in ("return_key", "deposit_id", "amount", "status", "bank_rsp_code",
                               "memo", "at")}
            for r in rows
        ]  # fmt: skip
        return {"returns": items, "count": len(items)}

    def notifications(self) -> dict[str, Any]:
        with self.store.tx() as db:
            rows = db.execute("SELECT * FROM va_notifications ORDER BY seq").fetchall()
        items = [
            {k: r[k] for k in ("msg_id", "deposit_id", "status", "copies", "attempts", "sends",
                               "next_at", "delivered_at", "last_answer")}
            for r in rows
        ]  # fmt: skip
        return {"notifications": items, "count": len(items)}


def _deposit_fields(d: sqlite3.Row) -> dict[str, Any]:
    return {
        "deposit_id": d["deposit_id"],
        "tran_amt": str(d["amount"]),
        "payer_name": d["payer_name"],
        "payer_bank_code_std": d["payer_bank_code"],
        "payer_account_num_masked": mask_account(d["payer_account"]),
        "received_at": d["received_at"],
        "state": d["state"],
    }

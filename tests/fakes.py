"""In-memory stand-ins for the issuer, bank and SMS ports (service-level tests).

They keep the same promises as the real services: a redemption key is idempotent, a
spent code cannot be captured twice, a ``bank_tran_id`` moves money once. Faults can be
scripted: ``lose_next`` does the work and then raises ``Ambiguous``."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from giftcash.service.ports import (
    AccountHolder,
    Ambiguous,
    BankClosed,
    Deposit,
    Redemption,
    TransferResult,
    Unavailable,
    VoucherInfo,
)
from giftcash.service.ports.records import IdDocumentAnswer, IdentityResult, VerifiedPerson
from giftcash.service.ports.virtual_accounts import (
    DepositNotice,
    DepositReturn,
    IncomingDeposit,
    InvalidNotification,
    VirtualAccount,
)


@dataclass
class FakeClock:
    at: datetime = field(default_factory=lambda: datetime(2026, 11, 27, 9, 0, tzinfo=UTC))

    def now(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@dataclass
class Voucher:
    issuer: str
    face_value: int
    channel: str = "cash"
    pin: str | None = None
    spent_by: str | None = None  # idempotency key
    purchased_at: datetime | None = None
    expires_at: datetime | None = None
    # the issuer's own record of a spent voucher: when and where (dispute evidence)
    used_at: datetime | None = None
    used_where: str | None = None


@dataclass
class FakeIssuer:
    vouchers: dict[str, Voucher] = field(default_factory=dict)
    redemptions: dict[str, tuple[str, Redemption]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    lose_next: int = 0
    fail_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def sell(
        self,
        issuer: str,
        code: str,
        face_value: int,
        channel: str = "cash",
        pin: str | None = None,
        purchased_at: datetime | None = None,
        expires_at: datetime | None = None,
    ) -> None:
        self.vouchers[code] = Voucher(
            issuer, face_value, channel, pin, None, purchased_at, expires_at
        )

    def inquire_balance(self, issuer: str, code: str, pin: str | None) -> VoucherInfo | None:
        v = self.vouchers.get(code)
        if v is None or v.issuer != issuer:
            return VoucherInfo("not_found", None, None, None, None, None, None)
        status = "used" if v.spent_by else "active"
        if status == "active" and v.expires_at and v.expires_at <= datetime.now(UTC):
            status = "expired"
        balance = 0 if v.spent_by else v.face_value
        return VoucherInfo(
            status,
            v.face_value,
            balance,
            "KRW",
            v.channel,
            v.purchased_at,
            v.expires_at,
            used_at=v.used_at if v.spent_by else None,
            used_where=v.used_where if v.spent_by else None,
        )

    def redeem(self, issuer: str, key: str, code: str, pin: str | None) -> Redemption:
        with self.lock:
            self.calls.append(f"redeem:{key}")
            if self.fail_next:
                self.fail_next -= 1
                raise Unavailable("scripted")
            if key in self.redemptions:
                return self.redemptions[key][1]
            v = self.vouchers.get(code)
            if v is None or v.issuer != issuer or (v.pin and v.pin != pin):
                return Redemption("not_found")
            if v.spent_by is not None:
                return Redemption("already_redeemed")
            v.spent_by = key
            r = Redemption(
                "captured", f"r-{len(self.redemptions) + 1}", v.face_value, "KRW", v.channel
            )
            self.redemptions[key] = (code, r)
            if self.lose_next:
                self.lose_next -= 1
                raise Ambiguous("scripted lost answer")
            return r

    def spend(self, code: str, at: datetime, where: str) -> None:
        """Someone spends the voucher at a shop (not through us)."""
        v = self.vouchers[code]
        v.spent_by, v.used_at, v.used_where = f"shop:{where}", at, where

    def redemption_by_key(self, issuer: str, key: str) -> Redemption | None:
        with self.lock:
            self.calls.append(f"inquire:{key}")
            hit = self.redemptions.get(key)
            return hit[1] if hit else None

    def codes_redeemed_twice(self) -> int:
        codes = [code for code, _ in self.redemptions.values()]
        return len(codes) - len(set(codes))


@dataclass
class FakeBank:
    accounts: dict[tuple[str, str], str] = field(default_factory=dict)
    transfers: dict[str, dict] = field(default_factory=dict)
    lose_next: int = 0
    # New transfers stay "pending" (sent, not yet confirmed) until ``settle`` or
    # ``return_transfer``; otherwise they are "done" at once.
    settle_later: bool = False
    # Every deposit is refused as closed (점검 시간) with this answer until it is None.
    closed: BankClosed | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def settle(self, bank_tran_id: str) -> None:
        with self.lock:
            assert self.transfers[bank_tran_id]["status"] == "pending"
            self.transfers[bank_tran_id]["status"] = "done"

    def return_transfer(self, bank_tran_id: str) -> None:
        """The receiving bank bounced a pending transfer: the money came back."""
        with self.lock:
            assert self.transfers[bank_tran_id]["status"] == "pending"
            self.transfers[bank_tran_id]["status"] = "returned"

    def open(self, bank_code: str, number: str, holder: str) -> None:
        self.accounts[(bank_code, number)] = holder

    def real_name(self, bank_code: str, account_number: str, birth_date: date) -> AccountHolder:
        holder = self.accounts.get((bank_code, account_number))
        return AccountHolder(holder is not None, holder)

    def deposit(
        self,
        bank_tran_id: str,
        bank_code: str,
        account_number: str,
        holder_name: str,
        amount: int,
        memo: str,
    ) -> Deposit:
        with self.lock:
            if bank_tran_id in self.transfers:
                return Deposit("done", bank_tran_id, self.transfers[bank_tran_id]["amount"])
            if self.closed is not None:
                raise self.closed
            if (bank_code, account_number) not in self.accounts:
                return Deposit("rejected", bank_tran_id, amount, "no such account")
            self.transfers[bank_tran_id] = {
                "account": (bank_code, account_number),
                "amount": amount,
                "memo": memo,
                "status": "pending" if self.settle_later else "done",
            }
            if self.lose_next:
                self.lose_next -= 1
                raise Ambiguous("scripted lost answer")
            return Deposit("done", bank_tran_id, amount)

    def transfer_result(self, bank_tran_id: str, amount: int, on: date) -> TransferResult:
        t = self.transfers.get(bank_tran_id)
        if t is None:
            return TransferResult("not_found", bank_tran_id)
        return TransferResult(t["status"], bank_tran_id, t["amount"])

    def memo_to(self, bank_code: str, number: str) -> str:
        memos = [t["memo"] for t in self.transfers.values() if t["account"] == (bank_code, number)]
        return memos[-1]

    def paid_to(self, bank_code: str, number: str) -> int:
        return sum(
            t["amount"]
            for t in self.transfers.values()
            if t["account"] == (bank_code, number) and t["status"] == "done" and t["amount"] > 1
        )


@dataclass
class FakeVirtualAccounts:
    """The bank's virtual accounts in memory. ``pay`` is a buyer's transfer (any amount,
    any name, late or twice: the bank takes it) and answers the notification the bank
    would send; ``notice`` is that notification as the service receives it (verified
    here: ``forged`` makes the next one fail verification). Faults: ``lose_next``
    returns the money and then loses the answer, which the fake resolves like the
    adapter (``inquiry_down`` makes that inquiry fail: the outcome is ``unknown``);
    ``down`` refuses every call (``Unavailable``); ``closed`` refuses returns as the
    payer's bank being closed (``BankClosed``); ``lose_close`` closes and then loses the
    answer (``Ambiguous``)."""

    clock: FakeClock = field(default_factory=FakeClock)
    bank_code: str = "004"
    accounts: dict[str, dict] = field(default_factory=dict)  # by account number
    by_reference: dict[str, str] = field(default_factory=dict)
    deposits_by_id: dict[str, tuple[str, IncomingDeposit]] = field(default_factory=dict)
    returns: dict[str, DepositReturn] = field(default_factory=dict)  # by our key
    lose_next: int = 0
    inquiry_down: bool = False
    down: bool = False
    forged: bool = False
    lose_close: int = 0  # closes whose answer is lost after the bank closed (``Ambiguous``)
    # Every return is refused as closed (the payer's bank in 점검 시간) until it is None.
    closed: BankClosed | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _check_up(self) -> None:
        if self.down:
            raise Unavailable("scripted")

    def issue(
        self, reference: str, amount: int, holder_name: str, expires_at: datetime
    ) -> VirtualAccount:
        with self.lock:
            self._check_up()
            number = self.by_reference.get(reference)
            if number is None:
                number = f"79{len(self.accounts) + 1:012d}"
                self.by_reference[reference] = number
                self.accounts[number] = {
                    "reference": reference,
                    "amount": amount,
                    "holder_name": holder_name,
                    "expires_at": expires_at,
                    "open": True,
                }
            a = self.accounts[number]
            assert (a["amount"], a["holder_name"], a["expires_at"]) == (
                amount,
                holder_name,
                expires_at,
            ), "a reference reused with other terms"
            return VirtualAccount(self.bank_code, number, amount, expires_at)

    def close(self, account_number: str) -> None:
        with self.lock:
            self._check_up()
            self.accounts[account_number]["open"] = False
            if self.lose_close:  # closed, and the answer lost on its way back
                self.lose_close -= 1
                raise Ambiguous("scripted: the close's answer was lost")

    def pay(
        self, account_number: str, amount: int, payer_name: str, payer_bank_code: str = "090"
    ) -> DepositNotice:
        with self.lock:
            account = self.accounts[account_number]
            assert account["open"], "a closed virtual account takes no money"
            deposit = IncomingDeposit(
                deposit_id=f"VD{len(self.deposits_by_id) + 1:012d}",
                amount=amount,
                payer_name=payer_name,
                payer_bank_code=payer_bank_code,
                payer_account_masked="*********5678",
                received_at=self.clock.now(),
                state="received",
            )
            self.deposits_by_id[deposit.deposit_id] = (account_number, deposit)
            return DepositNotice(
                f"msg_{deposit.deposit_id}",
                account["reference"],
                self.bank_code,
                account_number,
                deposit,
            )

    def deposits(self, account_number: str) -> tuple[IncomingDeposit, ...]:
        self._check_up()
        return tuple(d for n, d in self.deposits_by_id.values() if n == account_number)

    def return_deposit(self, key: str, deposit_id: str, amount: int, memo: str) -> DepositReturn:
        with self.lock:
            self._check_up()
            if key in self.returns:
                prior = self.returns[key]
                assert (prior.deposit_id, prior.amount) == (deposit_id, amount), "key reused"
                return prior
            number, deposit = self.deposits_by_id[deposit_id]
            if self.closed is not None:  # nothing done, nothing kept under the key
                raise self.closed
            if deposit.state == "returned":
                result = DepositReturn("rejected", key, deposit_id, amount, "already returned")
            elif amount != deposit.amount:
                result = DepositReturn("rejected", key, deposit_id, amount, "not the full amount")
            else:
                result = DepositReturn("returned", key, deposit_id, amount)
                self.deposits_by_id[deposit_id] = (number, replace(deposit, state="returned"))
            self.returns[key] = result
            if self.lose_next:
                self.lose_next -= 1
                if self.inquiry_down:
                    return DepositReturn("unknown", key, deposit_id, amount, "answer lost")
                return self.returns[key]
            return result

    def return_by_key(self, key: str) -> DepositReturn | None:
        self._check_up()
        return self.returns.get(key)

    def verify_notification(self, headers: Mapping[str, str], body: bytes) -> DepositNotice:
        """The fake takes the notice ``pay`` answered, JSON-free: ``body`` is its deposit
        id. A real adapter verifies the signature (adapters/banks/notifications.py)."""
        if self.forged:
            self.forged = False
            raise InvalidNotification("signature mismatch")
        found = self.deposits_by_id.get(body.decode("utf-8", "replace"))
        if found is None:  # a body no notice of ours has: as a bad signature
            raise InvalidNotification("not a notification of this bank")
        number, deposit = found
        reference = self.accounts[number]["reference"]
        return DepositNotice(
            f"msg_{deposit.deposit_id}", reference, self.bank_code, number, deposit
        )

    def returned_twice(self) -> int:
        """Deposits returned more than once (the fake's own invariant: always 0)."""
        ids = [r.deposit_id for r in self.returns.values() if r.outcome == "returned"]
        return len(ids) - len(set(ids))


@dataclass
class FakeSms:
    outbox: list[tuple[str, str]] = field(default_factory=list)

    def send(self, phone: str, text: str, key: str) -> None:
        self.outbox.append((phone, text))

    def last_code(self, phone: str) -> str:
        import re

        text = [t for p, t in self.outbox if p == phone][-1]
        match = re.search(r"\b(\d{6})\b", text)
        assert match, "no code in the SMS"
        return match.group(1)


@dataclass
class FakeIdentity:
    """A PASS-style provider in memory: ``person`` registers someone (their CI the same
    whatever phone they use), ``confirm`` is their tap on the phone. Faults: ``lose_next``
    starts the transaction and loses the answer (``Ambiguous``), ``down`` refuses every
    call (``Unavailable``)."""

    people: dict[str, VerifiedPerson] = field(default_factory=dict)  # by phone
    documents: set[tuple[str, str, date]] = field(default_factory=set)
    transactions: dict[str, dict] = field(default_factory=dict)
    by_key: dict[str, str] = field(default_factory=dict)
    lose_next: int = 0
    down: bool = False
    answers: int = 0  # verified results answered
    lock: threading.Lock = field(default_factory=threading.Lock)

    def person(
        self,
        phone: str,
        name: str = "김민지",
        birth_date: date = date(1990, 5, 17),
        ci: str | None = None,
        carrier: str = "SKT",
    ) -> VerifiedPerson:
        ci = ci or f"ci-{len(self.people) + 1:04d}"
        p = VerifiedPerson(name, birth_date, "F", carrier, phone, ci, f"di-{ci}")
        self.people[phone] = p
        return p

    def start(self, phone: str, key: str) -> str:
        with self.lock:
            if self.down:
                raise Unavailable("scripted")
            if key not in self.by_key:
                tx = f"tx-{len(self.transactions) + 1}"
                self.by_key[key] = tx
                self.transactions[tx] = {"phone": phone, "status": "pending"}
            if self.lose_next:
                self.lose_next -= 1
                raise Ambiguous("scripted lost answer")
            return self.by_key[key]

    def confirm(self, phone: str, *, deny: bool = False) -> None:
        """The person taps every pending request on their phone."""
        for t in self.transactions.values():
            if t["phone"] == phone and t["status"] == "pending":
                t["status"] = "denied" if deny else "confirmed"

    def result(self, transaction_id: str) -> IdentityResult:
        if self.down:
            raise Unavailable("scripted")
        t = self.transactions.get(transaction_id)
        if t is None or t["status"] == "denied":
            return IdentityResult("failed")
        if t["status"] == "pending" or t["phone"] not in self.people:
            return IdentityResult("pending")
        self.answers += 1
        return IdentityResult("verified", self.people[t["phone"]])

    def check_id_document(
        self, name: str, id_number: str, issue_date: date, key: str
    ) -> IdDocumentAnswer:
        if self.down:
            raise Unavailable("scripted")
        ok = (name, id_number, issue_date) in self.documents
        return IdDocumentAnswer("genuine" if ok else "mismatch")

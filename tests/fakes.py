"""In-memory stand-ins for the issuer, bank and SMS ports (service-level tests).

They keep the same promises as the real services: a redemption key is idempotent, a
spent code cannot be captured twice, a ``bank_tran_id`` moves money once. Faults can be
scripted: ``lose_next`` does the work and then raises ``Ambiguous``."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
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
            status, v.face_value, balance, "KRW", v.channel, v.purchased_at, v.expires_at
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

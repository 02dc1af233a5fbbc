"""Setting the stage through the service layer: a verified customer with a verified bank
account, the risk rules an operator would switch off for a bulk seller, and voucher codes
of the brands' real shapes.

The operator switches off velocity limits, the first-sale hold and the scam guard so that
thousands of one customer's items flow (statutory rules stay on: they cannot be switched
off). Without that, item 31 of a day is declined and a first sale is held for 24 hours,
and the benchmarks would time the decline path instead of the sale.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from giftcash.catalogue import overrides
from giftcash.domain.brands import CATALOGUE, Brand
from giftcash.identity import bank_accounts, customers
from giftcash.identity.operators import Operator
from giftcash.service.deps import Deps, Limits
from giftcash.service.ports import AccountHolder, Deposit, TransferResult

PASSWORD = "bench password 1234"
BIRTH = date(1985, 3, 4)
RULES_OFF = ("velocity_customer", "velocity_account", "first_sale_hold", "scam_victim_guard")
BRANDS = ("cultureland", "munhwa")  # two issuers, so the worker's two issuer slots both fill


@dataclass
class StubSms:
    outbox: list[tuple[str, str]] = field(default_factory=list)

    def send(self, phone: str, text: str, key: str) -> None:
        self.outbox.append((phone, text))

    def last_code(self, phone: str) -> str:
        digits = phone.replace("-", "")
        text = [t for p, t in self.outbox if p == digits][-1]
        found = re.search(r"\b(\d{6})\b", text)
        assert found is not None
        return found.group(1)


@dataclass
class StubBank:
    """Enough of a bank to verify an account: every account is the customer's own."""

    holder: str
    memos: list[str] = field(default_factory=list)

    def real_name(self, bank_code: str, account_number: str, birth_date: date) -> AccountHolder:
        return AccountHolder(True, self.holder)

    def deposit(
        self,
        bank_tran_id: str,
        bank_code: str,
        account_number: str,
        holder_name: str,
        amount: int,
        memo: str,
    ) -> Deposit:
        self.memos.append(memo)
        return Deposit("done", bank_tran_id, amount)

    def transfer_result(self, bank_tran_id: str, amount: int, on: date) -> TransferResult:
        return TransferResult("done", bank_tran_id, amount)


def with_limit(deps: Deps, max_items: int) -> Deps:
    return replace(deps, limits=replace(deps.limits, max_items_per_submission=max_items))


def stub_customer(deps: Deps, phone: str, name: str, account: str) -> tuple[str, str]:
    """A verified customer and account, with stub SMS and bank (no simulators needed)."""
    sms, bank = StubSms(), StubBank(name)
    d = replace(deps, sms=sms, bank=bank)
    return seller(d, phone, name, account, lambda: sms.last_code(phone), lambda: bank.memos[-1])


def seller(deps: Deps, phone: str, name: str, account: str, sms_code, memo) -> tuple[str, str]:
    """Sign up, verify, add and verify the account: answers (customer id, account id).
    ``sms_code()`` and ``memo()`` read what the SMS and bank side received."""
    customer_id = customers.signup(
        deps, phone=phone, name=name, birth_date=BIRTH, password=PASSWORD
    )
    customers.verify_phone(deps, phone=phone, code=sms_code())
    acct = bank_accounts.add_bank_account(
        deps, customer_id, bank_code="004", account_number=account, holder_name=name
    )
    bank_accounts.verify_bank_account(deps, customer_id, acct.id, memo())
    return customer_id, acct.id


def open_rules(deps: Deps) -> None:
    op = Operator(id="bench-operator", username="bench", role="admin")
    for rule_id in RULES_OFF:
        overrides.patch_rule(deps, op, rule_id, enabled=False)


def brand(brand_id: str) -> Brand:
    return next(b for b in CATALOGUE if b.id == brand_id)


def make_code(b: Brand, rng: random.Random) -> str:
    fmt = b.code_format
    length = fmt.lengths[0]
    prefix = fmt.prefixes[0] if fmt.prefixes else ""
    return prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix)))


def item_dicts(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """``n`` distinct items alternating the two brands, as the API takes them."""
    rng = random.Random(seed)
    brands = [brand(b) for b in BRANDS]
    seen: set[str] = set()
    out = []
    while len(out) < n:
        b = brands[len(out) % len(brands)]
        code = make_code(b, rng)
        if code in seen:
            continue
        seen.add(code)
        out.append({"brand_id": b.id, "code": code, "face_value": 10_000, "funding_source": "cash"})
    return out


__all__ = ["Limits", "item_dicts", "open_rules", "seller", "stub_customer", "with_limit"]

"""Customers as the operators look them up: by the last digits of the phone number or a
part of the name (``find_customers``), and one customer's record (``customer_record``:
accounts, items, holds, flags, payouts and the day's limits). Read-only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from giftcash.catalogue import live as catalogue
from giftcash.domain.banks import same_holder
from giftcash.domain.policy import day_bounds
from giftcash.domain.records import BankAccount
from giftcash.review.queue import age_band
from giftcash.service import errors
from giftcash.service.deps import Deps
from giftcash.service.ports.records import Block, Note, RowView

ITEM_TERMINAL = frozenset({"paid", "declined", "invalid", "failed"})
MIN_PHONE_DIGITS = 4
MAX_RESULTS = 50
CUSTOMER_ITEMS = 50
CUSTOMER_PAYOUTS = 20


class CustomerNotFound(errors.NotFound):
    code = "customer_not_found"


@dataclass(frozen=True)
class CustomerSummary:
    id: str
    name: str
    phone: str
    age_band: str
    verified: bool
    status: str
    created_at: datetime


def _summary(row: RowView, today: date) -> CustomerSummary:
    return CustomerSummary(
        id=row["id"],
        name=row["name"],
        phone=row["phone"],
        age_band=age_band(row["birth_date"], today),
        verified=row["phone_verified_at"] is not None,
        status=row["status"],
        created_at=row["created_at"],
    )


def find_customers(deps: Deps, query: str) -> list[CustomerSummary]:
    """By the last digits of the phone number (at least four) or by a part of the name."""
    q = " ".join(query.split())[:50]
    digits = q.replace("-", "").replace(" ", "")
    if not q:
        return []
    if digits.isdigit():
        if len(digits) < MIN_PHONE_DIGITS:
            raise errors.InvalidInput(
                f"search by at least {MIN_PHONE_DIGITS} digits of the phone number", field="q"
            )
        by = {"phone_suffix": digits, "name": None}
    else:
        by = {"phone_suffix": None, "name": q}
    with deps.reader() as uow:
        rows = uow.customer_lookup.find_customers(**by, limit=MAX_RESULTS)
    today = deps.clock.now().date()
    return [_summary(r, today) for r in rows]


@dataclass(frozen=True)
class Limits:
    currency: str
    items_today: int
    value_today: int
    max_items: int
    max_value: int


@dataclass(frozen=True)
class CustomerRecord:
    customer: CustomerSummary
    account_age_days: int
    accounts: list[BankAccount]
    items: list[RowView]  # newest first (masked codes only)
    items_by_status: dict[str, int]
    holds: list[RowView]  # items whose payout waits for a hold
    flagged: list[RowView]  # items with flags or a review reason
    payouts: list[RowView]
    limits: Limits
    prior_sales: int
    prior_payout: int
    holder_matches: dict[str, bool] = field(default_factory=dict)  # account id -> name match


def customer_record(deps: Deps, customer_id: str) -> CustomerRecord:
    now = deps.clock.now()
    rules = catalogue.current_rules(deps, deps.jurisdiction)
    start, _ = day_bounds(rules, now)
    with deps.reader() as uow:
        customer = uow.customers.get(customer_id)
        if customer is None:
            raise CustomerNotFound("no such customer")
        accounts = uow.bank_accounts.for_customer(customer_id)
        items = uow.customer_lookup.customer_items(customer_id, CUSTOMER_ITEMS)
        by_status = uow.customer_lookup.customer_items_by_status(customer_id)
        payouts = uow.customer_lookup.customer_payouts(customer_id, CUSTOMER_PAYOUTS)
        items_today, value_today = uow.items.day_totals(customer_id=customer_id, since=start)
        prior_sales, prior_payout = uow.review.prior_sales([customer_id]).get(customer_id, (0, 0))
    row = {
        "id": customer.id,
        "name": customer.name,
        "phone": customer.phone,
        "birth_date": customer.birth_date,
        "status": customer.status,
        "phone_verified_at": customer.phone_verified_at,
        "created_at": customer.created_at,
    }
    p = rules.params
    return CustomerRecord(
        customer=_summary(row, now.date()),
        account_age_days=max((now - customer.created_at).days, 0),
        accounts=accounts,
        items=items,
        items_by_status=by_status,
        holds=[
            i
            for i in items
            if i["hold_until"] is not None
            and i["hold_until"] > now
            and i["status"] not in ITEM_TERMINAL | {"review"}  # in review: nothing is paid
            and i["reviewed_at"] is None  # an approval replaces the first-sale hold
        ],
        flagged=[i for i in items if i["flags"] or i["review_reason"]],
        payouts=payouts,
        limits=Limits(
            p.currency,
            items_today,
            value_today,
            p.customer_max_items_per_day,
            p.customer_max_value_per_day,
        ),
        prior_sales=prior_sales,
        prior_payout=prior_payout,
        holder_matches={a.id: same_holder(a.holder_name, customer.name) for a in accounts},
    )


# -- customers: recent, found by what an operator has, and their cases -----------------------

SEARCH_BY = ("phone_or_name", "code", "account", "device")
RECENT_CUSTOMERS = 20


def recent_customers(deps: Deps, limit: int = RECENT_CUSTOMERS) -> list[CustomerSummary]:
    with deps.reader() as uow:
        rows = uow.console_search.recent_customers(limit)
    today = deps.clock.now().date()
    return [_summary(r, today) for r in rows]


def _code_keys(deps: Deps, text: str) -> list[str]:
    from giftcash.domain.brands import normalise

    forms = {normalise(text), "".join(text.split()).upper()}
    return [deps.vault.hmac(f) for f in sorted(forms) if f]


def _account_keys(deps: Deps, text: str) -> list[str]:
    from giftcash.domain.banks import BANKS, InvalidBankAccount, normalise_account_number

    keys = []
    for bank_code in sorted(BANKS):
        try:
            number = normalise_account_number(bank_code, text)
        except InvalidBankAccount:
            raise errors.InvalidInput("an account number has 10 to 16 digits", field="q") from None
        keys.append(deps.vault.hmac(f"account:{bank_code}:{number}"))
    return keys


def search_customers(deps: Deps, query: str, by: str) -> list[CustomerSummary]:
    """By phone digits or name (``find_customers``), or by a voucher code or an account
    number (looked up by the vault's keyed hash: the clear value is never stored or
    shown), or by a device key."""
    if by not in SEARCH_BY:
        raise errors.InvalidInput("search by phone or name, code, account or device", field="by")
    q = query.strip()[:100]
    if by == "phone_or_name":
        return find_customers(deps, q)
    if not q:
        return []
    with deps.reader() as uow:
        s = uow.console_search
        if by == "code":
            ids = s.customers_by_code_hmac(_code_keys(deps, q))
        elif by == "account":
            ids = s.customers_by_account_hmac(_account_keys(deps, q))
        else:
            ids = s.customers_by_device(q)
        rows = s.customers_by_ids(ids, MAX_RESULTS)
    today = deps.clock.now().date()
    return [_summary(r, today) for r in rows]


@dataclass(frozen=True)
class CustomerWatch:
    """What the console knows against a customer beyond their sales: cases, the items
    whose declared payment the issuer contradicted, blocks, devices and notes."""

    cases: list[RowView]  # open or under review
    closed_cases: int
    mismatches: list[RowView]
    blocked: Block | None
    devices: list[tuple[str, Block | None]]  # (device key, its block or None)
    notes: list[Note]  # newest first


MAX_DEVICES = 20


def customer_watch(deps: Deps, customer_id: str) -> CustomerWatch:
    from giftcash.domain.aml import ACTIVE_STATUSES, CaseStatus
    from giftcash.identity import blocks

    with deps.reader() as uow:
        s = uow.console_search
        active = s.cases_of(customer_id, sorted(ACTIVE_STATUSES))
        closed = s.cases_of(customer_id, [c.value for c in CaseStatus if c not in ACTIVE_STATUSES])
        items = uow.customer_lookup.customer_items(customer_id, CUSTOMER_ITEMS)
        devices = s.devices_of(customer_id, MAX_DEVICES)
        device_blocks = blocks.blocks_of(uow, "device", devices)
        blocked = blocks.blocks_of(uow, "customer", [customer_id]).get(customer_id)
        notes = blocks.notes_of(uow, customer_id)
    mismatches = [i for i in items if "declaration_mismatch" in (i["flags"] or [])]
    return CustomerWatch(
        cases=active,
        closed_cases=len(closed),
        mismatches=mismatches,
        blocked=blocked,
        devices=[(d, device_blocks.get(d)) for d in devices],
        notes=notes,
    )


def customer_phones(deps: Deps, customer_ids: list[str]) -> dict[str, str]:
    with deps.reader() as uow:
        return uow.console_search.phones(customer_ids)

"""What a sale would be before the customer agrees to it: the price of each voucher and
of the whole, the receiving account, what is left of today's limits, the codes on the
form that cannot be sold (twice in the paste, already received from this customer) and
whether the scam-victim pattern applies. Read-only: nothing is stored, no code leaves.

The numbers come from the same functions the submit uses (``quote`` on the live
catalogue, the policy's own rules and counts), so what the confirmation shows is what
``submissions.submit`` pays; a rate that changed in between is refused there
(``quoted_fee_bps``), never paid silently at the new one."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from giftcash.catalogue import live as catalogue
from giftcash.domain import tiers as due_diligence
from giftcash.domain.policy import (
    RETRYABLE_DECLINES,
    CustomerFacts,
    History,
    ItemFacts,
    RuleSet,
    Stage,
    evaluate,
)
from giftcash.domain.quotes import Quote, quote
from giftcash.domain.records import BankAccount
from giftcash.identity import tiers
from giftcash.intake import screening
from giftcash.service.deps import Deps


@dataclass(frozen=True, slots=True)
class LimitsLeft:
    """Today's limits (the stricter of the customer's and the receiving account's) and
    what is left of them; ``per_sale``: the cap on items in one submission."""

    max_items: int
    max_won: int
    items_left: int
    won_left: int
    per_sale: int

    def fits(self, face_value: int) -> int:
        """How many vouchers of ``face_value`` this sale can still carry."""
        by_value = self.won_left // face_value if face_value > 0 else self.items_left
        return max(0, min(self.items_left, by_value, self.per_sale))


@dataclass(frozen=True, slots=True)
class CodeCheck:
    """Codes on the form by position (0-based), never the codes themselves."""

    repeated_in_paste: tuple[tuple[int, int], ...] = ()  # (first, again)
    already_received: tuple[int, ...] = ()  # sent to giftcash by this customer before


@dataclass(frozen=True, slots=True)
class SalePreview:
    each: Quote  # one voucher's price
    count: int
    face_total: int
    fee_total: int
    payout_total: int
    declined: tuple[str, str] | None  # the policy's quote-stage decline (code, message)
    limits: LimitsLeft
    account: BankAccount | None
    scam_warning: bool
    codes: CodeCheck


def preview(
    deps: Deps,
    customer_id: str,
    *,
    bank_account_id: str,
    brand_id: str,
    face_value: int,
    funding: str,
    count: int,
    purchased_at: datetime | None = None,
    code_hmacs: tuple[str, ...] = (),
) -> SalePreview:
    """``purchased_at``: the form's purchase moment; a purchase today is read as just now
    (the worst case of the scam pattern: the warning is cheap, a victim's loss is not)."""
    now = deps.clock.now()
    with deps.reader() as uow:
        live = catalogue.live_catalogue_in(uow, deps.brand_catalogue)
        brand = live.brands[brand_id]
        rs = screening.ruleset(uow, deps, live)
        customer = uow.customers.get(customer_id)
        assert customer is not None
        account = uow.bank_accounts.get(bank_account_id) if bank_account_id else None
        if account is not None and account.customer_id != customer_id:
            account = None
        tier_facts = tiers.facts(uow, deps, customer_id)
        facts = screening.customer_facts(uow, customer, None, None, tier_facts)
        c = screening.counts(
            uow,
            rs,
            customer_id=customer_id,
            account_id=account.id if account else "",
            device_key=None,
            now=now,
            month=tier_facts.in_force,
        )
        sightings = uow.items.sightings(list(set(code_hmacs))) if code_hmacs else {}
    each = quote(brand, face_value, funding, now=now)
    q_decision = evaluate(rs, ItemFacts(brand, face_value, funding), now=now, stage=Stage.QUOTE)
    declined = (q_decision.code or "", q_decision.message) if q_decision.declined else None
    p = rs.params
    # where due diligence is in force, the customer's level may leave less (domain/tiers.py)
    room = None
    if tier_facts.in_force:
        used = (c.customer_value, c.customer_month_value)
        room = due_diligence.room(tier_facts, tiers.limits_of(rs), *used)
    tier_left = min(
        (x for x in (room.day_left, room.month_left) if x is not None) if room else (),
        default=10**12,
    )
    limits = LimitsLeft(
        max_items=min(p.customer_max_items_per_day, p.account_max_items_per_day),
        max_won=min(p.customer_max_value_per_day, p.account_max_value_per_day),
        items_left=max(
            0,
            min(
                p.customer_max_items_per_day - c.customer_items,
                p.account_max_items_per_day - c.account_items if account else 10**9,
            ),
        ),
        won_left=max(
            0,
            min(
                p.customer_max_value_per_day - c.customer_value,
                p.account_max_value_per_day - c.account_value if account else 10**12,
                tier_left,
            ),
        ),
        per_sale=deps.limits.max_items_per_submission,
    )
    return SalePreview(
        each=each,
        count=count,
        face_total=face_value * count,
        fee_total=each.fee * count,
        payout_total=each.payout * count,
        declined=declined,
        limits=limits,
        account=account,
        scam_warning=_scam_pattern(
            rs,
            ItemFacts(brand, face_value, funding, purchased_at=purchased_at),
            count,
            facts,
            c,
            now,
        ),
        codes=_code_check(customer_id, code_hmacs, sightings),
    )


def _scam_pattern(
    rs: RuleSet,
    item: ItemFacts,
    count: int,
    facts: CustomerFacts,
    c: screening.Counts,
    now: datetime,
) -> bool:
    """The policy's own scam-victim rule on what is on the form."""
    tz = rs.params.tz
    bought = item.purchased_at
    if bought is not None and bought.astimezone(tz).date() >= now.astimezone(tz).date():
        item = replace(item, purchased_at=now)
    history = History(
        customer_items_today=c.customer_items,
        customer_value_today=c.customer_value,
        submission_value=item.face_value * max(count, 1),
    )
    d = evaluate(rs, item, now=now, customer=facts, history=history, stage=Stage.INTAKE)
    return d.warning is not None


def _code_check(
    customer_id: str, hmacs: tuple[str, ...], sightings: dict[str, list[tuple[str, str | None]]]
) -> CodeCheck:
    seen: dict[str, int] = {}
    repeated: list[tuple[int, int]] = []
    received: list[int] = []
    for i, h in enumerate(hmacs):
        if h in seen:
            repeated.append((seen[h], i))
            continue
        seen[h] = i
        mine = [
            code
            for cid, code in sightings.get(h, ())
            if cid == customer_id and code not in RETRYABLE_DECLINES
        ]
        if mine:
            received.append(i)
    return CodeCheck(tuple(repeated), tuple(received))

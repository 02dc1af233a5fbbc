"""Intake: one submission of 1 to 1,000 codes, each validated, quoted, encrypted, hashed,
registered and stored in one transaction. Policy and risk (issue 4) decide later, in the
pipeline, before any code is redeemed."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from giftcash.audit import log as audit
from giftcash.catalogue import live as catalogue
from giftcash.catalogue.live import LiveCatalogue
from giftcash.domain import declines as dc
from giftcash.domain.brands import mask
from giftcash.domain.errors import DomainError
from giftcash.domain.money import DEFAULT_CURRENCY
from giftcash.domain.quotes import funding_source, quote
from giftcash.domain.records import Item, Submission
from giftcash.domain.states import ItemStatus
from giftcash.identity import blocks
from giftcash.intake import screening
from giftcash.service import errors
from giftcash.service.deps import Deps
from giftcash.service.ports.records import HeldSale, NewItem
from giftcash.webhooks import announce

SEAL_CHUNK = 256  # items prepared and sealed together


@dataclass(frozen=True, slots=True)
class ItemIn:
    brand_id: str
    code: str
    face_value: int
    funding_source: str
    pin: str | None = None
    purchased_at: datetime | None = None  # the customer's purchase record, if given
    # The fee rate of the price the customer confirmed (None: no confirmation, e.g. the
    # API's quote-less submit); a different live rate refuses the whole submission.
    quoted_fee_bps: int | None = None


@dataclass(frozen=True, slots=True)
class Decline:
    code: str
    message: str


@dataclass
class SubmissionView:
    submission: Submission
    items: list[Item]
    totals: dict[str, Any] = field(default_factory=dict)
    # items an active payment stop holds, and whom the customer should call (stops/)
    held: dict[str, HeldSale] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Prepared:
    """One item after the checks that need no database (format, brand, quote)."""

    id: str
    brand_id: str
    issuer: str
    currency: str
    face_value: int
    funding_source: str
    purchased_at: datetime | None
    fee: int = 0
    payout: int = 0
    decline: Decline | None = None


@dataclass(frozen=True, slots=True)
class _Sealed:
    """A prepared item with its code encrypted and hashed (no plaintext left): one object
    per item kept for the whole submission, not two (fewer for the garbage collector)."""

    id: str
    brand_id: str
    issuer: str
    currency: str
    face_value: int
    funding_source: str
    purchased_at: datetime | None
    fee: int
    payout: int
    decline: Decline | None
    code_hmac: str
    masked_code: str
    code_enc: bytes
    key_id: str
    pin_enc: bytes | None


def _prepare(live: LiveCatalogue, raw: ItemIn, id_: str) -> tuple[_Prepared, str, str | None]:
    """Everything about one item that needs no database, declined or not; beside it, the
    normalised code and PIN (plaintext, kept apart so sealing drops them without a copy)."""
    brand = live.brands.get(raw.brand_id)
    norm, pin = "".join(raw.code.split()).upper(), raw.pin
    fee = payout = 0
    decline = None
    try:
        source = funding_source(raw.funding_source)
        if brand is None:
            raise errors.InvalidInput(f"no brand {raw.brand_id[:40]!r}")
        norm, pin = brand.code_format.validate(raw.code, raw.pin)
    except DomainError as e:
        entry = dc.UNKNOWN_BRAND if brand is None else dc.for_input_error(e.code)
        decline = Decline(entry.code, e.message)
    else:
        # (the issuer kill switch and a brand switched off are the policy's to decide)
        try:
            q = quote(brand, raw.face_value, source)
        except DomainError as e:
            decline = Decline(dc.for_input_error(e.code).code, e.message)
        else:
            fee, payout = q.fee, q.payout
    prepared = _Prepared(
        id=id_,
        brand_id=raw.brand_id,
        issuer=brand.issuer if brand else "unknown",
        currency=brand.currency if brand else DEFAULT_CURRENCY,
        face_value=raw.face_value,
        funding_source=raw.funding_source,
        purchased_at=raw.purchased_at,
        fee=fee,
        payout=payout,
        decline=decline,
    )
    return prepared, norm, pin


def _seal_many(deps: Deps, batch: list[tuple[_Prepared, str, str | None]]) -> list[_Sealed]:
    """Each prepared item with its code and PIN encrypted (in one call to the vault, so
    under one key: the row's ``key_id`` is the PIN's too) and its code hashed."""
    pins = [(i, pin) for i, (_, _, pin) in enumerate(batch) if pin]
    blobs, key_id = deps.vault.encrypt_many(
        [(norm, p.id) for p, norm, _ in batch] + [(pin, batch[i][0].id + ":pin") for i, pin in pins]
    )
    pin_enc = dict(zip((i for i, _ in pins), blobs[len(batch) :], strict=True))
    return [
        _Sealed(
            id=p.id,
            brand_id=p.brand_id,
            issuer=p.issuer,
            currency=p.currency,
            face_value=p.face_value,
            funding_source=p.funding_source,
            purchased_at=p.purchased_at,
            fee=p.fee,
            payout=p.payout,
            decline=p.decline,
            code_hmac=deps.vault.hmac(norm),
            masked_code=mask(norm),
            code_enc=blobs[i],
            key_id=key_id,
            pin_enc=pin_enc.get(i),
        )
        for i, (p, norm, _) in enumerate(batch)
    ]


def _new_ids(deps: Deps, n: int) -> list[str]:
    return deps.new_ids(n) if deps.new_ids else [deps.new_id() for _ in range(n)]


def _new_item(
    s: _Sealed,
    submission_id: str,
    customer_id: str,
    decline: Decline | None,
    screened: screening.Screening | None,
) -> NewItem:
    review_reason = screened.review_reason if screened else None
    if decline is not None:
        status = ItemStatus.DECLINED
    elif review_reason:
        status = ItemStatus.REVIEW
    else:
        status = ItemStatus.RECEIVED
    return NewItem(
        id=s.id,
        submission_id=submission_id,
        customer_id=customer_id,
        brand_id=s.brand_id,
        issuer=s.issuer,
        currency=s.currency,
        face_value=s.face_value,
        fee=s.fee,
        payout=s.payout,
        funding_source=s.funding_source,
        status=status.value,
        code_enc=s.code_enc,
        pin_enc=s.pin_enc,
        key_id=s.key_id,
        code_hmac=s.code_hmac,
        masked_code=s.masked_code,
        decline_code=decline.code if decline else None,
        decline_message=decline.message if decline else None,
        review_reason=review_reason,
        flags=screened.flags if screened else None,
        hold_until=screened.hold_until if screened else None,
        warning=screened.decision.warning if screened else None,
        decision=screened.record if screened else None,
    )


def _same_price(live: LiveCatalogue, items: list[ItemIn]) -> None:
    for raw in items:
        brand = live.brands.get(raw.brand_id)
        if raw.quoted_fee_bps is not None and brand and brand.fee_bps != raw.quoted_fee_bps:
            raise errors.QuoteChanged(
                f"the fee of {brand.id} is now {brand.fee_bps} bps, not {raw.quoted_fee_bps}",
                brand_id=brand.id,
                fee_bps=brand.fee_bps,
            )


def submit(
    deps: Deps,
    customer_id: str,
    *,
    bank_account_id: str,
    items: list[ItemIn],
    device_key: str | None = None,
) -> SubmissionView:
    """``device_key``: the device or IP the request came from (failures are counted by it)."""
    limit = deps.limits.max_items_per_submission
    if not (1 <= len(items) <= limit):
        raise errors.TooManyItems(f"a submission has 1 to {limit} items, not {len(items)}")
    now = deps.clock.now()
    live = catalogue.live_catalogue(deps)
    _same_price(live, items)
    sealed: list[_Sealed] = []
    ids = _new_ids(deps, len(items))
    for start in range(0, len(items), SEAL_CHUNK):  # a chunk's plaintext alive at a time
        chunk = zip(items[start : start + SEAL_CHUNK], ids[start : start + SEAL_CHUNK], strict=True)
        sealed += _seal_many(deps, [_prepare(live, raw, id_) for raw, id_ in chunk])
    seen: dict[str, int] = {}
    for i, s in enumerate(sealed):
        if s.code_hmac in seen:
            raise errors.DuplicateInRequest(
                f"items {seen[s.code_hmac]} and {i} carry the same code",
                first=seen[s.code_hmac],
                second=i,
            )
        seen[s.code_hmac] = i

    submission_id = deps.new_id()
    with deps.uow() as uow:
        customer = uow.customers.get(customer_id)
        assert customer is not None
        if not customer.verified:
            raise errors.PhoneNotVerified("verify your phone number first")
        blocks.refuse_if_blocked(uow, customer_id, device_key)
        acct = uow.bank_accounts.get(bank_account_id)
        if acct is None or acct.customer_id != customer_id:
            raise errors.BankAccountNotFound("no such bank account")
        if acct.status != "verified":
            raise errors.BankAccountNotVerified("verify the bank account with its 1-won code first")
        declines = {s.id: s.decline for s in sealed if s.decline is not None}
        live_items = [s for s in sealed if s.decline is None]
        screened = dict(
            zip(
                [s.id for s in live_items],
                screening.screen_intake(
                    uow,
                    deps,
                    customer=customer,
                    account=acct,
                    candidates=[_candidate(live, s) for s in live_items],
                    now=now,
                    device_key=device_key,
                    live=live,
                ),
                strict=True,
            )
        )
        for item_id, sc in screened.items():
            d = sc.decision
            if sc.declined:
                assert d.code is not None
                declines[item_id] = Decline(d.code, d.message)
        for s in sealed:
            d_ = declines.get(s.id)
            if d_ is not None and dc.lookup(d_.code).counts_as_failure:
                uow.failures.add(
                    "invalid_code", now, customer_id=customer_id, device_key=device_key
                )
        candidates = [s for s in sealed if s.id not in declines]
        first_owner = uow.codes.register_many(
            [(s.code_hmac, s.id, customer_id) for s in candidates]
        )
        for s in candidates:
            earlier = first_owner.get(s.code_hmac)
            if earlier is not None and earlier.item_id != s.id:
                declines[s.id] = Decline(
                    dc.DUPLICATE_CODE.code, "this code was already submitted to giftcash"
                )
        uow.submissions.add(submission_id, customer_id, bank_account_id, len(sealed), now)
        new_items = [
            _new_item(
                s,
                submission_id,
                customer_id,
                declines.get(s.id),
                screened.get(s.id),
            )
            for s in sealed
        ]
        uow.items.add_many(new_items, now)
        announce.items_created(uow, new_items, now)
        # The answer's items are what was written (not read back): the sealed items
        # (codes encrypted, decisions) are let go of before the next step.
        del sealed, live_items, candidates, screened, first_owner, seen
        stored = sorted((_as_stored(n, now) for n in new_items), key=lambda it: it.id)
        del new_items
        uow.commit()
    return _view(deps, customer_id, submission_id, stored)


def _as_stored(n: NewItem, now: datetime) -> Item:
    """The item as ``Items.for_submission`` reads it back just after it was written."""
    at = now.astimezone(UTC)
    return Item(
        id=n.id,
        submission_id=n.submission_id,
        customer_id=n.customer_id,
        brand_id=n.brand_id,
        issuer=n.issuer,
        currency=n.currency,
        face_value=n.face_value,
        fee=n.fee,
        payout=n.payout,
        funding_source=n.funding_source,
        status=n.status,
        masked_code=n.masked_code,
        decline_code=n.decline_code,
        decline_message=n.decline_message,
        payout_id=None,
        attempts=0,
        created_at=at,
        updated_at=at,
        warning=n.warning,
        hold_until=n.hold_until.astimezone(UTC) if n.hold_until else None,
        decision=n.decision,
        review_reason=n.review_reason,
    )


def _view(deps: Deps, customer_id: str, submission_id: str, items: list[Item]) -> SubmissionView:
    """A fresh submission's answer: its row and the stops holding its items are read; its
    items are the ones just written."""
    with deps.reader() as uow:
        sub = uow.submissions.get(submission_id)
        if sub is None or sub.customer_id != customer_id:
            raise errors.SubmissionNotFound("no such submission")
        held: dict[str, HeldSale] = {}
        for h in uow.stops.held_sales(customer_id):  # the first stop holding each item
            if h.submission_id == submission_id:
                held.setdefault(h.item_id, h)
    return SubmissionView(sub, items, totals(items), held)


def _candidate(live: LiveCatalogue, s: _Sealed) -> screening.Candidate:
    return screening.Candidate(
        brand=live.brands[s.brand_id],
        face_value=s.face_value,
        funding_source=s.funding_source,
        payout=s.payout,
        code_hmac=s.code_hmac,
        purchased_at=s.purchased_at,
    )


def totals(items: list[Item]) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for it in items:
        counts[it.status] = counts.get(it.status, 0) + 1
    live = [it for it in items if it.status not in ("declined", "invalid", "failed")]
    paid = [it for it in items if it.status == "paid"]
    return {
        "currency": items[0].currency if items else DEFAULT_CURRENCY,
        "items": len(items),
        "face_value": sum(it.face_value for it in live),
        "fee": sum(it.fee for it in live),
        "payout": sum(it.payout for it in live),
        "paid": sum(it.payout for it in paid),
        "by_status": counts,
    }


def submission_status(items: list[Item]) -> str:
    return status_of({it.status for it in items})


def status_of(statuses: set[str]) -> str:
    """A submission's status, derived from its items' (never stored apart from them)."""
    if statuses <= {"paid", "declined", "invalid", "withheld"}:
        return "completed" if "paid" in statuses else "closed"
    if "failed" in statuses:
        return "attention"
    return "processing"


def get_submission(deps: Deps, customer_id: str, submission_id: str) -> SubmissionView:
    with deps.reader() as uow:
        sub = uow.submissions.get(submission_id)
        if sub is None or sub.customer_id != customer_id:
            raise errors.SubmissionNotFound("no such submission")
        items = uow.items.for_submission(submission_id)
        held: dict[str, HeldSale] = {}
        for h in uow.stops.held_sales(customer_id):  # the first stop holding each item
            if h.submission_id == submission_id:
                held.setdefault(h.item_id, h)
    return SubmissionView(sub, items, totals(items), held)


def change_bank_account(
    deps: Deps, customer_id: str, submission_id: str, bank_account_id: str
) -> SubmissionView:
    """After the bank returned a payout, the account it went to is ``failed`` and the
    submission's unpaid items wait (payouts go only to verified accounts). This points the
    submission at another of the customer's own verified accounts, so they are paid there.

    Only away from a failed account: while the submission's account works, its payouts
    stay where the customer sent them (a taken-over session cannot redirect money). Items
    already in a payout stay with it; if that payout is returned too, they follow the
    submission to the new account. Audited; no money moves here."""
    now = deps.clock.now()
    with deps.uow() as uow:
        sub = uow.submissions.get(submission_id)
        if sub is None or sub.customer_id != customer_id:
            raise errors.SubmissionNotFound("no such submission")
        target = uow.bank_accounts.get(bank_account_id)
        if target is None or target.customer_id != customer_id:
            raise errors.BankAccountNotFound("no such bank account")
        if target.status != "verified":
            raise errors.BankAccountNotVerified("verify the bank account with its 1-won code first")
        if target.id != sub.bank_account_id:
            current = uow.bank_accounts.get(sub.bank_account_id)
            if current is None or current.status != "failed":
                raise errors.BankAccountStillPays(
                    "this submission's payouts go to an account that works; they can be "
                    "moved only after the bank returned a payout from it"
                )
            if not uow.submissions.move_to_account(submission_id, current.id, target.id):
                raise errors.BankAccountStillPays("the submission changed meanwhile; look again")
            audit.record(
                uow,
                f"customer:{customer_id}",
                "submission.bank_account",
                f"submission:{submission_id}",
                {"from": current.id, "to": target.id},
                at=now,
                id=deps.new_id(),
            )
            uow.commit()
    return get_submission(deps, customer_id, submission_id)


@dataclass(frozen=True, slots=True)
class SaleSummary:
    """A history row: the brands sold, how many vouchers, what they pay (declined ones
    left out)."""

    brand_ids: tuple[str, ...]
    count: int
    payout: int
    currency: str


def summaries(deps: Deps, customer_id: str, subs: list[Submission]) -> dict[str, SaleSummary]:
    out: dict[str, SaleSummary] = {}
    with deps.reader() as uow:
        for s in subs:
            if s.customer_id != customer_id:
                continue
            items = uow.items.for_submission(s.id)
            sums = totals(items)
            brands = tuple(dict.fromkeys(it.brand_id for it in items))
            out[s.id] = SaleSummary(brands, len(items), sums["payout"], sums["currency"])
    return out


def list_submissions(
    deps: Deps, customer_id: str, *, cursor: str | None, limit: int
) -> list[Submission]:
    with deps.reader() as uow:
        subs = uow.submissions.for_customer(customer_id, cursor, limit)
        statuses = uow.items.statuses_by_submission([s.id for s in subs])
    return [replace(s, status=status_of(statuses.get(s.id, set()))) for s in subs]

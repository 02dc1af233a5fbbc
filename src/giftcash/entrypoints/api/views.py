"""Records to response bodies (no code or PIN ever leaves here in full)."""

from __future__ import annotations

from giftcash.domain import declines
from giftcash.domain.banks import BANKS
from giftcash.domain.brands import DIGITS, Brand
from giftcash.domain.records import BankAccount, Item, Payout
from giftcash.entrypoints.api import schemas as s
from giftcash.intake.submissions import SubmissionView, submission_status
from giftcash.service.ports.records import HeldSale


def brand(b: Brand) -> s.BrandOut:
    f = b.code_format
    return s.BrandOut(
        id=b.id,
        name=b.name,
        name_ko=b.name_ko,
        issuer=b.issuer,
        currency=b.currency,
        buyback_rate_bps=b.buyback_rate_bps,
        fee_bps=b.fee_bps,
        enabled=b.enabled,
        code_format=s.CodeFormatOut(
            lengths=list(f.lengths),
            alphabet="digits" if f.alphabet == DIGITS else "alphanumeric",
            groups=list(f.groups),
            prefixes=list(f.prefixes),
            pin_length=f.pin_length,
            pin_label=f.pin_label,
            description=f.description,
        ),
        face_values=s.FaceValuesOut(
            fixed=list(b.face_values.fixed),
            minimum=b.face_values.minimum,
            maximum=b.face_values.maximum,
            step=b.face_values.step,
        ),
    )


def bank_account(a: BankAccount) -> s.BankAccountOut:
    return s.BankAccountOut(
        id=a.id,
        bank_code=a.bank_code,
        bank_name=BANKS.get(a.bank_code, a.bank_code),
        account_number_masked=a.account_number_masked,
        holder_name=a.holder_name,
        status=a.status,  # type: ignore[arg-type]
        created_at=a.created_at,
        verified_at=a.verified_at,
    )


def decline(code: str, message: str, routes: list[s.RouteOut]) -> s.DeclineOut:
    """A decline as the registry describes it: its kind, and only the routes it lists."""
    entry = declines.describe(code)
    return s.DeclineOut(
        code=code,
        message=message,
        kind=entry.kind.value,
        retryable=entry.retryable,
        routes=[r for r in routes if r.route in entry.routes],
    )


def item(it: Item, held: HeldSale | None = None) -> s.ItemOut:
    routes = [
        s.RouteOut(
            route=r["route"],
            cash=r["cash"],
            currency=r["currency"],
            note=r["note"],
            deadline=r.get("deadline"),
        )
        for r in (it.decision or {}).get("routes", [])
    ]
    declined = (
        decline(it.decline_code, it.decline_message or "", routes) if it.decline_code else None
    )
    return s.ItemOut(
        id=it.id,
        brand_id=it.brand_id,
        status=it.status,
        masked_code=it.masked_code,
        face_value=it.face_value,
        fee=it.fee,
        payout=it.payout,
        currency=it.currency,
        funding_source=it.funding_source,
        payout_id=it.payout_id,
        decline=declined,
        warning=it.warning,
        hold_until=it.hold_until,
        review_reason=it.review_reason if it.status == "review" else None,
        payment_stop=s.PaymentStopHoldOut(
            requester=held.requester,
            requester_name=held.requester_name,
            requester_contact=held.requester_contact,
            since=held.since,
        )
        if held
        else None,
    )


def submission(v: SubmissionView) -> s.SubmissionOut:
    return s.SubmissionOut(
        id=v.submission.id,
        status=submission_status(v.items),
        bank_account_id=v.submission.bank_account_id,
        created_at=v.submission.created_at,
        items=[item(it, v.held.get(it.id)) for it in v.items],
        totals=s.Totals(**v.totals),
    )


def payout(p: Payout, item_ids: list[str] | None = None) -> s.PayoutOut:
    return s.PayoutOut(
        id=p.id,
        status=p.status,
        amount=p.amount,
        currency=p.currency,
        bank_account_id=p.bank_account_id,
        bank_tran_id=p.bank_tran_id,
        created_at=p.created_at,
        sent_at=p.sent_at,
        confirmed_at=p.confirmed_at,
        item_ids=item_ids or [],
    )

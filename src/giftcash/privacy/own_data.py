"""The customer's own data, as one JSON document they download from the account page
(개인정보보호법 §35, access by the data subject): profile, consents, bank accounts (the
number masked: the full number is not needed to recognise one's own account and a
download is a file that travels), sales with their items, payouts, notices.

Bounded: at most ``MAX_ROWS`` sales and payouts each; a customer with more is told so in
the document (``truncated``) and asks support for the rest.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from giftcash.service import errors
from giftcash.service.deps import Deps
from giftcash.service.ports.uow import UnitOfWork

MAX_ROWS = 10_000
PAGE = 500
FORMAT = "giftcash.own-data.v1"


def _when(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _sales(uow: UnitOfWork, customer_id: str) -> tuple[list[dict[str, Any]], bool]:
    out: list[dict[str, Any]] = []
    cursor: str | None = None
    while len(out) < MAX_ROWS:
        page = uow.submissions.for_customer(customer_id, cursor, PAGE)
        for s in page:
            items = uow.items.for_submission(s.id)
            out.append(
                {
                    "id": s.id,
                    "created_at": _when(s.created_at),
                    "status": s.status,
                    "bank_account_id": s.bank_account_id,
                    "items": [
                        {
                            "id": i.id,
                            "brand_id": i.brand_id,
                            "masked_code": i.masked_code,
                            "currency": i.currency,
                            "face_value": i.face_value,
                            "fee": i.fee,
                            "payout": i.payout,
                            "funding_source": i.funding_source,
                            "status": i.status,
                            "decline_code": i.decline_code,
                            "created_at": _when(i.created_at),
                            "payout_id": i.payout_id,
                        }
                        for i in items
                    ],
                }
            )
        if len(page) < PAGE:
            return out, False
        cursor = page[-1].id
    return out[:MAX_ROWS], True


def _payouts(uow: UnitOfWork, customer_id: str) -> tuple[list[dict[str, Any]], bool]:
    out: list[dict[str, Any]] = []
    cursor: str | None = None
    while len(out) < MAX_ROWS:
        page = uow.payouts.for_customer(customer_id, cursor, PAGE)
        out += [
            {
                "id": p.id,
                "currency": p.currency,
                "amount": p.amount,
                "status": p.status,
                "bank_account_id": p.bank_account_id,
                "created_at": _when(p.created_at),
                "sent_at": _when(p.sent_at),
                "confirmed_at": _when(p.confirmed_at),
            }
            for p in page
        ]
        if len(page) < PAGE:
            return out, False
        cursor = page[-1].id
    return out[:MAX_ROWS], True


def own_data(deps: Deps, customer_id: str) -> dict[str, Any]:
    """The document (JSON types only), read in one snapshot."""
    with deps.reader() as uow:
        c = uow.customers.get(customer_id)
        if c is None:
            raise errors.Unauthorized("unknown customer")
        sales, more_sales = _sales(uow, customer_id)
        payouts, more_payouts = _payouts(uow, customer_id)
        accounts = uow.bank_accounts.for_customer(customer_id)
        consents = uow.consents.latest(customer_id)
        chosen = uow.notices.choice(customer_id)
        notices = uow.retention.notices_of(customer_id, MAX_ROWS)
    return {
        "format": FORMAT,
        "generated_at": _when(deps.clock.now()),
        "profile": {
            "customer_id": c.id,
            "name": c.name,
            "phone": c.phone,
            "birth_date": _when(c.birth_date),
            "status": c.status,
            "signed_up_at": _when(c.created_at),
            "phone_verified_at": _when(c.phone_verified_at),
        },
        "consents": [
            {"document": g.document, "version": g.version, "agreed": g.agreed, "at": _when(g.at)}
            for g in sorted(consents.values(), key=lambda g: g.document)
        ],
        "bank_accounts": [
            {
                "id": a.id,
                "bank_code": a.bank_code,
                "account_number_masked": a.account_number_masked,
                "holder_name": a.holder_name,
                "status": a.status,
                "added_at": _when(a.created_at),
                "verified_at": _when(a.verified_at),
            }
            for a in accounts
        ],
        "sales": sales,
        "payouts": payouts,
        "notices": {
            "chosen": sorted(chosen) if chosen is not None else None,
            "sent": [
                {
                    "event": n.event,
                    "subject_id": n.subject_id,
                    "outcome": n.outcome,
                    "queued_at": _when(n.created_at),
                    "settled_at": _when(n.settled_at),
                }
                for n in notices
            ],
        },
        "truncated": more_sales or more_payouts,
    }

"""The customer's history: sales and payouts, and a receipt per payout."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from giftcash.domain.banks import BANKS
from giftcash.entrypoints.web import messages
from giftcash.entrypoints.web.pages import render, require, route_class, tr_of
from giftcash.entrypoints.web.security import CUSTOMER, deps_of
from giftcash.intake import submissions
from giftcash.payouts import bank_hours, receipts
from giftcash.payouts import reads as payouts
from giftcash.stops import holds

router = APIRouter(route_class=route_class(CUSTOMER), include_in_schema=False)

PAGE_SIZE = 20


def _cursor(request: Request, name: str) -> str | None:
    value = request.query_params.get(name, "")[:64]
    return value or None


@router.get("/history")
def history_page(request: Request) -> Response:
    customer_id = require(request)
    deps = deps_of(request)
    subs = submissions.list_submissions(
        deps, customer_id, cursor=_cursor(request, "sales"), limit=PAGE_SIZE + 1
    )
    pays = payouts.list_payouts(
        deps, customer_id, cursor=_cursor(request, "payouts"), limit=PAGE_SIZE + 1
    )
    context = {
        "submissions": subs[:PAGE_SIZE],
        "summaries": submissions.summaries(deps, customer_id, subs[:PAGE_SIZE]),
        "brands": deps.brands(),
        "more_submissions": subs[PAGE_SIZE - 1].id if len(subs) > PAGE_SIZE else None,
        "payouts": pays[:PAGE_SIZE],
        "bank_waits": {
            payout_id: messages.bank_wait_text(tr_of(request), opens, deps.clock.now())
            for payout_id, opens in bank_hours.payout_waits(deps, pays[:PAGE_SIZE]).items()
        },
        "more_payouts": pays[PAGE_SIZE - 1].id if len(pays) > PAGE_SIZE else None,
        # sales a payment stop holds (shown held, with whom to call, on the sale's page)
        "held_sales": {h.submission_id for h in holds.held_sales(deps, customer_id).values()},
    }
    return render(request, "customer/history.html", context)


@router.get("/payouts/{payout_id}")
def receipt_page(request: Request, payout_id: str) -> Response:
    deps = deps_of(request)
    r = receipts.receipt(deps, require(request), payout_id[:64])
    context = {
        "payout": r.payout,
        "account": r.account,
        "bank_name": BANKS.get(r.account.bank_code, r.account.bank_code) if r.account else "",
        "items": r.items,
        "brands": deps.brands(),
        "face_total": sum(it.face_value for it in r.items),
        "fee_total": sum(it.fee for it in r.items),
        "receipt_no": receipts.receipt_number(r.payout.id, r.payout.created_at),
    }
    return render(request, "customer/receipt.html", context)

"""Payouts (finance and admin): the list by state, one payout with its items, and the two
actions the service offers: ask the bank about it (``ops.inquire_payout``, changes
nothing) and make a waiting payout due now (``ops.retry_payout``, audited; it never makes
a second transfer: the worker asks the bank about the same ``bank_tran_id`` first).
Items (finance and admin): one item's history, with its state followed live."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request
from starlette.responses import Response

from giftcash.domain.banks import BANKS
from giftcash.domain.brands import brand_index
from giftcash.entrypoints.web import form_tokens
from giftcash.entrypoints.web.console_pages import (
    OPERATOR,
    allow,
    console_errors,
    render_console,
    router,
)
from giftcash.entrypoints.web.console_privacy import log_view
from giftcash.entrypoints.web.i18n import N_
from giftcash.entrypoints.web.pages import redirect
from giftcash.entrypoints.web.security import deps_of
from giftcash.ops import support
from giftcash.payouts import operations as ops
from giftcash.payouts import reads as payout_reads
from giftcash.privacy.access_log import View
from giftcash.redemption import evidence
from giftcash.service.deps import Deps

payouts = router()

PAGE_SIZE = 50
POLL = "3s"
ITEM_LIVE = frozenset({"received", "redeeming", "redeemed", "stocked", "paying"})

BANK_OUTCOMES = {
    "done": N_("The bank made the transfer."),
    "pending": N_("The bank is still processing it."),
    "returned": N_("The bank returned it."),
    "rejected": N_("The bank refused it."),
    "not_found": N_("The bank has no transfer with this id."),
    "unreachable": N_("The bank did not answer. Ask again later."),
}


@payouts.get("/payouts")
@console_errors
def payouts_page(request: Request, status: str = "", after: str = "") -> Response:
    op = allow(request, "payouts")
    status = status[:16] if status in payout_reads.PAYOUT_STATUSES else ""
    rows = payout_reads.payout_rows(
        deps_of(request), status=status or None, cursor=after[:64] or None, limit=PAGE_SIZE + 1
    )
    view = View("payouts", ("name", "bank_account_masked"))
    log_view(request, op, view, [p.customer_id for p in rows[:PAGE_SIZE]])
    context = {
        "banks": BANKS,
        "payouts": rows[:PAGE_SIZE],
        "more": rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None,
        "status": status,
        "statuses": payout_reads.PAYOUT_STATUSES,
    }
    return render_console(request, "console/payouts.html", context)


def _payout_page(request: Request, payout_id: str, inquiry: ops.PayoutInquiry | None = None):
    deps = deps_of(request)
    detail = payout_reads.payout_detail(deps, payout_id[:64])
    context = {
        "p": detail.payout,
        "item_ids": detail.item_ids,
        "transfer_attempts": payout_reads.transfer_attempts(deps, detail.payout.id),
        "retryable": detail.payout.status in ops.RETRYABLE,
        "inquiry": inquiry,
        "BANK_OUTCOMES": BANK_OUTCOMES,
        "retried": request.query_params.get("retried") == "1",
    }
    return render_console(request, "console/payout.html", context)


@payouts.get("/payouts/{payout_id}")
@console_errors
def payout_page(request: Request, payout_id: str) -> Response:
    allow(request, "payouts")
    return _payout_page(request, payout_id)


@payouts.post("/payouts/{payout_id}/inquire")
@console_errors
def inquire(request: Request, payout_id: str) -> Response:
    allow(request, "payouts")
    inquiry = ops.inquire_payout(deps_of(request), payout_id[:64])
    return _payout_page(request, payout_id, inquiry)


@payouts.post("/payouts/{payout_id}/retry")
@console_errors
def retry(request: Request, payout_id: str) -> Response:
    op = allow(request, "payouts")

    def work(deps: Deps) -> dict[str, str]:
        ops.retry_payout(deps, payout_id[:64], actor=op.actor)
        return {"location": f"/admin/payouts/{payout_id[:64]}?" + urlencode({"retried": "1"})}

    answer = form_tokens.run(request, OPERATOR, f"operator:{op.id}", work)
    return redirect(request, answer["location"])


def _item_context(request: Request, item_id: str) -> dict:
    deps = deps_of(request)
    view = support.show_item(deps, item_id[:64])
    return {
        "answers": evidence.for_item(deps, view.item["id"]),
        "v": view,
        "it": view.item,
        "brands": brand_index(deps.brand_catalogue),
        "live": view.item["status"] in ITEM_LIVE,
        "poll": POLL,
    }


@payouts.get("/items/{item_id}")
@console_errors
def item_page(request: Request, item_id: str) -> Response:
    allow(request, "items")
    return render_console(request, "console/item.html", _item_context(request, item_id))


@payouts.get("/items/{item_id}/state")
@console_errors
def item_state(request: Request, item_id: str) -> Response:
    allow(request, "items")
    return render_console(request, "console/_item_state.html", _item_context(request, item_id))

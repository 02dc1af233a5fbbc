"""Payment stops (지급정지) in the v1 API. Partner banks and investigators file stops and
read the ones they filed with an API key of the ``stop_requester`` role (``giftcash admin
api-key``); finance (and admin) read every stop, release and settle them. Every POST is
idempotent by ``Idempotency-Key``. Thin: parse, check the role, call one service
function, render. Codes and account numbers come in and never go out: answers carry the
masked form only."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from giftcash.domain import stops as rules
from giftcash.entrypoints.api import idempotency
from giftcash.entrypoints.api.admin import Cursor, Limit, Strict, require
from giftcash.entrypoints.api.deps import DepsDep, IdemKey
from giftcash.identity.operators import Operator
from giftcash.service.deps import Deps
from giftcash.stops import filing, tracing

router = APIRouter(prefix="/v1/payment-stops", tags=["payment-stops"])

Requester = Annotated[Operator, require(filing.REQUESTER_ROLE, "finance")]
Finance = Annotated[Operator, require("finance")]
StopId = Annotated[str, Path(min_length=1, max_length=64)]


class StopIn(Strict):
    scope: Literal["account", "customer", "code"]
    requester: Literal["bank", "police", "internal"]
    requester_name: str = Field(min_length=1, max_length=rules.MAX_REQUESTER_NAME)
    requester_contact: str = Field(min_length=1, max_length=rules.MAX_CONTACT)
    reference: str = Field(min_length=1, max_length=rules.MAX_REFERENCE)
    reason: str = Field(min_length=1, max_length=rules.MAX_REASON)
    customer_id: str | None = Field(default=None, min_length=1, max_length=64)
    code: str | None = Field(default=None, min_length=1, max_length=128)
    bank_code: str | None = Field(default=None, min_length=1, max_length=8)
    account_number: str | None = Field(default=None, min_length=1, max_length=32)


class CloseIn(Strict):
    reason: str = Field(min_length=1, max_length=rules.MAX_REASON)


class StopItemOut(BaseModel):
    item_id: str
    payout_id: str | None
    finding: str  # held | in_flight | in_doubt | paid_before | closed
    item_status: str
    payout_status: str | None
    at: datetime


class StopOut(BaseModel):
    id: str
    scope: str
    subject: str  # masked: an account's or a code's last four, or a customer id
    bank_code: str | None
    requester: str
    requester_name: str
    requester_contact: str
    reference: str
    reason: str
    state: str
    requested_by: str
    created_at: datetime
    closed_at: datetime | None
    closed_by: str | None
    close_reason: str | None


class StopDetailOut(StopOut):
    found: dict[str, int]
    paid_before_payouts: list[str]
    items: list[StopItemOut]


class StopList(BaseModel):
    data: list[StopOut]
    next_cursor: str | None


def _stop(s: filing.PaymentStop) -> StopOut:
    return StopOut(
        id=s.id,
        scope=s.scope,
        subject=s.subject_masked,
        bank_code=s.bank_code,
        requester=s.requester,
        requester_name=s.requester_name,
        requester_contact=s.requester_contact,
        reference=s.reference,
        reason=s.reason,
        state=s.state,
        requested_by=s.requested_by,
        created_at=s.created_at,
        closed_at=s.closed_at,
        closed_by=s.closed_by,
        close_reason=s.close_reason,
    )


def _detail(d: filing.StopDetail) -> StopDetailOut:
    return StopDetailOut(
        **_stop(d.stop).model_dump(),
        found=d.found,
        paid_before_payouts=d.paid_before,
        items=[
            StopItemOut(
                item_id=x.item_id,
                payout_id=x.payout_id,
                finding=x.finding,
                item_status=x.item_status,
                payout_status=x.payout_status,
                at=x.at,
            )
            for x in d.links
        ],
    )


@router.post("", response_model=StopDetailOut, status_code=201)
async def file_stop(
    body: StopIn, request: Request, op: Requester, deps: DepsDep, idem: IdemKey = None
) -> JSONResponse:
    """File a stop. Its answer is the acknowledgement: from then on nothing it names is
    redeemed or paid until it is released or settled."""
    h = idempotency.request_hash(request, await request.body())

    def work(deps: Deps) -> tuple[int, dict]:
        detail = filing.file_stop(deps, op, filing.StopRequest(**body.model_dump()))
        return 201, _detail(detail).model_dump(mode="json")

    return await run_in_threadpool(idempotency.run, deps, f"operator:{op.id}", idem, h, work)


@router.get("", response_model=StopList)
def list_stops(
    op: Requester,
    deps: DepsDep,
    state: Annotated[Literal["active", "released", "settled"] | None, Query()] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> StopList:
    rows = filing.list_stops(deps, op, state=state, cursor=cursor, limit=limit + 1)
    page, more = rows[:limit], len(rows) > limit
    return StopList(data=[_stop(s) for s in page], next_cursor=page[-1].id if more else None)


@router.get("/{stop_id}", response_model=StopDetailOut)
def get_stop(stop_id: StopId, op: Requester, deps: DepsDep) -> StopDetailOut:
    return _detail(filing.get_stop(deps, op, stop_id))


@router.get(
    "/{stop_id}/export",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, "application/json": {}}}},
)
def export_stop(
    stop_id: StopId,
    op: Requester,
    deps: DepsDep,
    format: Annotated[Literal["csv", "json"], Query()] = "json",
) -> Response:
    """The tracing export: voucher (masked) → item → sale → customer → payout → account
    (masked), with amounts and times. Audited."""
    report = tracing.export(deps, op, stop_id, fmt=format)
    return Response(
        report.content,
        media_type=report.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{report.filename}"',
            "Cache-Control": "no-store",
        },
    )


async def _close(
    action: str,
    stop_id: str,
    body: CloseIn,
    request: Request,
    op: Operator,
    deps: Deps,
    idem: str | None,
) -> JSONResponse:
    h = idempotency.request_hash(request, await request.body())
    close = filing.release_stop if action == "release" else filing.settle_stop

    def work(deps: Deps) -> tuple[int, dict]:
        return 200, _detail(close(deps, op, stop_id, body.reason)).model_dump(mode="json")

    return await run_in_threadpool(idempotency.run, deps, f"operator:{op.id}", idem, h, work)


@router.post("/{stop_id}/release", response_model=StopDetailOut)
async def release_stop(
    stop_id: StopId,
    body: CloseIn,
    request: Request,
    op: Finance,
    deps: DepsDep,
    idem: IdemKey = None,
) -> JSONResponse:
    """Lift the stop: what it held is paid once, by the normal pipeline. Audited."""
    return await _close("release", stop_id, body, request, op, deps, idem)


@router.post("/{stop_id}/settle", response_model=StopDetailOut)
async def settle_stop(
    stop_id: StopId,
    body: CloseIn,
    request: Request,
    op: Finance,
    deps: DepsDep,
    idem: IdemKey = None,
) -> JSONResponse:
    """End what the stop holds without paying the customer; the ledger records where the
    money went. Answers 409 ``stop_must_wait`` while a call it covers is still open."""
    return await _close("settle", stop_id, body, request, op, deps, idem)

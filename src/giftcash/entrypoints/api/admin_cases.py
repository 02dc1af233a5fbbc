"""Suspicious-activity cases in the admin API: reviewers may read them; finance (and
admin) move them on and export the report for the bank's compliance team. Thin: parse,
check the role, call one service function, render."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from giftcash.entrypoints.api import idempotency
from giftcash.entrypoints.api.admin import AnyOperator, Cursor, Finance, Limit, Strict
from giftcash.entrypoints.api.deps import DepsDep, IdemKey
from giftcash.privacy import access_log
from giftcash.privacy.access_log import View
from giftcash.review import cases
from giftcash.service.deps import Deps

router = APIRouter(prefix="/v1/admin/cases", tags=["admin", "cases"])

StatusFilter = Annotated[str | None, Query(max_length=16)]


class CaseOut(BaseModel):
    id: str
    kind: str
    status: str
    subject: str
    customer_ids: list[str]
    currency: str
    total_amount: int
    evidence_count: int
    summary: str
    period_start: datetime | None
    period_end: datetime | None
    opened_at: datetime
    updated_at: datetime
    notes: list[dict[str, Any]]


class CaseList(BaseModel):
    data: list[CaseOut]
    next_cursor: str | None


class CaseCustomerOut(BaseModel):
    id: str
    name: str


class EvidenceOut(BaseModel):
    key: str
    at: datetime
    amount: int
    item_id: str | None
    customer_id: str | None
    masked: str | None  # a masked code or account number: never a code
    note: str
    added_at: datetime


class CaseDetailOut(CaseOut):
    customers: list[CaseCustomerOut]
    evidence: list[EvidenceOut]


class StatusIn(Strict):
    status: Literal["under_review", "reported", "dismissed"]
    note: str = Field(min_length=1, max_length=2000)


def _case(c: cases.Case) -> CaseOut:
    return CaseOut(**{k: getattr(c, k) for k in CaseOut.model_fields})


@router.get("", response_model=CaseList)
def list_cases(
    op: AnyOperator,
    deps: DepsDep,
    status: StatusFilter = None,
    kind: Annotated[str | None, Query(max_length=32)] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> CaseList:
    rows = cases.list_cases(deps, status=status, kind=kind, cursor=cursor, limit=limit + 1)
    page, more = rows[:limit], len(rows) > limit
    return CaseList(data=[_case(c) for c in page], next_cursor=page[-1].id if more else None)


# Declared before /{case_id}, which would otherwise take "export" for an id.
@router.get(
    "/export",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, "application/json": {}}}},
)
def export_cases(
    op: Finance,
    deps: DepsDep,
    format: Annotated[Literal["csv", "json"], Query()] = "json",  # the API's own default
    status: StatusFilter = None,
) -> Response:
    report = cases.export(deps, op, fmt=format, status=status)
    subject = f"api:cases:{status or 'all'}:{format}"
    access_log.record(deps, op, View("case_export", ("masked_name",), subject), [])
    return Response(
        report.content,
        media_type=report.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{report.filename}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/{case_id}", response_model=CaseDetailOut)
def get_case(case_id: str, op: AnyOperator, deps: DepsDep) -> CaseDetailOut:
    d = cases.get_case(deps, case_id)
    view = View("case", ("name", "masked_evidence"), f"api:case:{d.case.id}")
    access_log.record(deps, op, view, [c["id"] for c in d.customers])
    return CaseDetailOut(
        **_case(d.case).model_dump(),
        customers=[CaseCustomerOut(**c) for c in d.customers],
        evidence=[EvidenceOut(**{k: e[k] for k in EvidenceOut.model_fields}) for e in d.evidence],
    )


@router.post("/{case_id}/status", response_model=CaseOut)
async def change_status(
    case_id: str,
    body: StatusIn,
    request: Request,
    op: Finance,
    deps: DepsDep,
    idem: IdemKey = None,
) -> JSONResponse:
    h = idempotency.request_hash(request, await request.body())

    def work(deps: Deps) -> tuple[int, dict]:
        c = cases.change_status(deps, op, case_id, body.status, body.note)
        return 200, _case(c).model_dump(mode="json")

    return await run_in_threadpool(idempotency.run, deps, f"operator:{op.id}", idem, h, work)

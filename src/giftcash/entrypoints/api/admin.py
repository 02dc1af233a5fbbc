"""The v1 admin endpoints (operators: reviewer, finance, admin). Thin: parse, check the
role, call one service function, render. Every endpoint but the login declares the roles
it allows with ``require(...)``; admin may do everything."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from giftcash.audit import pages as audit_pages
from giftcash.catalogue import overrides
from giftcash.domain.resale import ResalePricing, pricing_wire
from giftcash.entrypoints.api import idempotency, views
from giftcash.entrypoints.api import schemas as s
from giftcash.entrypoints.api.deps import DepsDep, IdemKey, bearer_token
from giftcash.entrypoints.api.problems import documented
from giftcash.identity import operators
from giftcash.identity.operators import Operator
from giftcash.payouts import reads as payout_reads
from giftcash.privacy import access_log
from giftcash.privacy.access_log import View
from giftcash.resale import claim_review
from giftcash.review import queue as review
from giftcash.service.deps import Deps
from giftcash.service.ports.records import Claim

router = APIRouter(prefix="/v1/admin", tags=["admin"])

# -- authentication and roles --------------------------------------------------------------


def current_operator(
    deps: DepsDep, authorization: Annotated[str | None, Header()] = None
) -> Operator:
    return operators.authenticate(deps, bearer_token(authorization))


def require(*roles: str) -> Any:
    """A dependency: the operator, if their role is one of ``roles`` (or admin); else
    ``403 forbidden_role``, audited."""

    def check(
        request: Request, deps: DepsDep, op: Annotated[Operator, Depends(current_operator)]
    ) -> Operator:
        operators.check_role(deps, op, roles, f"{request.method} {request.url.path}")
        return op

    return Depends(check)


AnyOperator = Annotated[Operator, require("reviewer", "finance")]
Reviewer = Annotated[Operator, require("reviewer")]
Finance = Annotated[Operator, require("finance")]
Admin = Annotated[Operator, require()]
Cursor = Annotated[str | None, Query(max_length=64)]
Limit = Annotated[int, Query(ge=1, le=200)]


# -- bodies --------------------------------------------------------------------------------


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OperatorTokenIn(Strict):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)
    totp: str = Field(min_length=1, max_length=12)


class OperatorTokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105
    expires_in: int
    role: str


class OperatorOut(BaseModel):
    id: str
    username: str
    role: str


class ReasonIn(Strict):
    reason: str = Field(min_length=1, max_length=2000)


class ReviewItemOut(BaseModel):
    id: str
    submission_id: str
    brand_id: str
    issuer: str
    masked_code: str
    face_value: int
    payout: int
    currency: str
    funding_source: str
    purchase_channel: str | None
    created_at: datetime
    waiting_since: datetime


class ReviewCustomerOut(BaseModel):
    id: str
    name: str
    age_band: str
    account_age_days: int
    prior_sales: int
    prior_payout: int


class ReviewAccountOut(BaseModel):
    bank_code: str
    account_number_masked: str
    holder_name: str
    status: str


class ReviewEntryOut(BaseModel):
    item: ReviewItemOut
    customer: ReviewCustomerOut
    account: ReviewAccountOut
    reason: str | None
    flags: list[str]


class ReviewList(BaseModel):
    data: list[ReviewEntryOut]
    next_cursor: str | None


StrictInt = Annotated[int, Field(strict=True)]


class ResaleBand(Strict):
    min_days_left: StrictInt
    discount_bps: StrictInt


class ResalePricingIO(Strict):
    """A resell brand's prices to buyers: ``bands`` longest first, each from its
    ``min_days_left`` days before expiry at ``discount_bps`` off face value (growing as
    expiry nears, under 10000); under the top-level ``min_days_left`` not sold.
    Refused as ``invalid_resale_pricing`` (422) otherwise."""

    min_days_left: StrictInt
    bands: list[ResaleBand]


class BrandPatch(Strict):
    buyback_rate_bps: StrictInt | None = None
    enabled: bool | None = None
    exposure_cap: StrictInt | None = None
    resell_hold_s: StrictInt | None = None  # resell brands: the seller's payout waits
    resale_pricing: ResalePricingIO | None = None  # resell brands: what buyers pay
    # redeemed at the issuer or resold to buyers; 409 brand_has_stock to redeem a brand
    # with vouchers in stock
    disposition: Literal["redeem", "resell"] | None = None


class IssuerPatch(Strict):
    enabled: bool | None = None
    exposure_cap: StrictInt | None = None


class AdminBrandOut(BaseModel):
    id: str
    name: str
    issuer: str
    currency: str
    buyback_rate_bps: int
    default_buyback_rate_bps: int
    enabled: bool
    default_enabled: bool
    issuer_enabled: bool
    exposure_cap: int | None
    disposition: str  # redeem | resell
    resell_hold_s: int
    default_resell_hold_s: int
    resale_pricing: ResalePricingIO | None = None
    default_resale_pricing: ResalePricingIO | None = None
    updated_at: datetime | None
    updated_by: str | None


class AdminBrandList(BaseModel):
    data: list[AdminBrandOut]


class IssuerOut(BaseModel):
    issuer: str
    enabled: bool
    exposure_cap: int | None
    brands: list[str]
    updated_at: datetime | None
    updated_by: str | None


class IssuerList(BaseModel):
    data: list[IssuerOut]


class RuleOut(BaseModel):
    id: str
    statutory: bool
    enabled: bool
    description: str
    params: dict[str, Any]


class RuleList(BaseModel):
    data: list[RuleOut]


class RulePatch(Strict):
    enabled: bool | None = None
    params: dict[str, Any] | None = None


class AdminPayoutOut(s.PayoutOut):
    customer_id: str
    attempts: int
    failure_code: str | None


class AdminPayoutList(BaseModel):
    data: list[AdminPayoutOut]
    next_cursor: str | None


class ClaimResolveIn(Strict):
    decision: Literal["refund", "refuse"] = Field(
        description="refund: the buyer is refunded, the seller owes the unit's cost, is held"
        " and a case opened; refuse: the unit is upheld, nothing moves"
    )
    note: str = Field(min_length=1, max_length=500, description="why; kept and audited")


class AdminClaimOut(BaseModel):
    id: str
    order_id: str
    unit_id: str
    buyer_id: str
    seller_id: str
    state: str = Field(description="review (an operator decides), refunded or refused")
    currency: str
    amount: int = Field(description="the unit's price: what a refund gives back, won")
    refund: str | None = Field(description="deposit_return, payout or owed; null: none")
    payout_id: str | None
    reason: str | None = Field(description="the buyer's words")
    issuer_status: str = Field(description="what the issuer said: used, active, expired, ...")
    used_at: datetime | None
    used_where: str | None
    created_at: datetime
    resolved_by: str | None = Field(description="the operator who settled it from review")
    resolved_at: datetime | None
    resolution_note: str | None


class AdminClaimList(BaseModel):
    data: list[AdminClaimOut]
    next_cursor: str | None


class AuditRecordOut(BaseModel):
    seq: int
    id: str
    at: datetime
    actor: str
    action: str
    subject: str | None
    detail: dict[str, Any] | None
    prev_hash: str
    hash: str
    # A sealed record's chain covers this digest of subject and detail (audit/log.py);
    # a redacted one has it and no detail. None for records from before sealing.
    body_digest: str | None = None
    redacted_at: datetime | None = None


class AuditHeadOut(BaseModel):
    seq: int
    hash: str


class AuditList(BaseModel):
    data: list[AuditRecordOut]
    next_cursor: str | None
    verified: bool
    head: AuditHeadOut


# -- renderers -----------------------------------------------------------------------------


def _claim(c: Claim) -> AdminClaimOut:
    return AdminClaimOut(
        id=c.id,
        order_id=c.order_id,
        unit_id=c.unit_id,
        buyer_id=c.customer_id,
        seller_id=c.seller_id,
        state=c.status,
        currency=c.currency,
        amount=c.amount,
        refund=c.refund,
        payout_id=c.payout_id,
        reason=c.reason,
        issuer_status=c.issuer_status,
        used_at=c.used_at,
        used_where=c.used_where,
        created_at=c.created_at,
        resolved_by=c.resolved_by,
        resolved_at=c.resolved_at,
        resolution_note=c.resolution_note,
    )


def _brand(x: overrides.BrandSetting) -> AdminBrandOut:
    return AdminBrandOut(
        id=x.brand.id,
        name=x.brand.name,
        issuer=x.brand.issuer,
        currency=x.brand.currency,
        buyback_rate_bps=x.brand.buyback_rate_bps,
        default_buyback_rate_bps=x.default.buyback_rate_bps,
        enabled=x.brand.enabled,
        default_enabled=x.default.enabled,
        issuer_enabled=x.issuer_enabled,
        exposure_cap=x.exposure_cap,
        disposition=x.brand.disposition.value,
        resell_hold_s=x.brand.resell_hold_s,
        default_resell_hold_s=x.default.resell_hold_s,
        resale_pricing=_pricing(x.brand.resale_pricing),
        default_resale_pricing=_pricing(x.default.resale_pricing),
        updated_at=x.updated_at,
        updated_by=x.updated_by,
    )


def _pricing(p: ResalePricing | None) -> ResalePricingIO | None:
    return None if p is None else ResalePricingIO.model_validate(pricing_wire(p))


def _issuer(x: overrides.IssuerSetting) -> IssuerOut:
    return IssuerOut(
        issuer=x.issuer,
        enabled=x.enabled,
        exposure_cap=x.exposure_cap,
        brands=x.brands,
        updated_at=x.updated_at,
        updated_by=x.updated_by,
    )


def _rule(x: overrides.RuleSetting) -> RuleOut:
    return RuleOut(
        id=x.id,
        statutory=x.statutory,
        enabled=x.enabled,
        description=x.description,
        params=x.params,
    )


def _payout(
    d: payout_reads.PayoutDetail | Any, item_ids: list[str] | None = None
) -> AdminPayoutOut:
    p = d.payout if isinstance(d, payout_reads.PayoutDetail) else d
    base = views.payout(p, d.item_ids if isinstance(d, payout_reads.PayoutDetail) else item_ids)
    return AdminPayoutOut(
        **base.model_dump(),
        customer_id=p.customer_id,
        attempts=p.attempts,
        failure_code=p.failure_code,
    )


# -- endpoints -----------------------------------------------------------------------------


@router.post("/tokens", response_model=OperatorTokenOut)
def tokens(body: OperatorTokenIn, deps: DepsDep) -> OperatorTokenOut:
    t = operators.issue_token(deps, username=body.username, password=body.password, totp=body.totp)
    return OperatorTokenOut(access_token=t.access_token, expires_in=t.expires_in, role=t.role)


@router.get("/me", response_model=OperatorOut)
def me(op: AnyOperator) -> OperatorOut:
    return OperatorOut(id=op.id, username=op.username, role=op.role)


@router.get("/review", response_model=ReviewList)
def review_queue(
    op: Reviewer, deps: DepsDep, cursor: Cursor = None, limit: Limit = 50
) -> ReviewList:
    rows = review.review_queue(deps, cursor=cursor, limit=limit + 1)
    page, more = rows[:limit], len(rows) > limit
    view = View("review", ("name", "age_band", "bank_account_masked", "holder_name"), "api")
    access_log.record(deps, op, view, [e.customer["id"] for e in page])
    return ReviewList(
        data=[
            ReviewEntryOut(
                item=ReviewItemOut(**e.item),
                customer=ReviewCustomerOut(**e.customer),
                account=ReviewAccountOut(**e.account),
                reason=e.reason,
                flags=e.flags,
            )
            for e in page
        ],
        next_cursor=page[-1].item["id"] if more else None,
    )


async def _decide(
    decide: Callable[..., Any],
    item_id: str,
    body: ReasonIn,
    request: Request,
    op: Operator,
    deps: Deps,
    idem: str | None,
) -> JSONResponse:
    h = idempotency.request_hash(request, await request.body())

    def work(deps: Deps) -> tuple[int, dict]:
        it = decide(deps, op, item_id, body.reason)
        return 200, views.item(it).model_dump(mode="json")

    return await run_in_threadpool(idempotency.run, deps, f"operator:{op.id}", idem, h, work)


@router.post("/items/{item_id}/approve", response_model=s.ItemOut)
async def approve(
    item_id: str,
    body: ReasonIn,
    request: Request,
    op: Reviewer,
    deps: DepsDep,
    idem: IdemKey = None,
) -> JSONResponse:
    return await _decide(review.approve, item_id, body, request, op, deps, idem)


@router.post("/items/{item_id}/decline", response_model=s.ItemOut)
async def decline(
    item_id: str,
    body: ReasonIn,
    request: Request,
    op: Reviewer,
    deps: DepsDep,
    idem: IdemKey = None,
) -> JSONResponse:
    return await _decide(review.decline, item_id, body, request, op, deps, idem)


@router.get("/brands", response_model=AdminBrandList)
def brands(op: Admin, deps: DepsDep) -> AdminBrandList:
    return AdminBrandList(data=[_brand(x) for x in overrides.list_brands(deps)])


@router.patch("/brands/{brand_id}", response_model=AdminBrandOut)
def patch_brand(brand_id: str, body: BrandPatch, op: Admin, deps: DepsDep) -> AdminBrandOut:
    changes = body.model_dump(include=body.model_fields_set)
    return _brand(overrides.patch_brand(deps, op, brand_id, changes))


@router.get("/issuers", response_model=IssuerList)
def issuers(op: Admin, deps: DepsDep) -> IssuerList:
    return IssuerList(data=[_issuer(x) for x in overrides.list_issuers(deps)])


@router.patch("/issuers/{issuer}", response_model=IssuerOut)
def patch_issuer(issuer: str, body: IssuerPatch, op: Admin, deps: DepsDep) -> IssuerOut:
    changes = body.model_dump(include=body.model_fields_set)
    return _issuer(overrides.patch_issuer(deps, op, issuer, changes))


@router.get("/rules", response_model=RuleList)
def rules(op: Admin, deps: DepsDep) -> RuleList:
    return RuleList(data=[_rule(x) for x in overrides.list_rules(deps)])


@router.patch("/rules/{rule_id}", response_model=RuleOut)
def patch_rule(rule_id: str, body: RulePatch, op: Admin, deps: DepsDep) -> RuleOut:
    return _rule(overrides.patch_rule(deps, op, rule_id, enabled=body.enabled, params=body.params))


@router.get("/payouts", response_model=AdminPayoutList)
def payouts(
    op: Finance,
    deps: DepsDep,
    status: Annotated[str | None, Query(max_length=16)] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> AdminPayoutList:
    rows = payout_reads.all_payouts(deps, status=status, cursor=cursor, limit=limit + 1)
    page, more = rows[:limit], len(rows) > limit
    return AdminPayoutList(
        data=[_payout(p) for p in page], next_cursor=page[-1].id if more else None
    )


@router.get("/payouts/{payout_id}", response_model=AdminPayoutOut)
def payout(payout_id: str, op: Finance, deps: DepsDep) -> AdminPayoutOut:
    return _payout(payout_reads.payout_detail(deps, payout_id))


@router.get("/claims", response_model=AdminClaimList)
def claims(
    op: Finance,
    deps: DepsDep,
    status: Annotated[str | None, Query(max_length=16)] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> AdminClaimList:
    """Buyers' claims (of one state, e.g. ``review``: waiting for an operator), by id."""
    rows = claim_review.list_claims(deps, status=status, cursor=cursor, limit=limit + 1)
    page, more = rows[:limit], len(rows) > limit
    return AdminClaimList(data=[_claim(c) for c in page], next_cursor=page[-1].id if more else None)


@router.post(
    "/claims/{claim_id}/resolve",
    response_model=AdminClaimOut,
    responses=documented(
        s404="`claim_not_found`: no such claim",
        s409="`claim_not_in_review`: the issuer's answer settled it when it was filed",
    ),
)
def resolve_claim(claim_id: str, body: ClaimResolveIn, op: Finance, deps: DepsDep) -> AdminClaimOut:
    """Settle a claim in review: refund or refuse, with a note; audited. Settled once: a
    repeat answers the first outcome and changes nothing."""
    done = claim_review.resolve_claim(deps, op, claim_id, body.decision, body.note)
    return _claim(done.claim)


@router.get("/audit", response_model=AuditList)
def audit_log(op: Finance, deps: DepsDep, cursor: Cursor = None, limit: Limit = 100) -> AuditList:
    page = audit_pages.audit_page(deps, cursor=cursor, limit=limit)
    return AuditList(
        data=[
            AuditRecordOut(
                seq=r.seq,
                id=r.id,
                at=r.at,
                actor=r.actor,
                action=r.action,
                subject=r.subject,
                detail=r.detail,
                prev_hash=r.prev_hash,
                hash=r.hash,
                body_digest=r.body_digest,
                redacted_at=r.redacted_at,
            )
            for r in page.records
        ],
        next_cursor=page.next_cursor,
        verified=page.verified,
        head=AuditHeadOut(seq=page.head[0], hash=page.head[1]),
    )

"""The operators' use cases: the review queue, brands and issuers, rules, payouts and the
audit log. Every change is audited in the transaction that makes it; a refused change is
rolled back and its refusal audited on its own (``_audited``), so the log shows attempts
as well as changes. Role checks happen at the entry points (``operators.check_role``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from giftcash.audit import log as audit
from giftcash.catalogue import live as catalogue
from giftcash.domain import declines as dc
from giftcash.domain.brands import Brand, brand_index
from giftcash.domain.errors import BrandNotFound, DomainError
from giftcash.domain.records import Item, Payout
from giftcash.domain.states import ItemStatus
from giftcash.identity.operators import Operator
from giftcash.service import errors
from giftcash.service.deps import Deps
from giftcash.service.ports.records import AuditRecord
from giftcash.service.ports.uow import UnitOfWork

T = TypeVar("T")

REVIEW_DECLINE_CODE = dc.DECLINED_BY_REVIEW.code
REVIEW_DECLINE_MESSAGE = dc.DECLINED_BY_REVIEW.text
MAX_REASON = 500


class ItemNotFound(errors.NotFound):
    code = "item_not_found"


class IssuerNotFound(errors.NotFound):
    code = "issuer_not_found"


def _audited(
    deps: Deps,
    op: Operator,
    action: str,
    subject: str,
    detail: dict[str, Any],
    change: Callable[[Any], tuple[T, dict[str, Any]]],
) -> T:
    """Run ``change(uow)`` and audit it with its outcome. ``change`` answers its result and
    what to add to the record. On a refusal the change is rolled back, the refusal is
    recorded and committed, and the error goes on to the caller."""
    now = deps.clock.now()
    with deps.uow() as uow:
        try:
            result, more = change(uow)
        except DomainError as e:
            uow.rollback()
            refused = {**detail, "outcome": "refused", "code": e.code, "message": e.message}
            audit.record(uow, op.actor, action, subject, refused, at=now, id=deps.new_id())
            uow.commit()
            raise
        done = {**detail, **more, "outcome": "done"}
        audit.record(uow, op.actor, action, subject, done, at=now, id=deps.new_id())
        uow.commit()
    return result


def _reason(reason: str) -> str:
    reason = " ".join(reason.split())
    if not (1 <= len(reason) <= MAX_REASON):
        raise errors.InvalidInput(
            f"a reason of 1 to {MAX_REASON} characters is needed", field="reason"
        )
    return reason


# -- the review queue ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReviewEntry:
    item: dict[str, Any]  # masked code only
    customer: dict[str, Any]
    account: dict[str, Any]
    reason: str | None
    flags: list[str]


def age_band(birth_date: date, today: date) -> str:
    """A decade band ("20s", "60s", "80+"): enough for a reviewer, less than a birthday."""
    age = (
        today.year
        - birth_date.year
        - ((today.month, today.day) < (birth_date.month, birth_date.day))
    )
    return "80+" if age >= 80 else f"{age // 10 * 10}s"


def review_queue(deps: Deps, *, cursor: str | None, limit: int) -> list[ReviewEntry]:
    now = deps.clock.now()
    with deps.reader() as uow:
        rows = uow.review.waiting(cursor, limit)
        sales = uow.review.prior_sales([r["customer_id"] for r in rows])
    out = []
    for r in rows:
        paid_items, paid_total = sales.get(r["customer_id"], (0, 0))
        out.append(
            ReviewEntry(
                item={
                    "id": r["id"],
                    "submission_id": r["submission_id"],
                    "brand_id": r["brand_id"],
                    "issuer": r["issuer"],
                    "masked_code": r["masked_code"],
                    "face_value": r["face_value"],
                    "payout": r["payout"],
                    "currency": r["currency"],
                    "funding_source": r["funding_source"],
                    "purchase_channel": r["purchase_channel"],
                    "created_at": r["created_at"],
                    "waiting_since": r["updated_at"],
                },
                customer={
                    "id": r["customer_id"],
                    "name": r["customer_name"],
                    "age_band": age_band(r["birth_date"], now.date()),
                    "account_age_days": max((now - r["customer_since"]).days, 0),
                    "prior_sales": paid_items,
                    "prior_payout": paid_total,
                },
                account={
                    "bank_code": r["bank_code"],
                    "account_number_masked": r["account_number_masked"],
                    "holder_name": r["holder_name"],
                    "status": r["account_status"],
                },
                reason=r["review_reason"],
                flags=list(r["flags"] or []),
            )
        )
    return out


def send_to_review(
    deps: Deps, item_ids: list[str], *, reason: str, flags: list[str] | None = None
) -> None:
    """received → review with the reason and flags the reviewer sees (the pipeline's
    policy step calls this; so do tests until it does)."""
    now = deps.clock.now()
    with deps.uow() as uow:
        uow.review.send_to_review(item_ids, reason, flags or [], now)
        uow.commit()


def _decide(deps: Deps, op: Operator, item_id: str, reason: str, approve: bool) -> Item:
    action = "item.approve" if approve else "item.decline"

    def change(uow: UnitOfWork) -> tuple[Item, dict[str, Any]]:
        note = _reason(reason)
        item = uow.items.get(item_id)
        if item is None:
            raise ItemNotFound("no such item")
        now = deps.clock.now()
        target = ItemStatus.RECEIVED if approve else ItemStatus.DECLINED
        # raises IllegalTransition (409) when the item is no longer in review: a replay
        uow.items.transition([item_id], ItemStatus.REVIEW, target, now)
        decline = None if approve else (REVIEW_DECLINE_CODE, REVIEW_DECLINE_MESSAGE)
        uow.review.record_decision(item_id, by=op.actor, at=now, note=note, decline=decline)
        moved = uow.items.get(item_id)
        assert moved is not None  # just moved in this transaction
        return moved, {"status": target.value}

    detail = {"reason": reason[:MAX_REASON]}
    return _audited(deps, op, action, f"item:{item_id[:64]}", detail, change)


def approve(deps: Deps, op: Operator, item_id: str, reason: str) -> Item:
    """review → received: the worker then redeems it."""
    return _decide(deps, op, item_id, reason, approve=True)


def decline(deps: Deps, op: Operator, item_id: str, reason: str) -> Item:
    """review → declined (``declined_by_review``)."""
    return _decide(deps, op, item_id, reason, approve=False)


# -- brands and issuers --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BrandSetting:
    brand: Brand  # as bought now
    default: Brand  # as shipped
    issuer_enabled: bool
    exposure_cap: int | None
    updated_at: datetime | None
    updated_by: str | None


@dataclass(frozen=True, slots=True)
class IssuerSetting:
    issuer: str
    enabled: bool
    exposure_cap: int | None
    brands: list[str]
    updated_at: datetime | None
    updated_by: str | None


def _brand_settings(deps: Deps, live: catalogue.LiveCatalogue) -> list[BrandSetting]:
    out = []
    shown = live.shown
    for b in deps.brand_catalogue:
        row = live.brand_rows.get(b.id, {})
        out.append(
            BrandSetting(
                brand=shown[b.id],
                default=b,
                issuer_enabled=b.issuer not in live.disabled_issuers,
                exposure_cap=row.get("exposure_cap"),
                updated_at=row.get("updated_at"),
                updated_by=row.get("updated_by"),
            )
        )
    return out


def list_brands(deps: Deps) -> list[BrandSetting]:
    return _brand_settings(deps, catalogue.live_catalogue(deps))


def _issuer_settings(deps: Deps, live: catalogue.LiveCatalogue) -> list[IssuerSetting]:
    out = []
    for issuer in catalogue.known_issuers(deps):
        row = live.issuer_rows.get(issuer, {})
        out.append(
            IssuerSetting(
                issuer=issuer,
                enabled=issuer not in live.disabled_issuers,
                exposure_cap=row.get("exposure_cap"),
                brands=[b.id for b in deps.brand_catalogue if b.issuer == issuer],
                updated_at=row.get("updated_at"),
                updated_by=row.get("updated_by"),
            )
        )
    return out


def list_issuers(deps: Deps) -> list[IssuerSetting]:
    return _issuer_settings(deps, catalogue.live_catalogue(deps))


def _check_cap(value: Any) -> None:
    if value is not None and (type(value) is not int or not 0 <= value <= 10**15):
        raise errors.InvalidInput("an exposure cap is a whole amount ≥ 0", field="exposure_cap")


def _check_brand_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    allowed = {"buyback_rate_bps", "enabled", "exposure_cap"}
    if not changes or set(changes) - allowed:
        raise errors.InvalidInput(f"change one or more of {', '.join(sorted(allowed))}")
    rate = changes.get("buyback_rate_bps")
    if rate is not None and (type(rate) is not int or not 1 <= rate <= 10_000):
        raise errors.InvalidInput(
            "a buyback rate is 1 to 10000 basis points of face value", field="buyback_rate_bps"
        )
    enabled = changes.get("enabled")
    if enabled is not None and type(enabled) is not bool:
        raise errors.InvalidInput("enabled is true, false or null", field="enabled")
    _check_cap(changes.get("exposure_cap"))
    return dict(changes)


def patch_brand(
    deps: Deps, op: Operator, brand_id: str, changes: Mapping[str, Any]
) -> BrandSetting:
    """Override a brand's rate, on/off or exposure cap; ``None`` restores the default."""

    def change(uow: UnitOfWork) -> tuple[BrandSetting, dict[str, Any]]:
        if brand_id not in brand_index(deps.brand_catalogue):
            raise BrandNotFound(f"no brand {brand_id[:40]!r}", brand_id=brand_id[:40])
        checked = _check_brand_changes(changes)
        before = uow.overrides.brands().get(brand_id, {})
        uow.overrides.set_brand(brand_id, checked, deps.clock.now(), op.actor)
        live = catalogue.live_catalogue_in(uow, deps.brand_catalogue)
        setting = next(s for s in _brand_settings(deps, live) if s.brand.id == brand_id)
        was = {k: before.get(k) for k in checked}
        return setting, {"before": was}

    detail = {"changes": dict(changes)}
    return _audited(deps, op, "brand.update", f"brand:{brand_id[:64]}", detail, change)


def patch_issuer(
    deps: Deps, op: Operator, issuer: str, changes: Mapping[str, Any]
) -> IssuerSetting:
    """The kill switch (``enabled: false``) and the exposure cap of an issuer."""

    def change(uow: UnitOfWork) -> tuple[IssuerSetting, dict[str, Any]]:
        if issuer not in catalogue.known_issuers(deps):
            raise IssuerNotFound(f"no issuer {issuer[:40]!r}")
        allowed = {"enabled", "exposure_cap"}
        if not changes or set(changes) - allowed:
            raise errors.InvalidInput(f"change one or more of {', '.join(sorted(allowed))}")
        enabled = changes.get("enabled")
        if enabled is not None and type(enabled) is not bool:
            raise errors.InvalidInput("enabled is true, false or null", field="enabled")
        _check_cap(changes.get("exposure_cap"))
        before = uow.overrides.issuers().get(issuer, {})
        uow.overrides.set_issuer(issuer, dict(changes), deps.clock.now(), op.actor)
        live = catalogue.live_catalogue_in(uow, deps.brand_catalogue)
        setting = next(s for s in _issuer_settings(deps, live) if s.issuer == issuer)
        return setting, {"before": {k: before.get(k) for k in changes}}

    detail = {"changes": dict(changes)}
    return _audited(deps, op, "issuer.update", f"issuer:{issuer[:64]}", detail, change)


# -- rules ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuleSetting:
    id: str
    statutory: bool
    enabled: bool
    description: str
    params: dict[str, Any]


def _jsonable(value: Any) -> Any:
    if isinstance(value, frozenset | set):
        return sorted(value)
    if isinstance(value, tuple):
        return {k: v for k, v in value}
    return value


def _rule_settings(ruleset: Any) -> list[RuleSetting]:
    return [
        RuleSetting(
            id=r.id,
            statutory=r.statutory,
            enabled=r.id not in ruleset.disabled,
            description=r.description,
            params={name: _jsonable(getattr(ruleset.params, name)) for name in r.params},
        )
        for r in sorted(ruleset.rules, key=lambda r: (not r.statutory, r.id))
    ]


def list_rules(deps: Deps, jurisdiction: str | None = None) -> list[RuleSetting]:
    return _rule_settings(catalogue.current_rules(deps, jurisdiction))


def patch_rule(
    deps: Deps,
    op: Operator,
    rule_id: str,
    *,
    enabled: bool | None = None,
    params: Mapping[str, Any] | None = None,
    jurisdiction: str | None = None,
) -> RuleSetting:
    """Switch a rule on or off or change its thresholds. A statutory rule refuses to be
    switched off or relaxed (``403 statutory_rule``); the attempt is audited."""
    from giftcash.domain import policy
    from giftcash.domain.jurisdictions import pack

    jurisdiction = jurisdiction or deps.jurisdiction

    def change(uow: UnitOfWork) -> tuple[RuleSetting, dict[str, Any]]:
        base = pack(jurisdiction)
        rows = uow.overrides.rules()
        current, _ = catalogue.stored_overrides(base, rows)
        policy.patch_rule(base, current, rule_id, enabled=enabled, params=params)
        row = next((r for r in rows if r["rule_id"] == rule_id), {})
        stored: dict[str, Any] = {}
        if enabled is not None:
            stored["enabled"] = enabled
        if params:
            stored["params"] = {**(row.get("params") or {}), **params}
        if stored:
            uow.overrides.set_rule(rule_id, stored, deps.clock.now(), op.actor)
        ruleset = catalogue.rules_in(uow, deps.brand_catalogue, jurisdiction)
        setting = next(s for s in _rule_settings(ruleset) if s.id == rule_id)
        return setting, {"statutory": setting.statutory}

    detail: dict[str, Any] = {"enabled": enabled, "params": dict(params or {})}
    return _audited(deps, op, "rule.update", f"rule:{rule_id[:64]}", detail, change)


# -- payouts (finance) ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PayoutDetail:
    payout: Payout
    item_ids: list[str]
    failure_code: str | None


_PAYOUT_FIELDS = (
    "id",
    "customer_id",
    "bank_account_id",
    "currency",
    "amount",
    "status",
    "bank_tran_id",
    "attempts",
    "created_at",
    "sent_at",
    "confirmed_at",
    "failure_code",
)


def _payout(row: Mapping[str, Any]) -> Payout:
    return Payout(**{k: row[k] for k in _PAYOUT_FIELDS})


PAYOUT_STATUSES = ("pending", "sending", "sent", "unknown", "confirmed", "returned", "rejected")


def list_payouts(deps: Deps, *, status: str | None, cursor: str | None, limit: int) -> list[Payout]:
    if status is not None and status not in PAYOUT_STATUSES:
        raise errors.InvalidInput(f"status is one of {', '.join(PAYOUT_STATUSES)}", field="status")
    with deps.reader() as uow:
        return [_payout(r) for r in uow.admin_payouts.page(status, cursor, limit)]


def get_payout(deps: Deps, payout_id: str) -> PayoutDetail:
    with deps.reader() as uow:
        row = uow.admin_payouts.get(payout_id)
        if row is None:
            raise errors.PayoutNotFound("no such payout")
        return PayoutDetail(_payout(row), uow.items.ids_for_payout(payout_id), row["failure_code"])


# -- the audit log -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditPage:
    records: list[AuditRecord]
    next_cursor: str | None
    verified: bool
    head: tuple[int, str]


def audit_page(deps: Deps, *, cursor: str | None, limit: int) -> AuditPage:
    """Newest first; ``verified`` says whether the whole chain checks out right now."""
    before: int | None = None
    if cursor is not None:
        if not cursor.isascii() or not cursor.isdigit() or len(cursor) > 18:
            raise errors.InvalidInput("the cursor is not one this endpoint gave", field="cursor")
        before = int(cursor)
    with deps.reader() as uow:
        uow.audit.snapshot()  # the page, the chain and the head from one moment
        records = uow.audit.newest_first(before, limit + 1)
        problems = audit.verify(uow)
        head = uow.audit.head()
    page, more = records[:limit], len(records) > limit
    return AuditPage(page, str(page[-1].seq) if more else None, not problems, head)

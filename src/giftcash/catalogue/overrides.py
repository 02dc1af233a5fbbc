"""The operators' changes to the catalogue and the rules: a brand's rate, on/off and
exposure cap, an issuer's kill switch and exposure cap, a rule's on/off and thresholds
(``live`` reads them back). Every change is audited in the transaction that makes it, and
a refused change on its own (``audit/changes.py``). Role checks happen at the entry
points (``operators.check_role``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from giftcash.audit.changes import audited
from giftcash.catalogue import live as catalogue
from giftcash.domain.brands import MAX_RESELL_HOLD_S, Brand, Disposition, brand_index
from giftcash.domain.errors import BrandNotFound, DomainError
from giftcash.domain.resale import InvalidResalePricing, parse_pricing, pricing_wire
from giftcash.identity.operators import Operator
from giftcash.service import errors
from giftcash.service.deps import Deps
from giftcash.service.ports.uow import UnitOfWork


class IssuerNotFound(errors.NotFound):
    code = "issuer_not_found"


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


class BrandHasStock(DomainError):
    """A brand with vouchers in stock (or reserved by orders) is not switched to being
    redeemed: its stock would no longer be offered to buyers. Sell it or withdraw it
    first, or turn the brand off to stop buying it."""

    code = "brand_has_stock"
    kind = "conflict"


def _check_brand_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    allowed = {"buyback_rate_bps", "enabled", "exposure_cap", "resell_hold_s", "resale_pricing"}
    allowed.add("disposition")
    if not changes or set(changes) - allowed:
        raise errors.InvalidInput(f"change one or more of {', '.join(sorted(allowed))}")
    disposition = changes.get("disposition")
    if disposition is not None and disposition not in {d.value for d in Disposition}:
        raise errors.InvalidInput("a disposition is redeem or resell", field="disposition")
    hold_s = changes.get("resell_hold_s")
    if hold_s is not None and (type(hold_s) is not int or not 0 <= hold_s <= MAX_RESELL_HOLD_S):
        raise errors.InvalidInput(
            f"a resale payout hold is 0 to {MAX_RESELL_HOLD_S} seconds", field="resell_hold_s"
        )
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


def _resale_pricing_column(disposition: Disposition, changes: dict[str, Any]) -> dict[str, Any]:
    """The resale pricing checked (``InvalidResalePricing``) and stored as its canonical
    JSON text; only a resell brand (after these changes) is sold, so only it has one."""
    if "resale_pricing" not in changes or changes["resale_pricing"] is None:
        return changes
    if disposition is not Disposition.RESELL:
        raise InvalidResalePricing("only a resell brand is sold to buyers", field="resale_pricing")
    pricing = parse_pricing(changes["resale_pricing"])
    return {**changes, "resale_pricing": json.dumps(pricing_wire(pricing), sort_keys=True)}


def _check_rate_above_bands(brand: Brand, changes: Mapping[str, Any]) -> None:
    """A product coupon's expiry bands are discounts off its rate: the rate must stay
    above the deepest one, or a coupon near expiry would be priced at nothing or less."""
    rate = changes.get("buyback_rate_bps")
    deepest = max((b.discount_bps for b in brand.expiry_bands), default=None)
    if rate is not None and deepest is not None and rate <= deepest:
        raise errors.InvalidInput(
            f"this brand's rate must stay above its deepest expiry discount ({deepest} basis"
            " points)",
            field="buyback_rate_bps",
        )


def patch_brand(
    deps: Deps, op: Operator, brand_id: str, changes: Mapping[str, Any]
) -> BrandSetting:
    """Override a brand's rate, on/off, exposure cap, disposition (redeemed at its issuer
    or resold to buyers), resale payout hold or resale pricing (resell brands: what buyers
    pay by days left); ``None`` restores the default. A brand with stock is not switched
    to being redeemed (``BrandHasStock``)."""

    def change(uow: UnitOfWork) -> tuple[BrandSetting, dict[str, Any]]:
        if brand_id not in brand_index(deps.brand_catalogue):
            raise BrandNotFound(f"no brand {brand_id[:40]!r}", brand_id=brand_id[:40])
        checked = _check_brand_changes(changes)
        brand = brand_index(deps.brand_catalogue)[brand_id]
        _check_rate_above_bands(brand, checked)
        now = catalogue.live_catalogue_in(uow, deps.brand_catalogue).brands[brand_id]
        wanted = checked.get("disposition", now.disposition)
        disposition = Disposition(wanted or brand.disposition)  # None: the catalogue's
        if now.disposition is Disposition.RESELL and disposition is Disposition.REDEEM:
            held = sum(
                s.units
                for s in uow.resale_reports.stock(deps.clock.now())
                if s.brand_id == brand_id
            )
            if held:
                raise BrandHasStock(
                    f"{held} of this brand's vouchers are in stock or reserved: they would no"
                    " longer be offered",
                    units=held,
                )
        stored = _resale_pricing_column(disposition, checked)
        before = uow.overrides.brands().get(brand_id, {})
        uow.overrides.set_brand(brand_id, stored, deps.clock.now(), op.actor)
        live = catalogue.live_catalogue_in(uow, deps.brand_catalogue)
        setting = next(s for s in _brand_settings(deps, live) if s.brand.id == brand_id)
        was = {k: before.get(k) for k in checked}
        return setting, {"before": was}

    detail = {"changes": dict(changes)}
    return audited(deps, op, "brand.update", f"brand:{brand_id[:64]}", detail, change)


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
    return audited(deps, op, "issuer.update", f"issuer:{issuer[:64]}", detail, change)


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

    jurisdiction = jurisdiction or deps.jurisdiction

    def change(uow: UnitOfWork) -> tuple[RuleSetting, dict[str, Any]]:
        base = catalogue.base_rules(jurisdiction, deps.rule_params)
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
        ruleset = catalogue.rules_in(
            uow, deps.brand_catalogue, jurisdiction, configured=deps.rule_params
        )
        setting = next(s for s in _rule_settings(ruleset) if s.id == rule_id)
        return setting, {"statutory": setting.statutory}

    detail: dict[str, Any] = {"enabled": enabled, "params": dict(params or {})}
    return audited(deps, op, "rule.update", f"rule:{rule_id[:64]}", detail, change)

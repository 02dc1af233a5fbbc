"""The live catalogue and rule set: the code's defaults with the operator's overrides.

Brands (rate, on/off, exposure cap) and issuers (the kill switch, exposure cap) are
overridden in ``brand_overrides`` / ``issuer_overrides``; rules (on/off, thresholds) in
``rule_overrides``. Every write to those tables bumps the catalogue's version in its own
transaction (the repository's ``set_*``), so what is built from them is kept per database
(keyed by ``OperatorOverridesRepo.version()``'s engine) and rebuilt only when the version
read at the start of a call has moved: each call still costs that one SELECT, and a
switched-off issuer is off for the very next submission. A rule set built with a cached
catalogue is the rule set of that catalogue's version (one snapshot for both). A row
written by hand, past the repository, is seen once the version moves (``UPDATE
catalogue_version SET version = version + 1`` in the same transaction).

A statutory rule cannot be switched off through any of this: ``domain.policy`` refuses
the change when it is made, and a stored row that would relax one (say, written by an
older version, or by hand) is skipped when the rule set is built, never obeyed.
"""

from __future__ import annotations

import json
import logging
import threading
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from giftcash.domain.brands import Brand, Disposition
from giftcash.domain.errors import DomainError
from giftcash.domain.resale import BPS, ResalePricing, default_pricing, parse_pricing
from giftcash.service.deps import Deps
from giftcash.service.ports.records import RowView
from giftcash.service.ports.uow import UnitOfWork

if TYPE_CHECKING:
    from giftcash.domain.policy import Overrides, RuleSet

log = logging.getLogger("giftcash.catalogue")


@dataclass(frozen=True)
class LiveCatalogue:
    # The brands with their own overrides (rate, on/off): what the policy engine sees; the
    # issuer kill switch reaches it separately (``disabled_issuers``, the issuer_disabled
    # rule), so a killed issuer's items are declined ``issuer_disabled``, not
    # ``brand_disabled``. ``shown`` is what customers see: a killed issuer's brands off.
    brands: dict[str, Brand]
    disabled_issuers: frozenset[str]
    brand_exposure_caps: dict[str, int] = field(default_factory=dict)
    issuer_exposure_caps: dict[str, int] = field(default_factory=dict)
    brand_rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    issuer_rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The cache of the version it was built at (None: not cached); shared between threads
    # and requests, so nothing here is ever changed after ``build``.
    cached_at: _AtVersion | None = field(default=None, compare=False, repr=False)

    @property
    def shown(self) -> dict[str, Brand]:
        return {
            k: replace(b, enabled=False) if b.issuer in self.disabled_issuers else b
            for k, b in self.brands.items()
        }


def resale_default(b: Brand, rate_bps: int) -> ResalePricing:
    """A resold brand's prices when the operator set none: the catalogue's, or for a brand
    the catalogue redeems (resold by the operator's choice) the default from its fee."""
    if b.resale_pricing is not None:
        return b.resale_pricing
    return default_pricing(min(max(BPS - rate_bps, 1), BPS - 1))


def build(
    defaults: tuple[Brand, ...],
    brand_rows: Mapping[str, Mapping[str, Any]],
    issuer_rows: Mapping[str, Mapping[str, Any]],
) -> LiveCatalogue:
    """The catalogue ``defaults`` under the override rows. Pure."""
    disabled = frozenset(i for i, r in issuer_rows.items() if r.get("enabled") is False)
    brands: dict[str, Brand] = {}
    for b in defaults:
        row = brand_rows.get(b.id, {})
        enabled = b.enabled if row.get("enabled") is None else bool(row["enabled"])
        rate = (
            b.buyback_rate_bps
            if row.get("buyback_rate_bps") is None
            else int(row["buyback_rate_bps"])
        )
        hold_s = row.get("resell_hold_s")
        disposition = Disposition(row.get("disposition") or b.disposition)
        pricing = row.get("resale_pricing")  # JSON text, checked when it was set
        brands[b.id] = replace(
            b,
            enabled=enabled,
            buyback_rate_bps=rate,
            disposition=disposition,
            resell_hold_s=b.resell_hold_s if hold_s is None else int(hold_s),
            resale_pricing=(
                None
                if disposition is Disposition.REDEEM
                else resale_default(b, rate)
                if pricing is None
                else parse_pricing(json.loads(pricing))
            ),
        )
    return LiveCatalogue(
        brands=brands,
        disabled_issuers=disabled,
        brand_exposure_caps={
            k: r["exposure_cap"] for k, r in brand_rows.items() if r.get("exposure_cap") is not None
        },
        issuer_exposure_caps={
            k: r["exposure_cap"]
            for k, r in issuer_rows.items()
            if r.get("exposure_cap") is not None
        },
        brand_rows={k: dict(v) for k, v in brand_rows.items()},
        issuer_rows={k: dict(v) for k, v in issuer_rows.items()},
    )


# -- the cache -----------------------------------------------------------------------------


class _AtVersion:
    """One database's live catalogues and rule sets at one catalogue version. Entries are
    keyed by the identity of their inputs (``defaults``: a ``Deps.brand_catalogue``) and
    hold those inputs, so a recycled ``id`` never answers for another object. A dict's get
    and set are atomic; two threads that miss at once both build the same thing."""

    def __init__(self, version: int) -> None:
        self.version = version
        self.catalogues: dict[int, tuple[tuple[Brand, ...], LiveCatalogue]] = {}
        self.rules: dict[tuple[int, str, Any], tuple[tuple[Brand, ...], RuleSet]] = {}


_lock = threading.Lock()
# The database (its engine: a test's many databases never share one) → its entries at the
# version last read; gone with the engine.
_caches: weakref.WeakKeyDictionary[object, _AtVersion] = weakref.WeakKeyDictionary()


def _at_version(uow: UnitOfWork) -> _AtVersion | None:
    """The cache for the version this unit of work sees (one SELECT); None: not versioned."""
    seen = uow.overrides.version()
    if seen is None:
        return None
    owner, version = seen
    with _lock:
        at = _caches.get(owner)
        if at is None or at.version != version:
            at = _caches[owner] = _AtVersion(version)
        return at


def live_catalogue_in(uow: UnitOfWork, defaults: tuple[Brand, ...]) -> LiveCatalogue:
    """The live catalogue as this unit of work sees it: the version read, the override
    rows read and built only when this process has not built that version yet."""
    return _live_at(uow, defaults, _at_version(uow))


def live_catalogue(deps: Deps) -> LiveCatalogue:
    with deps.reader() as uow:
        return live_catalogue_in(uow, deps.brand_catalogue)


def current_brands(deps: Deps) -> dict[str, Brand]:
    """Brand id → brand as it is bought now (rate and on/off overridden; the brands of a
    switched-off issuer show ``enabled=False``)."""
    return live_catalogue(deps).shown


def known_issuers(deps: Deps) -> list[str]:
    return sorted({b.issuer for b in deps.brand_catalogue})


# -- rules ---------------------------------------------------------------------------------


def stored_overrides(base: RuleSet, rows: Sequence[RowView]) -> tuple[Overrides, list[str]]:
    """The rule overrides as ``domain.policy.Overrides``, oldest row first; a row the
    policy refuses (e.g. one that would switch off a statutory rule) is skipped and named."""
    from giftcash.domain.policy import Overrides, apply_overrides

    current, skipped = Overrides(), []
    for row in rows:
        disabled = set(current.disabled)
        if row.get("enabled") is False:
            disabled.add(row["rule_id"])
        elif row.get("enabled") is True:
            disabled.discard(row["rule_id"])
        candidate = Overrides(
            frozenset(disabled),
            {**current.params, **(row.get("params") or {})},
            current.operator_rules,
        )
        try:
            apply_overrides(base, candidate)
        except DomainError as e:
            log.warning("rule override %s skipped: %s", row["rule_id"][:64], e.code)
            skipped.append(row["rule_id"])
            continue
        current = candidate
    return current, skipped


def _with_issuer_switches(overrides: Overrides, live: LiveCatalogue) -> Overrides:
    """The kill switch and issuer caps join the thresholds; only ever stricter."""
    from giftcash.domain.policy import Overrides

    params = dict(overrides.params)
    if live.disabled_issuers:
        params["disabled_issuers"] = sorted(
            set(params.get("disabled_issuers") or ()) | live.disabled_issuers
        )
    if live.issuer_exposure_caps:
        caps = dict(params.get("issuer_exposure_caps") or {})
        for issuer, cap in live.issuer_exposure_caps.items():
            caps[issuer] = min(cap, caps.get(issuer, cap))
        params["issuer_exposure_caps"] = caps
    return Overrides(overrides.disabled, params, overrides.operator_rules)


def base_rules(jurisdiction: str, configured: Mapping[str, Any] | None = None) -> RuleSet:
    """The pack as shipped with the deployment's thresholds (settings, ``Deps.rule_params``)
    applied: the floor the operator's overrides are checked against. A configured amount
    may only tighten a statutory rule (``StatutoryRule`` otherwise, at start-up)."""
    from giftcash.domain.jurisdictions import pack
    from giftcash.domain.policy import Overrides, apply_overrides

    base = pack(jurisdiction)
    return apply_overrides(base, Overrides(params=dict(configured))) if configured else base


def rules_in(
    uow: UnitOfWork,
    defaults: tuple[Brand, ...],
    jurisdiction: str,
    live: LiveCatalogue | None = None,
    configured: Mapping[str, Any] | None = None,
) -> RuleSet:
    """``live``: the catalogue when the caller has just read it (not read again);
    ``configured``: the deployment's thresholds (``Deps.rule_params``)."""
    from giftcash.domain.policy import apply_overrides

    # The version: that of ``live`` when it came from the cache (no read; a miss reads it
    # again below, so the rows kept are never older than their version), else read now.
    at = live.cached_at if live is not None else _at_version(uow)
    key = _rules_key(defaults, jurisdiction, configured)
    hit = at.rules.get(key) if at is not None and key is not None else None
    if hit is not None and hit[0] is defaults:
        return hit[1]
    if live is not None and at is not None and _at_version(uow) is not at:
        at = None  # the version moved since ``live`` was read: this one is not kept
    base = base_rules(jurisdiction, configured)
    overrides, _ = stored_overrides(base, uow.overrides.rules())
    if live is None:
        live = _live_at(uow, defaults, at)
    rules = apply_overrides(base, _with_issuer_switches(overrides, live))
    if at is not None and key is not None and live.cached_at is at:
        at.rules[key] = (defaults, rules)  # the rows were read after the version
    return rules


def _rules_key(
    defaults: tuple[Brand, ...], jurisdiction: str, configured: Mapping[str, Any] | None
) -> tuple[int, str, Any] | None:
    try:
        return id(defaults), jurisdiction, frozenset((configured or {}).items())
    except TypeError:  # a threshold that is not hashable: not cached
        return None


def _live_at(uow: UnitOfWork, defaults: tuple[Brand, ...], at: _AtVersion | None) -> LiveCatalogue:
    """``live_catalogue_in`` with the version already read."""
    hit = at.catalogues.get(id(defaults)) if at is not None else None
    if hit is not None and hit[0] is defaults:
        return hit[1]
    live = build(defaults, uow.overrides.brands(), uow.overrides.issuers())
    if at is None:
        return live
    live = replace(live, cached_at=at)
    at.catalogues[id(defaults)] = (defaults, live)
    return live


def current_rules(deps: Deps, jurisdiction: str | None = None) -> RuleSet:
    """The jurisdiction's (default: the deps') rule set with the operator's overrides, the
    issuer kill switch and the issuer exposure caps applied: what the pipeline evaluates
    items against."""
    with deps.reader() as uow:
        return rules_in(
            uow,
            deps.brand_catalogue,
            jurisdiction or deps.jurisdiction,
            configured=deps.rule_params,
        )

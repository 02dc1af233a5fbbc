"""Composition root: settings in, engine and adapters out. Kept small on purpose."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from giftcash.adapters.crypto.vault import CodeVault
from giftcash.adapters.db.engine import make_engine, verify_durable
from giftcash.config import Settings
from giftcash.domain.bank_hours import parse_nightly
from giftcash.intake.scans import BarcodeReader
from giftcash.reconcile.lines import SettlementLine, StatementLine
from giftcash.service.deps import BusinessDetails, Deps, Limits
from giftcash.webhooks.delivery import Signer


def make_engine_from_settings(settings: Settings, *, sqlite_foreign_keys: bool = True) -> Engine:
    """The engine every process (API, worker, CLI) uses; refuses (``NotDurable``) a
    database whose commits a power cut could undo, before anything calls out."""
    engine = make_engine(settings.resolved_database_url, sqlite_foreign_keys=sqlite_foreign_keys)
    try:
        verify_durable(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine


def make_vault_from_settings(settings: Settings) -> CodeVault:
    return CodeVault.from_settings(
        settings.secret_key,
        settings.data_dir,
        decrypt_keys=settings.decrypt_keys,
        hmac_key_id=settings.hmac_key_id,
    )


def limits_from(settings: Settings) -> Limits:
    """The limits every part uses, from the one ``Settings``."""
    return Limits(
        token_ttl_s=settings.token_ttl_s,
        lease_s=settings.lease_s,
        worker_batch=settings.worker_batch,
        worker_issuer_batch=settings.worker_issuer_batch,
        worker_concurrency=settings.worker_concurrency,
        worker_per_issuer=settings.worker_per_issuer,
        worker_idle_sleep_s=settings.worker_idle_sleep_s,
        worker_heartbeat_s=settings.worker_heartbeat_s,
        bank_nightly=parse_nightly(settings.bank_nightly),
        bank_nightly_per_bank={
            bank: parse_nightly(window) for bank, window in settings.bank_nightly_per_bank.items()
        },
        bank_closed_retry_s=settings.bank_closed_retry_s,
        resale_guarantee_days=settings.resale_guarantee_days,
    )


def rule_params_from(settings: Settings) -> dict[str, int]:
    """The rule pack's thresholds the settings set; checked against the pack now, so a
    threshold that would relax a statutory rule stops the process at start-up
    (``StatutoryRule``)."""
    from giftcash.catalogue.live import base_rules

    wanted = {
        "identity_max_value_per_day": settings.tier_identity_max_day_won,
        "identity_max_value_per_month": settings.tier_identity_max_month_won,
        "edd_one_off_value": settings.edd_one_off_won,
        "buyer_max_value_per_day": settings.buyer_max_day_won,
        "buyer_max_value_per_month": settings.buyer_max_month_won,
    }
    params = {name: value for name, value in wanted.items() if value is not None}
    base_rules(settings.jurisdiction, params)
    return params


# CPython's cyclic collector, tuned for a process that allocates many short-lived objects
# per request and per item (rows, records, dicts): a young collection every 50,000 net
# allocations instead of 700, the older generations at 20 of those each instead of 10.
# What it saves is the collector's repeated walks over the live objects of a large
# submission (a 10,000-code one: 16,670-17,065 -> 20,356-20,376 codes/s, the same peak
# memory; docs/performance.md, "Intake"); garbage without cycles is freed by reference
# counting at once, as before. Set once per process by ``build_deps``, which every
# process of giftcash (the API's workers, the worker, the CLI, the demo) calls.
GC_THRESHOLDS = (50_000, 20, 20)


def tune_gc() -> None:
    import gc

    if gc.get_threshold() != GC_THRESHOLDS:
        gc.set_threshold(*GC_THRESHOLDS)


def build_deps(
    settings: Settings,
    *,
    engine: Engine | None = None,
    issuer: object | None = None,
    bank: object | None = None,
    sms: object | None = None,
    identity: object | None = None,
    virtual_accounts: object | None = None,
    fast_passwords: bool = False,
) -> Deps:
    """Everything the use cases need, wired from settings; adapters may be swapped in."""
    tune_gc()
    from giftcash.adapters.banks.ids import tran_id_source
    from giftcash.adapters.banks.openbanking import OpenBankingBank
    from giftcash.adapters.crypto.passwords import Argon2Passwords
    from giftcash.adapters.db.app_uow import AppUnitOfWork
    from giftcash.adapters.db.ids import new_id, new_ids
    from giftcash.adapters.identity.http_identity import HttpIdentity
    from giftcash.adapters.issuers.http_issuer import HttpIssuer
    from giftcash.adapters.net import SystemResolver
    from giftcash.adapters.observability.metrics import BoundMetrics, instrument
    from giftcash.adapters.sms.http_sms import HttpSms
    from giftcash.config import cidr_list

    engine = engine or make_engine_from_settings(settings)
    if identity is None and settings.identity_url:
        identity = HttpIdentity(
            settings.identity_url,
            settings.http_timeout_s,
            service_code=settings.identity_service_code,
        )
    bank_code, _, account = settings.bank_operating_account.partition(":")
    if virtual_accounts is None and settings.bank_notification_secret:
        from giftcash.adapters.banks.virtual_accounts import HttpVirtualAccounts

        virtual_accounts = HttpVirtualAccounts(
            settings.bank_url,
            notification_secret=settings.bank_notification_secret,
            timeout_s=settings.http_timeout_s,
        )

    # Units of work take the clock and id source of the Deps they belong to when they
    # start (a test that sets ``deps.clock`` moves the ledger's and registry's time too).
    def uow() -> AppUnitOfWork:
        return AppUnitOfWork(engine, clock=deps.clock, new_id=deps.new_id)

    def read_uow() -> AppUnitOfWork:
        return AppUnitOfWork(engine, clock=deps.clock, new_id=deps.new_id, read_only=True)

    deps = Deps(
        uow=uow,
        read_uow=read_uow,
        vault=make_vault_from_settings(settings),
        passwords=Argon2Passwords(fast_for_tests=fast_passwords),
        # every foreign call is counted and timed (adapters/observability/metrics.py)
        # the worker's calls in flight each hold one of the client's connections
        issuer=instrument(
            "issuer",
            issuer
            or HttpIssuer(
                settings.issuer_url,
                settings.http_timeout_s,
                max_connections=max(64, settings.worker_concurrency),
            ),
        ),
        bank=instrument(
            "bank",
            bank
            or OpenBankingBank(
                settings.bank_url,
                operating_bank_code=bank_code,
                operating_account=account,
                timeout_s=settings.http_timeout_s,
            ),
        ),
        sms=instrument("sms", sms or HttpSms(settings.sms_url, settings.http_timeout_s)),
        limits=limits_from(settings),
        new_id=new_id,
        new_ids=new_ids,
        new_bank_tran_id=tran_id_source(settings.bank_client_code),
        jurisdiction=settings.jurisdiction,
        resolver=SystemResolver(),
        business=BusinessDetails(
            name=settings.business_name,
            representative=settings.business_representative,
            registration_no=settings.business_registration_no,
            mail_order_no=settings.business_mail_order_no,
            support_phone=settings.business_support_phone,
            support_hours=settings.business_support_hours,
        ),
        bounds=settings.bounds,
        bound_events=BoundMetrics(),
        outbound_denied=cidr_list(settings.outbound_denied),
        trusted_proxies=cidr_list(settings.trusted_proxies),
        identity=instrument("identity", identity) if identity is not None else None,
        rule_params=rule_params_from(settings),
        retention=settings.retention,
        virtual_accounts=(
            instrument("virtual_accounts", virtual_accounts) if virtual_accounts else None
        ),
    )
    return deps


@dataclass(frozen=True)
class HttpAdapters:
    """The adapters the HTTP entrypoints use, handed to them here so that ``entrypoints/api``
    and ``entrypoints/web`` import no adapter: the request middleware that counts and logs,
    the metrics exposition, the webhook signing scheme (Standard Webhooks), the formats
    of the bank's statement and the issuers' settlement reports (reconciliation uploads),
    and the barcode reader behind ``POST /v1/scans`` and the web's scan page (zxing-cpp)."""

    observe_requests: type[Any]  # an ASGI middleware class
    render_metrics: Callable[[Any], tuple[bytes, str]]
    state_metrics: Callable[..., Any]
    webhook_signer: Signer
    parse_statement: Callable[[Iterable[str]], Iterator[StatementLine]]
    parse_settlement: Callable[[Iterable[str]], Iterator[SettlementLine]]
    barcode_reader: BarcodeReader


def http_adapters() -> HttpAdapters:
    from giftcash.adapters.banks.statements import parse_statement
    from giftcash.adapters.barcodes import ZxingReader
    from giftcash.adapters.issuers.settlements import parse_settlement
    from giftcash.adapters.observability.metrics import render, state_metrics
    from giftcash.adapters.observability.middleware import ObserveRequests
    from giftcash.adapters.ocr import TesseractOcr
    from giftcash.adapters.webhooks import signing

    reader = ZxingReader(ocr=TesseractOcr.if_installed())  # no OCR where tesseract is missing
    return HttpAdapters(
        ObserveRequests, render, state_metrics, signing, parse_statement, parse_settlement, reader
    )

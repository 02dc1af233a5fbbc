"""What every use case is handed: the unit-of-work factory and the ports (composition
happens in ``bootstrap``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from giftcash.domain.bank_hours import Nightly, parse_nightly
from giftcash.domain.brands import CATALOGUE, Brand, brand_index
from giftcash.domain.jurisdictions import DEFAULT_JURISDICTION
from giftcash.domain.retention import RetentionPeriods
from giftcash.service.bound_limits import BoundEvents, Bounds, NoEvents
from giftcash.service.outbound import Resolver
from giftcash.service.ports import BankPort, Clock, IdentityPort, IssuerPort, SmsPort
from giftcash.service.ports.uow import UnitOfWork
from giftcash.service.ports.virtual_accounts import VirtualAccountPort

__all__ = ["Deps", "Limits", "PasswordHasher", "UnitOfWork", "Vault"]


class Vault(Protocol):
    def encrypt(self, plaintext: str, aad: str) -> tuple[bytes, str]: ...
    # ``encrypt`` of each (plaintext, aad), under one key: (the blobs, that key's id)
    def encrypt_many(self, items: Sequence[tuple[str, str]]) -> tuple[list[bytes], str]: ...
    def decrypt(self, blob: bytes, key_id: str, aad: str) -> str: ...
    def hmac(self, normalised_code: str) -> str: ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...
    def verify(self, password_hash: str, password: str) -> bool: ...


def _uuid4_text() -> str:
    return str(uuid.uuid4())


def _no_bank_tran_ids() -> str:
    raise AssertionError("the bank's id source is handed in (bootstrap: adapters/banks/ids.py)")


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


# The cap on items in one submission: the API's schema (maxItems) and the service both
# read it from here.
MAX_ITEMS_PER_SUBMISSION = 1000


@dataclass(frozen=True)
class Limits:
    """Every limit of the service and the worker; ``bootstrap.limits_from`` makes it from
    the settings (``GIFTCASH_*``), tests build it directly."""

    sms_code_ttl_s: int = 300
    # An identity verification (본인인증) not confirmed on the phone by then is started
    # again (PASS-style providers give a few minutes).
    identity_check_ttl_s: int = 600
    sms_code_attempts: int = 5
    # Brute force: failed logins and failed SMS codes per phone, and per client address,
    # in a sliding window; past the limit every attempt is refused (429) until it passes.
    failure_window_s: int = 900
    login_max_failures: int = 5
    sms_max_failures: int = 5
    ip_max_failures: int = 20
    account_verify_attempts: int = 5
    token_ttl_s: int = 3600
    max_items_per_submission: int = MAX_ITEMS_PER_SUBMISSION
    quote_valid_s: int = 900
    lease_s: int = 30
    # A call that definitely did nothing is retried with backoff this many times, then the
    # item or payout waits for an operator (``failed``), never silently.
    max_attempts: int = 20
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 60.0
    # A sent payout whose transfer-result inquiry keeps giving no final answer (the bank
    # says pending or does not find it) is asked this many times, then once per
    # ``unconfirmed_recheck_s`` with ``failure_code='unconfirmed'`` for an operator
    # (``payouts inquire`` / ``payouts retry``, the bank statement's reconciliation).
    unconfirmed_recheck_s: int = 6 * 3600
    # The worker: rows claimed per step, items claimed per issuer step (entrypoints/
    # worker.py; None: four rounds of the calls in flight, at least the batch), foreign
    # calls in flight (in all, per issuer), the pause after a pass that found nothing,
    # seconds between heartbeats.
    worker_batch: int = 64
    worker_issuer_batch: int | None = None
    worker_concurrency: int = 64
    worker_per_issuer: int = 32
    worker_idle_sleep_s: float = 0.1
    worker_heartbeat_s: float = 1.0
    # Banks' nightly windows (domain/bank_hours.py): every bank's unless ``bank_nightly_per_bank``
    # names it; a bank that refuses as closed without a reopening is asked again after
    # ``bank_closed_retry_s``.
    bank_nightly: Nightly = field(default_factory=lambda: parse_nightly("23:30-00:30"))
    bank_nightly_per_bank: Mapping[str, Nightly] = field(default_factory=dict)
    bank_closed_retry_s: int = 900
    # Resale: days after delivery a buyer's claim is taken (GIFTCASH_RESALE_GUARANTEE_DAYS).
    resale_guarantee_days: int = 30


@dataclass(frozen=True)
class BusinessDetails:
    """Who runs the exchange, as every page and receipt must say (상호, 대표자,
    사업자등록번호, 통신판매업 신고번호, 고객센터); from the ``GIFTCASH_BUSINESS_*`` settings."""

    name: str = "주식회사 기프트캐시 (데모)"
    representative: str = "홍길동"
    registration_no: str = "000-00-00000"
    mail_order_no: str = "제2026-서울강남-0000호"
    support_phone: str = "1588-0000"
    support_hours: str = "평일 09:00–18:00 (점심 12:00–13:00)"


@dataclass
class Deps:
    uow: Callable[[], UnitOfWork]
    vault: Vault
    passwords: PasswordHasher
    issuer: IssuerPort
    bank: BankPort
    sms: SmsPort
    clock: Clock = field(default_factory=SystemClock)
    limits: Limits = field(default_factory=Limits)
    brand_catalogue: tuple[Brand, ...] = CATALOGUE
    # A new idempotency key for a bank transfer, in the bank network's format (the
    # adapter's: adapters/banks/ids.py), stored before the call.
    new_bank_tran_id: Callable[[], str] = field(default_factory=lambda: _no_bank_tran_ids)
    jurisdiction: str = DEFAULT_JURISDICTION
    new_id: Callable[[], str] = field(default_factory=lambda: _uuid4_text)
    # ``n`` ids as ``n`` calls of ``new_id`` would make them, in one go (None: those calls)
    new_ids: Callable[[int], list[str]] | None = None
    # A unit of work for reads alone (see ``reader``); None: ``uow`` serves reads too.
    read_uow: Callable[[], UnitOfWork] | None = None
    # Resolves the hosts of URLs customers give us (webhooks) for the outbound check.
    resolver: Resolver | None = None
    # The operator's business details shown in every customer page's footer and receipt.
    business: BusinessDetails = field(default_factory=BusinessDetails)
    # Bounds on foreign calls that cost money or trust (abuse/bounds.py), where they
    # report (metrics), and the operator's own networks webhooks must never reach.
    bounds: Bounds = field(default_factory=Bounds)
    bound_events: BoundEvents = field(default_factory=NoEvents)
    outbound_denied: tuple[str, ...] = ()
    # Proxies whose X-Forwarded-For is believed (CIDRs; entrypoints/client_address.py).
    trusted_proxies: tuple[str, ...] = ()
    # The identity provider (본인인증). None: sign-up proves the phone with an SMS code.
    identity: IdentityPort | None = None
    # Thresholds of the rule pack set by the deployment (settings): applied over the pack
    # before the operator's overrides; a statutory rule's may only be tightened.
    rule_params: Mapping[str, int] = field(default_factory=dict)
    # How long records are kept (domain/retention.py, privacy/purge.py).
    retention: RetentionPeriods = field(default_factory=RetentionPeriods)
    # The bank's virtual accounts (가상계좌) buyers pay orders into (resale/). None: not
    # configured (no notification secret), and orders are refused as unavailable.
    virtual_accounts: VirtualAccountPort | None = None

    def reader(self) -> UnitOfWork:
        """A unit of work that only reads: a snapshot that never takes the write lock
        (SQLite's deferred transaction, PostgreSQL's READ ONLY), so reads do not queue
        behind writers as they do in ``uow()``, which starts SQLite's BEGIN IMMEDIATE."""
        return (self.read_uow or self.uow)()

    def brands(self) -> Mapping[str, Brand]:
        return brand_index(self.brand_catalogue)

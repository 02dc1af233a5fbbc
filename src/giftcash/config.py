"""Settings from ``GIFTCASH_*`` environment variables (pydantic-settings): the one place a
process's knobs are read. ``bootstrap`` makes them into ``Deps`` and its ``Limits``; the
API, the web site, the worker and the CLI all read their limits from there."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from giftcash.domain.bank_hours import InvalidBankHours, parse_nightly
from giftcash.domain.banks import BANKS
from giftcash.domain.jurisdictions import DEFAULT_JURISDICTION
from giftcash.domain.retention import RetentionPeriods
from giftcash.service.bound_limits import Bounds


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GIFTCASH_", extra="ignore")

    data_dir: Path = Path("./var")
    # Default: an SQLite file in data_dir. PostgreSQL: postgresql+psycopg://user@host/db
    database_url: str | None = None
    # Base64 of 32 random bytes. Without it a key file is created in data_dir (0600).
    secret_key: str | None = Field(default=None, repr=False)
    # Key rotation (docs/deploy.md): older master keys that still decrypt, comma-separated
    # base64, and the id of the key the code hashes were made with (pinned for good once
    # there is more than one key).
    decrypt_keys: str | None = Field(default=None, repr=False)
    hmac_key_id: str | None = None
    jurisdiction: str = DEFAULT_JURISDICTION

    issuer_url: str = "http://127.0.0.1:8101"
    bank_url: str = "http://127.0.0.1:8102"
    sms_url: str = "http://127.0.0.1:8103"
    # The identity provider (본인인증, PASS-style; the simulator listens on 8104 by
    # convention). None: not configured, and sign-up proves the phone with an SMS code.
    identity_url: str | None = None
    identity_service_code: str = "giftcash"
    # Due diligence by amount (domain/tiers.py), in won: a verified identity sells up to
    # these a day and a month (above: an ID document check), and enhanced due diligence
    # comes from this one-off amount. Unset: the rule pack's (1,000,000 / 5,000,000 /
    # the 특정금융정보법 10,000,000). Lower only: a higher one refuses to start.
    tier_identity_max_day_won: int | None = Field(default=None, ge=0)
    tier_identity_max_month_won: int | None = Field(default=None, ge=0)
    edd_one_off_won: int | None = Field(default=None, ge=1)
    # Resale: the most one buyer may order a day and a calendar month, in won. Unset: the
    # rule pack's (1,000,000 / 3,000,000).
    buyer_max_day_won: int | None = Field(default=None, ge=0)
    buyer_max_month_won: int | None = Field(default=None, ge=0)
    # Resale: how many days after delivery a buyer may claim a unit "doesn't work"
    # (resale/claims.py); later claims are refused (claim_window_closed).
    resale_guarantee_days: int = Field(default=30, ge=1, le=365)
    # What the bank simulator and a real open-banking client need to identify us.
    bank_client_code: str = "M202600001"  # 이용기관코드 (10 chars) that prefixes bank_tran_id
    bank_operating_account: str = "004:00000000000001"
    # The Standard Webhooks secret (``whsec_…``) the bank signs its deposit notifications
    # to our virtual accounts with (resale: buyers pay by transfer). Unset: no virtual
    # accounts, so nothing is sold (offers are shown, orders refused).
    bank_notification_secret: str | None = Field(default=None, repr=False)
    # The operator's business details (전자상거래법 §10), shown in every customer page's
    # footer and on receipts. Demo values: set the real ones in production.
    business_name: str = "주식회사 기프트캐시 (데모)"
    business_representative: str = "홍길동"
    business_registration_no: str = "000-00-00000"
    business_mail_order_no: str = "제2026-서울강남-0000호"
    business_support_phone: str = "1588-0000"
    business_support_hours: str = "평일 09:00–18:00 (점심 12:00–13:00)"

    http_timeout_s: float = 5.0
    token_ttl_s: int = 3600
    # How long a worker holds claimed rows; a killed worker's rows come back after it.
    lease_s: int = Field(default=30, ge=1, le=3600)
    # The worker (entrypoints/worker.py): rows claimed per step, items claimed per issuer
    # step (balance inquiries, redemptions; None: four rounds of the calls in flight, at
    # least the batch), foreign calls in flight (in all, and per issuer), the pause when
    # a pass found nothing, seconds between heartbeats (each is a synced commit).
    worker_batch: int = Field(default=64, ge=1, le=10_000)
    worker_issuer_batch: int | None = Field(default=None, ge=1, le=10_000)
    worker_concurrency: int = Field(default=64, ge=1, le=1024)
    worker_per_issuer: int = Field(default=32, ge=1, le=1024)
    worker_idle_sleep_s: float = Field(default=0.1, gt=0, le=60)
    worker_heartbeat_s: float = Field(default=1.0, gt=0, le=3600)
    # Log lines of `serve` and `worker`: json (one object a line) or text.
    log_format: str = Field(default="json", pattern=r"^(json|text)$")
    log_level: str = "INFO"

    # Abuse bounds (abuse/bounds.py): JSON with any of the fields of Bounds
    # (service/bound_limits.py), e.g.
    # GIFTCASH_BOUNDS='{"sms_per_address": 10, "bank_accounts_per_customer": 3}'.
    bounds: Bounds = Field(default_factory=Bounds)
    # The operator's own addresses webhooks must never reach (comma-separated CIDRs: the
    # API's public address, the load balancer's), beside loopback and private networks.
    outbound_denied: str = ""
    # Proxies in front of the app (comma-separated CIDRs) whose X-Forwarded-For names the
    # client; from anyone else the header is ignored (docs/deploy.md).
    trusted_proxies: str = ""
    # Retention periods (domain/retention.py): JSON with any of the fields of
    # RetentionPeriods, e.g. GIFTCASH_RETENTION='{"personal_keep_days": 365}'. The
    # statutory floors (5 years of transaction records, 2 years of the access log) refuse
    # to start below them.
    retention: RetentionPeriods = Field(default_factory=RetentionPeriods)

    @field_validator("retention")
    @classmethod
    def _retention_floors(cls, value: RetentionPeriods) -> RetentionPeriods:
        problems = value.problems()
        if problems:
            raise ValueError("; ".join(problems))
        return value

    # Banks' nightly windows (점검 시간) in Korean time, HH:MM-HH:MM, crossing midnight when
    # the end is earlier: every bank's, and the banks that differ as JSON, e.g.
    # GIFTCASH_BANK_NIGHTLY_PER_BANK='{"088": "23:40-00:10", "090": "none"}'. Announced
    # maintenance is kept in the database (the console's bank-hours page).
    bank_nightly: str = "23:30-00:30"
    bank_nightly_per_bank: dict[str, str] = Field(default_factory=dict)
    # A bank that refuses a transfer as closed without saying when it opens: asked again
    # after this long.
    bank_closed_retry_s: int = Field(default=900, ge=10, le=86400)

    @field_validator("bank_nightly")
    @classmethod
    def _nightly_parses(cls, value: str) -> str:
        return _nightly(value)

    @field_validator("bank_nightly_per_bank")
    @classmethod
    def _per_bank_parses(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(bank for bank in value if bank not in BANKS)
        if unknown:
            raise ValueError(f"unknown bank codes {unknown[:5]} (KFTC codes: 004, 088, ...)")
        return {bank: _nightly(window) for bank, window in value.items()}

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'giftcash.db').as_posix()}"


def _nightly(window: str) -> str:
    """A window that parses (a settings error at startup, not a failure at night)."""
    try:
        parse_nightly(window)
    except InvalidBankHours as e:
        raise ValueError(e.message) from None
    return window


def cidr_list(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def load_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]

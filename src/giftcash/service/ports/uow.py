"""The unit of work as the service layer sees it: one database transaction, and the
repositories (``ports/repositories.py``) that work inside it."""

from __future__ import annotations

from typing import Protocol

from giftcash.service.ports import privacy as p
from giftcash.service.ports import repositories as r


class UnitOfWork(Protocol):
    """One command = one unit of work = one transaction (see ``adapters/db/uow.py``):
    leaving the block without ``commit()`` rolls back. A read-only one (``Deps.reader``)
    has the same shape; its writes fail in the database."""

    customers: r.CustomersRepo
    challenges: r.ChallengesRepo
    tokens: r.TokensRepo
    bank_accounts: r.BankAccountsRepo
    idempotency: r.IdempotencyKeysRepo
    submissions: r.SubmissionsRepo
    items: r.ItemsRepo
    payouts: r.PayoutsRepo
    webhooks: r.WebhooksRepo
    workers: r.WorkersRepo
    failures: r.FailuresRepo
    operators: r.OperatorsRepo
    audit: r.AuditLogRepo
    overrides: r.OperatorOverridesRepo
    review: r.ReviewQueueRepo
    admin_payouts: r.AdminPayoutsRepo
    operator_auth: r.OperatorAuthRepo
    reconcile: r.ReconciliationRepo
    figures: r.FiguresRepo
    encrypted: r.EncryptedColumnsRepo
    support: r.SupportRepo
    cases: r.CasesRepo
    case_facts: r.CaseFactsRepo
    customer_lookup: r.CustomerLookupRepo
    console_search: r.ConsoleSearchRepo
    blocks: r.BlocksRepo
    customer_notes: r.CustomerNotesRepo
    ledger: r.LedgerRepo
    bounded: r.BoundedCallsRepo
    codes: r.CodeRegistryRepo
    consents: r.ConsentsRepo
    notices: r.NoticesRepo
    bank_hours: r.BankHoursRepo
    evidence: r.EvidenceRepo
    inventory: r.InventoryRepo
    orders: r.OrdersRepo
    claims: r.ClaimsRepo
    resale_reports: r.ResaleReportsRepo
    stops: r.StopsRepo
    identity_checks: r.IdentityChecksRepo
    identities: r.IdentitiesRepo
    due_diligence: r.DueDiligenceRepo
    retention: p.RetentionRepo
    access_log: p.AccessLogRepo

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def joined(self) -> UnitOfWork:
        """A unit of work inside this one's transaction (savepoints): what
        ``service.idempotency`` hands a command so its work commits with its answer."""

    def ping(self) -> None:
        """A round trip to the database (health checks)."""

"""The application's unit of work: the ledger and code registry of ``SqlUnitOfWork`` plus
the repositories of customers, accounts, submissions, items, payouts and webhooks."""

from __future__ import annotations

from sqlalchemy import text

from giftcash.adapters.db.repositories_audit import AuditLog
from giftcash.adapters.db.repositories_bank_hours import BankHours, Evidence
from giftcash.adapters.db.repositories_blocks import Blocks, CustomerNotes
from giftcash.adapters.db.repositories_bounds import BoundedCalls, Failures
from giftcash.adapters.db.repositories_cases import CaseFacts, Cases
from giftcash.adapters.db.repositories_catalogue import OperatorOverrides
from giftcash.adapters.db.repositories_claims import Claims
from giftcash.adapters.db.repositories_consents import Consents
from giftcash.adapters.db.repositories_customer_lookup import ConsoleSearch, CustomerLookup
from giftcash.adapters.db.repositories_customers import (
    BankAccounts,
    Challenges,
    Customers,
    IdempotencyKeys,
    OperatorAuth,
    Operators,
    Tokens,
)
from giftcash.adapters.db.repositories_identity import (
    DueDiligenceRecords,
    Identities,
    IdentityChecks,
)
from giftcash.adapters.db.repositories_inventory import Inventory
from giftcash.adapters.db.repositories_items import Items
from giftcash.adapters.db.repositories_keys import EncryptedColumns
from giftcash.adapters.db.repositories_notices import Notices
from giftcash.adapters.db.repositories_ops import Figures, Support, Workers
from giftcash.adapters.db.repositories_orders import Orders
from giftcash.adapters.db.repositories_payouts import AdminPayouts, Payouts
from giftcash.adapters.db.repositories_privacy import AccessLog, Retention
from giftcash.adapters.db.repositories_reconcile import Reconciliation
from giftcash.adapters.db.repositories_resale_reports import ResaleReports
from giftcash.adapters.db.repositories_review import ReviewQueue
from giftcash.adapters.db.repositories_stops import Stops
from giftcash.adapters.db.repositories_submissions import Submissions
from giftcash.adapters.db.repositories_webhooks import Webhooks
from giftcash.adapters.db.uow import SqlUnitOfWork


class AppUnitOfWork(SqlUnitOfWork):
    def __enter__(self) -> AppUnitOfWork:
        super().__enter__()
        conn = self.conn
        self.customers = Customers(conn)
        self.challenges = Challenges(conn)
        self.tokens = Tokens(conn)
        self.bank_accounts = BankAccounts(conn)
        self.idempotency = IdempotencyKeys(conn)
        self.submissions = Submissions(conn)
        self.items = Items(conn)
        self.payouts = Payouts(conn)
        self.webhooks = Webhooks(conn)
        self.workers = Workers(conn)
        self.failures = Failures(conn)
        self.operators = Operators(conn)
        # the operators' side (repositories_audit, _catalogue, _review, _payouts, _customers)
        self.audit = AuditLog(conn)
        self.overrides = OperatorOverrides(conn)
        self.review = ReviewQueue(conn)
        self.admin_payouts = AdminPayouts(conn)
        self.operator_auth = OperatorAuth(conn)
        # operations (repositories_reconcile.py, _ops.py, _keys.py)
        self.reconcile = Reconciliation(conn)
        self.figures = Figures(conn)
        self.encrypted = EncryptedColumns(conn)
        self.support = Support(conn)
        # suspicious-activity cases (repositories_cases.py)
        self.cases = Cases(conn)
        self.case_facts = CaseFacts(conn)
        # customers as the operators look them up, and the console's searches
        # (repositories_customer_lookup.py)
        self.customer_lookup = CustomerLookup(conn)
        self.console_search = ConsoleSearch(conn)
        # blocks and notes (repositories_blocks.py)
        self.blocks = Blocks(conn)
        self.customer_notes = CustomerNotes(conn)
        # bounds on foreign calls that cost money or trust (repositories_bounds.py)
        self.bounded = BoundedCalls(conn)
        # consents given at sign-up and when a version changed (repositories_consents.py)
        self.consents = Consents(conn)
        # the notices customers chose and the outbox of money events (repositories_notices.py)
        self.notices = Notices(conn)
        # banks' announced maintenance and the issuers' answers (repositories_bank_hours.py)
        self.bank_hours = BankHours(conn)
        self.evidence = Evidence(conn)
        # resale: the units of inventory (repositories_inventory.py)
        self.inventory = Inventory(conn)
        # resale, the buyer's side: orders and deposits (repositories_orders.py)
        self.orders = Orders(conn)
        self.claims = Claims(conn)  # buyers' claims on delivered units (_claims.py)
        self.resale_reports = ResaleReports(conn)  # the console's view (_resale_reports.py)
        # payment stops (repositories_stops.py)
        self.stops = Stops(conn)
        # verified persons and the verifications asked (repositories_identity.py)
        self.identity_checks = IdentityChecks(conn)
        self.identities = Identities(conn)
        self.due_diligence = DueDiligenceRecords(conn)
        # the retention schedule, withdrawal and the log of console views of personal data
        # (repositories_privacy.py)
        self.retention = Retention(conn)
        self.access_log = AccessLog(conn)
        return self

    def ping(self) -> None:
        self.conn.execute(text("SELECT 1"))

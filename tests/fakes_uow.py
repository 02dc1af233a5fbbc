"""A unit of work and repositories in memory (cosmicpython's ``FakeUnitOfWork``), so the
service layer's use cases run in unit tests without a database.

Each repository has exactly the methods the service layer calls on ``uow.<repo>`` today,
with the same arguments and answers (records, or row dicts where the real one answers
dicts). A ``FakeUnitOfWork`` works on a copy of the ``FakeDatabase``: ``commit`` publishes
the copy and counts the commit, leaving without one (or ``rollback``) drops it, as a real
transaction would; so a test can say "nothing was written" and "committed once".

What they do not pretend to be: concurrent. Row locks, ``SKIP LOCKED``, leases and the
isolation between two open units of work are the database's, and stay with the
integration, race and property tests over SQLite and PostgreSQL.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from fakes import FakeBank, FakeClock, FakeIdentity, FakeIssuer, FakeSms
from giftcash.audit import log as audit
from giftcash.domain import stops as stop_rules
from giftcash.domain.aml import Evidence
from giftcash.domain.bank_hours import Maintenance
from giftcash.domain.errors import TransferExists
from giftcash.domain.ledger import RECEIVABLE_PREFIX, Transfer, customer_account
from giftcash.domain.records import BankAccount, Customer, Item, Submission
from giftcash.domain.states import (
    ITEM_TERMINAL,
    PAYOUT_TERMINAL,
    BankAccountStatus,
    ClaimStatus,
    DepositStatus,
    ItemStatus,
    Moved,
    OrderStatus,
    PayoutStatus,
    UnitStatus,
    allows,
)
from giftcash.service.deps import Deps
from giftcash.service.ports import privacy as privacy_ports
from giftcash.service.ports import repositories as ports
from giftcash.service.ports.privacy import AccessEntry
from giftcash.service.ports.records import (
    AuditRecord,
    Block,
    BrandMargin,
    Claim,
    ClaimTally,
    ConsentGiven,
    DueDiligence,
    HeldSale,
    IdentityCheck,
    InventoryUnit,
    IssuerEvidence,
    NewItem,
    NoticeDue,
    Order,
    OrderDeposit,
    OrderTally,
    PayableGroup,
    PaymentStop,
    RegisteredBy,
    ReviewClaim,
    RowView,
    SealedCode,
    SellerDebt,
    StockLine,
    StopExposure,
    StopLink,
    StoredIdentity,
    Token,
)
from giftcash.service.ports.uow import UnitOfWork


@dataclass
class FakeDatabase:
    """The committed state: what a fresh unit of work starts from."""

    customers: dict[str, Customer] = field(default_factory=dict)
    bank_accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    submissions: dict[str, Submission] = field(default_factory=dict)
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    item_events: list[tuple[str, str | None, str]] = field(default_factory=list)
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)
    payouts: dict[str, dict[str, Any]] = field(default_factory=dict)
    transfers: dict[str, Transfer] = field(default_factory=dict)
    audit: list[AuditRecord] = field(default_factory=list)
    brand_overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    issuer_overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    rule_overrides: list[dict[str, Any]] = field(default_factory=list)
    blocks: dict[tuple[str, str], Block] = field(default_factory=dict)
    bounded_calls: list[dict[str, Any]] = field(default_factory=list)
    breaker_trips: list[dict[str, Any]] = field(default_factory=list)
    consents: list[ConsentGiven] = field(default_factory=list)
    notice_choices: dict[str, frozenset[str]] = field(default_factory=dict)
    notice_outbox: dict[tuple[str, str], str] = field(default_factory=dict)
    maintenance: dict[str, Maintenance] = field(default_factory=dict)
    evidence: list[IssuerEvidence] = field(default_factory=list)
    inventory: dict[str, InventoryUnit] = field(default_factory=dict)  # by item id
    unit_orders: dict[str, str] = field(default_factory=dict)  # unit id -> order id
    orders: dict[str, Order] = field(default_factory=dict)
    claims: dict[str, Claim] = field(default_factory=dict)  # by unit id
    order_deposits: list[OrderDeposit] = field(default_factory=list)
    payment_stops: dict[str, PaymentStop] = field(default_factory=dict)
    stop_links: list[StopLink] = field(default_factory=list)
    identity_checks: dict[str, IdentityCheck] = field(default_factory=dict)
    identities: dict[str, StoredIdentity] = field(default_factory=dict)
    due_diligence: dict[str, DueDiligence] = field(default_factory=dict)
    tokens: dict[str, tuple[str, str, datetime]] = field(default_factory=dict)
    last_active: dict[str, datetime] = field(default_factory=dict)
    access_log: list[AccessEntry] = field(default_factory=list)
    cases: dict[str, dict[str, Any]] = field(default_factory=dict)
    case_evidence: list[tuple[str, str, str, Evidence]] = field(default_factory=list)
    commits: int = 0


# -- repositories ---------------------------------------------------------------------------


def _missing(fake: str, name: str) -> Any:
    def method(self: object, *args: object, **kwargs: object) -> None:
        raise NotImplementedError(f"{fake} has no {name}: add it when a unit test needs it")

    return method


class _Repo:
    """Each fake subclasses its repository Protocol (``service/ports/repositories.py``),
    so mypy checks every method it has against the port (CI runs mypy on this file). A
    port method a fake lacks raises here rather than answer the Protocol stub's None."""

    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for base in cls.__mro__:
            if not getattr(base, "_is_protocol", False):
                continue
            for name, member in vars(base).items():
                if callable(member) and not name.startswith("_") and getattr(cls, name) is member:
                    setattr(cls, name, _missing(cls.__name__, name))

    @property
    def db(self) -> FakeDatabase:
        return self._uow.work


class FakeCustomers(_Repo, ports.CustomersRepo):
    def get(self, customer_id: str) -> Customer | None:
        return self.db.customers.get(customer_id)

    def by_phone(self, phone: str) -> Customer | None:
        return next((c for c in self.db.customers.values() if c.phone == phone), None)

    def add(
        self, id: str, phone: str, name: str, birth_date: date, password_hash: str, now: datetime
    ) -> None:
        assert self.by_phone(phone) is None, "phone is unique"
        self.db.customers[id] = Customer(
            id, phone, name, birth_date, password_hash, "active", None, now
        )

    def mark_verified(self, customer_id: str, now: datetime) -> None:
        c = self.db.customers[customer_id]
        self.db.customers[customer_id] = replace(c, phone_verified_at=now)

    def set_verified_name(self, customer_id: str, name: str, birth_date: date) -> None:
        c = self.db.customers[customer_id]
        self.db.customers[customer_id] = replace(c, name=name, birth_date=birth_date)


class FakeDueDiligence(_Repo, ports.DueDiligenceRepo):
    def get(self, customer_id: str) -> DueDiligence | None:
        return self.db.due_diligence.get(customer_id)

    def _row(self, customer_id: str) -> DueDiligence:
        empty = DueDiligence(customer_id, None, None, None, None, None, None)
        return self.db.due_diligence.get(customer_id, empty)

    def require(self, customer_id: str, by: str, reason: str, now: datetime) -> None:
        row = replace(self._row(customer_id), required_by=by, required_reason=reason)
        self.db.due_diligence[customer_id] = replace(row, required_at=now)

    def answer(self, customer_id: str, answers_enc: bytes, key_id: str, now: datetime) -> None:
        row = replace(self._row(customer_id), answers_enc=answers_enc, answers_key_id=key_id)
        self.db.due_diligence[customer_id] = replace(row, answered_at=now)


class FakeTokens(_Repo, ports.TokensRepo):
    def add(
        self,
        token_hash: str,
        subject_type: str,
        subject_id: str,
        expires_at: datetime,
        now: datetime,
    ) -> None:
        self.db.tokens[token_hash] = (subject_type, subject_id, expires_at)

    def get(self, token_hash: str) -> Token | None:
        row = self.db.tokens.get(token_hash)
        return Token(*row) if row else None


class FakeIdentityChecks(_Repo, ports.IdentityChecksRepo):
    def add(self, check: IdentityCheck) -> None:
        self.db.identity_checks[check.id] = check

    def get(self, check_id: str) -> IdentityCheck | None:
        return self.db.identity_checks.get(check_id)

    def _latest(self, match: Any) -> IdentityCheck | None:
        found = [c for c in self.db.identity_checks.values() if match(c)]
        return max(found, key=lambda c: (c.created_at, c.id)) if found else None

    def latest(self, phone: str, purpose: str) -> IdentityCheck | None:
        return self._latest(lambda c: c.phone == phone and c.purpose == purpose)

    def latest_for_customer(self, customer_id: str, purpose: str) -> IdentityCheck | None:
        return self._latest(lambda c: c.customer_id == customer_id and c.purpose == purpose)

    def set_transaction(self, check_id: str, transaction_id: str) -> None:
        c = self.db.identity_checks[check_id]
        if c.transaction_id is None:
            self.db.identity_checks[check_id] = replace(c, transaction_id=transaction_id)

    def finish(self, check_id: str, status: str, now: datetime) -> bool:
        c = self.db.identity_checks[check_id]
        if c.status != "started":
            return False
        self.db.identity_checks[check_id] = replace(c, status=status, password_hash=None)
        return True


class FakeIdentities(_Repo, ports.IdentitiesRepo):
    def add(self, identity: StoredIdentity) -> bool:
        taken = identity.customer_id in self.db.identities or self.by_ci(identity.ci_hmac)
        if taken:
            return False
        self.db.identities[identity.customer_id] = identity
        return True

    def by_ci(self, ci_hmac: str) -> StoredIdentity | None:
        return next((i for i in self.db.identities.values() if i.ci_hmac == ci_hmac), None)

    def for_customer(self, customer_id: str) -> StoredIdentity | None:
        return self.db.identities.get(customer_id)

    def mark_document_checked(self, customer_id: str, now: datetime) -> None:
        i = self.db.identities[customer_id]
        self.db.identities[customer_id] = replace(i, document_checked_at=now)


def _bank_account(row: dict[str, Any]) -> BankAccount:
    return BankAccount(
        id=row["id"],
        customer_id=row["customer_id"],
        bank_code=row["bank_code"],
        account_number_masked=row["account_number_masked"],
        holder_name=row["holder_name"],
        status=row["status"],
        verify_attempts=row["verify_attempts"],
        verify_bank_tran_id=row["verify_bank_tran_id"],
        created_at=row["created_at"],
        verified_at=row.get("verified_at"),
    )


class FakeBankAccounts(_Repo, ports.BankAccountsRepo):
    def add(self, *, id: str, now: datetime, **fields: Any) -> None:
        assert id not in self.db.bank_accounts
        self.db.bank_accounts[id] = {
            "id": id,
            **fields,
            "status": "verifying",
            "verify_attempts": 0,
            "created_at": now,
            "verified_at": None,
        }

    def get(self, account_id: str) -> BankAccount | None:
        row = self.db.bank_accounts.get(account_id)
        return _bank_account(row) if row else None

    def for_customer(self, customer_id: str) -> list[BankAccount]:
        rows = [r for r in self.db.bank_accounts.values() if r["customer_id"] == customer_id]
        return [_bank_account(r) for r in sorted(rows, key=lambda r: r["created_at"])]

    def number_hmac(self, account_id: str) -> str:
        return str(self.db.bank_accounts[account_id]["account_number_hmac"])

    def verify_code_hash(self, account_id: str) -> str:
        return str(self.db.bank_accounts[account_id]["verify_code_hash"])

    def count_attempt(self, account_id: str) -> None:
        self.db.bank_accounts[account_id]["verify_attempts"] += 1

    def transition(self, event: Moved[BankAccountStatus], now: datetime) -> bool:
        assert allows(event.source, event.target), event
        row = self.db.bank_accounts[event.id]
        if row["status"] != event.source.value:
            return False
        row["status"] = event.target.value
        if event.target is BankAccountStatus.VERIFIED:
            row.update(verified_at=now, verify_code_hash=None)
        return True


class FakeSubmissions(_Repo, ports.SubmissionsRepo):
    def add(
        self, id: str, customer_id: str, bank_account_id: str, item_count: int, now: datetime
    ) -> None:
        assert id not in self.db.submissions
        self.db.submissions[id] = Submission(
            id, customer_id, bank_account_id, "received", item_count, now
        )

    def get(self, submission_id: str) -> Submission | None:
        return self.db.submissions.get(submission_id)


ITEM_FIELDS = tuple(Item.__dataclass_fields__)


class FakeItems(_Repo, ports.ItemsRepo):
    def add_many(self, items: Sequence[NewItem], now: datetime) -> None:
        for it in items:
            r = asdict(it)
            assert r["id"] not in self.db.items
            stored = {k: r.get(k) for k in ITEM_FIELDS} | {
                "code_hmac": r["code_hmac"],
                "code_enc": r["code_enc"],
                "flags": r.get("flags"),
                "attempts": 0,
                "payout_id": None,
                "created_at": now,
                "updated_at": now,
                "reviewed_by": None,
                "reviewed_at": None,
                "review_note": None,
            }
            self.db.items[r["id"]] = stored
            self.db.item_events.append((r["id"], None, r["status"]))

    def get(self, item_id: str) -> Item | None:
        row = self.db.items.get(item_id)
        return Item(**{k: row[k] for k in ITEM_FIELDS}) if row else None

    def for_submission(self, submission_id: str) -> list[Item]:
        rows = [r for r in self.db.items.values() if r["submission_id"] == submission_id]
        return [Item(**{k: r[k] for k in ITEM_FIELDS}) for r in sorted(rows, key=lambda r: r["id"])]

    def count_paid(self, customer_id: str) -> int:
        return sum(
            1
            for r in self.db.items.values()
            if r["customer_id"] == customer_id and r["status"] == "paid"
        )

    def day_totals(
        self,
        *,
        since: datetime,
        customer_id: str | None = None,
        account_id: str | None = None,
        exclude_submission: str | None = None,
    ) -> tuple[int, int]:
        def counted(r: dict[str, Any]) -> bool:
            return (
                r["created_at"] >= since
                and r["status"] != "declined"
                and customer_id in (None, r["customer_id"])
                and account_id in (None, self.db.submissions[r["submission_id"]].bank_account_id)
                and r["submission_id"] != exclude_submission
            )

        faces = [r["face_value"] for r in self.db.items.values() if counted(r)]
        return len(faces), sum(faces)

    def sightings(self, hmacs: list[str]) -> dict[str, list[tuple[str, str | None]]]:
        wanted = set(hmacs)
        out: dict[str, list[tuple[str, str | None]]] = {}
        for r in self.db.items.values():
            if r["code_hmac"] in wanted:
                out.setdefault(r["code_hmac"], []).append((r["customer_id"], r["decline_code"]))
        return out

    def transition(
        self,
        events: Sequence[Moved[ItemStatus]],
        now: datetime,
        *,
        payout_id: str | None = None,
        clear_payout: bool = False,
    ) -> set[str]:
        moved = set()
        for e in events:
            assert allows(e.source, e.target), e
            r = self.db.items.get(e.id)
            if r is None or r["status"] != e.source.value:
                continue  # moved first by someone else: a lost race, reported
            r.update(status=e.target.value, updated_at=now)
            if payout_id is not None:
                r["payout_id"] = payout_id
            if clear_payout:
                r["payout_id"] = None
            self.db.item_events.append((r["id"], e.source.value, e.target.value))
            moved.add(e.id)
        return moved

    def ids_for_payout(self, payout_id: str) -> list[str]:
        return sorted(i for i, r in self.db.items.items() if r["payout_id"] == payout_id)

    def owners(self, item_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        return {
            i: (self.db.items[i]["customer_id"], self.db.items[i]["submission_id"])
            for i in item_ids
        }

    def payable_groups(self, now: datetime, limit: int) -> list[PayableGroup]:
        """The real query's filter and grouping (redeemed or stocked, not held, to a verified
        account; one group per customer, account and currency; at most ``limit``)."""
        groups: dict[tuple[str, str, str], PayableGroup] = {}
        for r in sorted(self.db.items.values(), key=lambda r: r["id"]):
            account_id = self.db.submissions[r["submission_id"]].bank_account_id
            if r["status"] not in ("redeemed", "stocked") or self.db.bank_accounts[account_id][
                "status"
            ] != ("verified"):
                continue
            if r["hold_until"] is not None and r["hold_until"] > now:
                continue
            if stopped(self.db, r):  # a payment stop holds it (the real query's filter)
                continue
            key = (r["customer_id"], account_id, r["currency"])
            g = groups.get(key)
            if g is None:
                if len(groups) >= limit:
                    continue
                g = PayableGroup(*key, [], 0)
            groups[key] = replace(g, item_ids=[*g.item_ids, r["id"]], amount=g.amount + r["payout"])
        return list(groups.values())


class FakeWebhooks(_Repo, ports.WebhooksRepo):
    """No customer of the in-memory world subscribes: nothing is queued."""

    def any_endpoint(self) -> bool:
        return False


class FakeCodes(_Repo, ports.CodeRegistryRepo):
    """The code registry: the first registrant of a code hash owns it."""

    def register_many(self, entries: Iterable[tuple[str, str, str]]) -> dict[str, RegisteredBy]:
        duplicates = []
        for code_hmac, item_id, customer_id in entries:
            if code_hmac in self.db.codes:
                duplicates.append(code_hmac)
            else:
                self.db.codes[code_hmac] = {"item_id": item_id, "customer_id": customer_id}
        # (the fake keeps no registration time; no use case reads it)
        return {h: RegisteredBy(h, **self.db.codes[h], created_at=_EPOCH) for h in duplicates}


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class FakeFailures(_Repo, ports.FailuresRepo):
    def add(
        self,
        kind: str,
        now: datetime,
        *,
        customer_id: str | None = None,
        device_key: str | None = None,
    ) -> None:
        self.db.failures.append(
            {"kind": kind, "at": now, "customer_id": customer_id, "device_key": device_key}
        )

    def count(
        self,
        *,
        since: datetime,
        customer_id: str | None = None,
        device_key: str | None = None,
        kinds: Sequence[str] | None = None,
    ) -> int:
        return sum(
            1
            for f in self.db.failures
            if f["at"] >= since
            and (kinds is None or f["kind"] in kinds)
            and customer_id in (None, f["customer_id"])
            and device_key in (None, f["device_key"])
        )


class FakePayouts(_Repo, ports.PayoutsRepo):
    def add(self, *, id: str, now: datetime, **fields: Any) -> None:
        assert id not in self.db.payouts
        self.db.payouts[id] = {"id": id, **fields, "status": "pending", "created_at": now}

    def transition(self, event: Moved[PayoutStatus], now: datetime) -> bool:
        assert allows(event.source, event.target), event
        row = self.db.payouts.get(event.id)
        if row is None or row["status"] != event.source.value:
            return False
        row["status"] = event.target.value
        return True


def _subject(db: FakeDatabase, item: dict[str, Any]) -> stop_rules.Subject:
    account_id = db.submissions[item["submission_id"]].bank_account_id
    account_hmac = db.bank_accounts.get(account_id, {}).get("account_number_hmac")
    return stop_rules.Subject(item["customer_id"], item["code_hmac"], account_hmac)


def _key(stop: PaymentStop) -> stop_rules.StopKey:
    key = stop.customer_id if stop.scope == "customer" else stop.subject_hmac
    assert key is not None
    return stop_rules.StopKey(stop_rules.StopScope(stop.scope), key)


def stopped(db: FakeDatabase, item: dict[str, Any]) -> bool:
    """Whether an active stop covers the item (``stop_filters.item_stopped`` in SQL)."""
    subject = _subject(db, item)
    return any(
        s.state == "active" and stop_rules.covers(_key(s), subject)
        for s in db.payment_stops.values()
    )


class FakeStops(_Repo, ports.StopsRepo):
    """Stops in memory; which items a stop covers is the domain's ``covers``. No leases
    here: nothing is ever leased in the fakes."""

    def add(self, stop: PaymentStop) -> None:
        assert stop.id not in self.db.payment_stops
        self.db.payment_stops[stop.id] = stop

    def get(self, stop_id: str) -> PaymentStop | None:
        return self.db.payment_stops.get(stop_id)

    def page(
        self, state: str | None, cursor: str | None, limit: int, *, requested_by: str | None
    ) -> list[PaymentStop]:
        rows = sorted(self.db.payment_stops.values(), key=lambda s: s.id, reverse=True)
        rows = [
            s
            for s in rows
            if state in (None, s.state)
            and requested_by in (None, s.requested_by)
            and (cursor is None or s.id < cursor)
        ]
        return rows[:limit]

    def active(self, limit: int) -> list[PaymentStop]:
        rows = sorted(self.db.payment_stops.values(), key=lambda s: s.id)
        return [s for s in rows if s.state == "active"][:limit]

    def close(
        self, stop_id: str, from_state: str, to_state: str, by: str, reason: str, now: datetime
    ) -> bool:
        stop = self.db.payment_stops[stop_id]
        if stop.state != from_state:
            return False
        self.db.payment_stops[stop_id] = replace(
            stop, state=to_state, closed_at=now, closed_by=by, close_reason=reason
        )
        return True

    def covered(
        self, stop: PaymentStop, now: datetime, *, unlinked_only: bool, limit: int
    ) -> list[StopExposure]:
        linked = {x.item_id for x in self.db.stop_links if x.stop_id == stop.id}
        out = []
        for r in sorted(self.db.items.values(), key=lambda r: r["id"]):
            if not stop_rules.covers(_key(stop), _subject(self.db, r)):
                continue
            if unlinked_only and r["id"] in linked:
                continue
            payout = self.db.payouts.get(r["payout_id"]) if r["payout_id"] else None
            out.append(
                StopExposure(
                    item_id=r["id"],
                    customer_id=r["customer_id"],
                    currency=r["currency"],
                    payout_won=r["payout"],
                    item_status=r["status"],
                    item_leased=False,
                    payout_id=r["payout_id"],
                    payout_status=payout["status"] if payout else None,
                    payout_leased=False,
                )
            )
        return out[:limit]

    def link(self, links: Sequence[StopLink]) -> None:
        self.db.stop_links.extend(links)

    def links(self, stop_id: str) -> list[StopLink]:
        return sorted(
            (x for x in self.db.stop_links if x.stop_id == stop_id), key=lambda x: x.item_id
        )

    def note_outcome(self, item_ids: Sequence[str], code: str, message: str) -> None:
        for item_id in item_ids:
            self.db.items[item_id].update(decline_code=code, decline_message=message)

    def held_sales(self, customer_id: str) -> list[HeldSale]:
        out = []
        for stop in sorted(self.db.payment_stops.values(), key=lambda s: s.created_at):
            if stop.state != "active":
                continue
            for r in sorted(self.db.items.values(), key=lambda r: r["id"]):
                closed = r["status"] in ("declined", "invalid", "failed", "paid", "withheld")
                if r["customer_id"] != customer_id or closed:
                    continue
                if stop_rules.covers(_key(stop), _subject(self.db, r)):
                    out.append(
                        HeldSale(
                            r["id"],
                            r["submission_id"],
                            stop.id,
                            stop.requester,
                            stop.requester_name,
                            stop.requester_contact,
                            stop.created_at,
                        )
                    )
        return out

    def make_due(self, item_ids: Sequence[str]) -> None:
        for item_id in item_ids:
            self.db.items[item_id]["next_attempt_at"] = None

    def payout_stopped(self, payout_id: str) -> bool:
        row = self.db.payouts[payout_id]
        items = [r for r in self.db.items.values() if r["payout_id"] == payout_id]
        by_customer = any(
            s.state == "active" and s.scope == "customer" and s.customer_id == row["customer_id"]
            for s in self.db.payment_stops.values()
        )
        return by_customer or any(stopped(self.db, r) for r in items)


class FakeLedger(_Repo, ports.LedgerRepo):
    def post(self, transfer: Transfer) -> bool:
        """``False`` for a replay; another transfer under a used id raises, as the real one."""
        earlier = self.db.transfers.get(transfer.id)
        if earlier is not None:
            if not earlier.same_content(transfer):
                raise TransferExists(f"transfer {transfer.id} exists with other content")
            return False
        self.db.transfers[transfer.id] = transfer
        return True

    def post_many(self, transfers: Sequence[Transfer]) -> list[bool]:
        return [self.post(x) for x in transfers]

    def balance(self, account: str, currency: str) -> int:
        return sum(
            p.amount
            for t in self.db.transfers.values()
            if t.currency == currency
            for p in t.postings
            if p.account == account
        )


class FakeOverrides(_Repo, ports.OperatorOverridesRepo):
    def brands(self) -> dict[str, RowView]:
        return {k: dict(v) for k, v in self.db.brand_overrides.items()}

    def issuers(self) -> dict[str, RowView]:
        return {k: dict(v) for k, v in self.db.issuer_overrides.items()}

    def rules(self) -> list[RowView]:
        return [dict(r) for r in self.db.rule_overrides]

    def version(self) -> tuple[object, int] | None:
        return None  # tests write the override dicts directly: never cached


class FakeReview(_Repo, ports.ReviewQueueRepo):
    def record_decision(
        self,
        item_id: str,
        *,
        by: str,
        at: datetime,
        note: str,
        decline: tuple[str, str] | None = None,
    ) -> None:
        row = self.db.items[item_id]
        row.update(reviewed_by=by, reviewed_at=at, review_note=note)
        if decline is not None:
            row["decline_code"], row["decline_message"] = decline


class FakeAudit(_Repo, ports.AuditLogRepo):
    """The hash chain as ``audit.check_chain`` verifies it."""

    def append(
        self,
        *,
        id: str,
        at: datetime,
        actor: str,
        action: str,
        subject: str | None,
        detail: dict[str, Any] | None,
    ) -> AuditRecord:
        seq, prev_hash = self.head()
        seq += 1
        sealed = audit.seal(
            prev_hash,
            seq=seq,
            id=id,
            at=at,
            actor=actor,
            action=action,
            subject=subject,
            detail=detail,
        )
        record = AuditRecord(
            seq,
            id,
            at,
            actor,
            action,
            subject,
            detail,
            prev_hash,
            sealed.hash,
            body_digest=sealed.body_digest,
            salt=sealed.salt,
        )
        self.db.audit.append(record)
        return record

    def head(self) -> tuple[int, str]:
        last = self.db.audit[-1] if self.db.audit else None
        return (last.seq, last.hash) if last else (0, audit.GENESIS_HASH)

    def all_in_order(self) -> Iterator[AuditRecord]:
        return iter(list(self.db.audit))


# -- the unit of work -------------------------------------------------------------------------


class FakeBlocks(_Repo, ports.BlocksRepo):
    """Blocks on customers and devices (identity/blocks.py), keyed (kind, subject)."""

    def get(self, kind: str, subject: str) -> Block | None:
        return self.db.blocks.get((kind, subject))

    def any_of(self, pairs: Sequence[tuple[str, str]]) -> Block | None:
        found = [self.db.blocks[p] for p in pairs if p in self.db.blocks]
        return found[0] if found else None

    def add(self, kind: str, subject: str, reason: str, by: str, now: datetime) -> None:
        self.db.blocks[(kind, subject)] = Block(kind, subject, reason, by, now)

    def remove(self, kind: str, subject: str) -> bool:
        return self.db.blocks.pop((kind, subject), None) is not None

    def for_subjects(self, kind: str, subjects: Sequence[str]) -> dict[str, Block]:
        return {s: self.db.blocks[(kind, s)] for s in subjects if (kind, s) in self.db.blocks}

    def revoke_customer_tokens(self, customer_id: str) -> int:
        return 0  # the in-memory world keeps no sessions


class FakeBoundedCalls(_Repo, ports.BoundedCallsRepo):
    """Calls of a bounded kind (abuse/bounds.py): rows with their keys, and trips."""

    def lock(self, kinds: Sequence[str]) -> None:
        pass  # one unit of work at a time here

    def _matching(
        self, kinds: Sequence[str], since: datetime, key: str | None, value: str
    ) -> list[dict[str, Any]]:
        return [
            c
            for c in self.db.bounded_calls
            if c["kind"] in kinds and c["at"] >= since and (key is None or c.get(key) == value)
        ]

    def count(self, kinds: Sequence[str], since: datetime, key: str | None, value: str) -> int:
        return len(self._matching(kinds, since, key, value))

    def nth_oldest(
        self, kinds: Sequence[str], since: datetime, key: str | None, value: str, n: int
    ) -> datetime | None:
        ats = sorted(c["at"] for c in self._matching(kinds, since, key, value))
        return ats[max(n, 0)] if len(ats) > max(n, 0) else None

    def add(self, id: str, kind: str, at: datetime, **keys: str | None) -> None:
        self.db.bounded_calls.append({"id": id, "kind": kind, "at": at, **keys})

    def tripped_until(self, provider: str, now: datetime) -> datetime | None:
        untils = [t["until"] for t in self.db.breaker_trips if t["provider"] == provider]
        live = [u for u in untils if u > now]
        return max(live) if live else None

    def trip(self, id: str, provider: str, now: datetime, until: datetime, calls: int) -> None:
        self.db.breaker_trips.append(
            {"id": id, "provider": provider, "tripped_at": now, "until": until, "calls": calls}
        )

    def usage(self, kinds: Sequence[str]) -> int:
        return sum(c["kind"] in kinds for c in self.db.bounded_calls)


class FakeConsents(_Repo, ports.ConsentsRepo):
    def add(self, id: str, given: ConsentGiven) -> None:
        self.db.consents.append(given)

    def latest(self, customer_id: str) -> dict[str, ConsentGiven]:
        return {g.document: g for g in self.db.consents if g.customer_id == customer_id}


class FakeNotices(_Repo, ports.NoticesRepo):
    """The customers' choices and the queued notices ((event, subject) -> customer); none
    is claimed (the delivery is tested on SQLite and PostgreSQL)."""

    def choice(self, customer_id: str) -> frozenset[str] | None:
        return self.db.notice_choices.get(customer_id)

    def choose(self, customer_id: str, events: frozenset[str], now: datetime) -> None:
        self.db.notice_choices[customer_id] = events

    def enqueue(self, events: Iterable[tuple[str, str, str]], now: datetime) -> None:
        for customer_id, event, subject_id in events:
            self.db.notice_outbox.setdefault((event, subject_id), customer_id)

    def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[NoticeDue]:
        return []

    def settle(self, notice_id: str, outcome: str, now: datetime) -> None:
        raise AssertionError("the fake queues no notice to settle")


class FakeBankHours(_Repo, ports.BankHoursRepo):
    def maintenance(self, ending_after: datetime) -> list[Maintenance]:
        found = [m for m in self.db.maintenance.values() if m.ends_at > ending_after]
        return sorted(found, key=lambda m: (m.starts_at, m.id))

    def add_maintenance(self, m: Maintenance, by: str, now: datetime) -> None:
        assert m.id not in self.db.maintenance
        self.db.maintenance[m.id] = m

    def remove_maintenance(self, maintenance_id: str) -> Maintenance | None:
        return self.db.maintenance.pop(maintenance_id, None)


class FakeEvidence(_Repo, ports.EvidenceRepo):
    def add_many(self, rows: Sequence[IssuerEvidence], now: datetime) -> None:
        self.db.evidence.extend(rows)

    def for_items(self, item_ids: Sequence[str]) -> dict[str, list[IssuerEvidence]]:
        out: dict[str, list[IssuerEvidence]] = {i: [] for i in item_ids}
        for e in sorted(self.db.evidence, key=lambda e: (e.answered_at, e.id)):
            if e.item_id in out:
                out[e.item_id].append(e)
        return out


class FakeInventory(_Repo, ports.InventoryRepo):
    def add_many(self, units: Sequence[InventoryUnit], now: datetime) -> None:
        for u in units:
            assert u.item_id not in self.db.inventory  # unique item id
            self.db.inventory[u.item_id] = u

    def for_items(self, item_ids: Sequence[str]) -> dict[str, InventoryUnit]:
        return {i: self.db.inventory[i] for i in item_ids if i in self.db.inventory}

    def in_status(self, status: str, limit: int = 500) -> list[InventoryUnit]:
        found = [u for u in self.db.inventory.values() if u.status == status]
        return sorted(found, key=lambda u: (u.created_at, u.id))[:limit]

    def stocked(self, brand_id: str, face_value: int, limit: int) -> list[InventoryUnit]:
        found = [
            u
            for u in self.db.inventory.values()
            if u.status == "stocked" and u.brand_id == brand_id and u.face_value == face_value
        ]
        far = datetime.max.replace(tzinfo=UTC)
        return sorted(found, key=lambda u: (u.expires_at or far, u.created_at, u.id))[:limit]

    def apply(
        self, events: Sequence[Moved[UnitStatus]], order_id: str | None, now: datetime
    ) -> list[str]:
        by_id = {u.id: u for u in self.db.inventory.values()}
        moved: list[str] = []
        for e in sorted(events, key=lambda e: e.id):
            u = by_id.get(e.id)
            if u is None or u.status != e.source.value:
                continue
            self.db.inventory[u.item_id] = replace(u, status=e.target.value)
            if order_id is None:
                self.db.unit_orders.pop(u.id, None)
            else:
                self.db.unit_orders[u.id] = order_id
            moved.append(e.id)
        return moved

    def of_order(self, order_id: str) -> list[InventoryUnit]:
        units = [u for u in self.db.inventory.values() if self.db.unit_orders.get(u.id) == order_id]
        return sorted(units, key=lambda u: u.id)

    def sealed(self, unit_ids: Sequence[str]) -> dict[str, SealedCode]:
        out = {}
        for u in self.db.inventory.values():
            if u.id not in unit_ids:
                continue
            item = self.db.items[u.item_id]
            out[u.id] = SealedCode(
                unit_id=u.id,
                item_id=u.item_id,
                seller_id=item["customer_id"],
                issuer=item["issuer"],
                masked_code=item["masked_code"],
                code_enc=item["code_enc"],
                pin_enc=item.get("pin_enc"),
                key_id=item.get("key_id") or "k1",
            )
        return out


class FakeCases(_Repo, ports.CasesRepo):
    """What opening a case and adding its evidence needs (the scan's and the console's
    reads are the SQL repository's, tested on the database)."""

    def active(self, active_key: str) -> RowView | None:
        found = [c for c in self.db.cases.values() if c["active_key"] == active_key]
        return found[0] if found else None

    def known_keys(self, kind: str, subject: str, keys: Sequence[str]) -> set[str]:
        return {e.key for _, k, s, e in self.db.case_evidence if (k, s) == (kind, subject)} & set(
            keys
        )

    def open(
        self,
        *,
        id: str,
        kind: str,
        subject: str,
        active_key: str,
        currency: str,
        summary: str,
        now: datetime,
    ) -> None:
        self.db.cases[id] = {
            "id": id,
            "kind": kind,
            "subject": subject,
            "status": "open",
            "active_key": active_key,
            "currency": currency,
            "summary": summary,
            "opened_at": now,
        }

    def add_evidence(
        self, case_id: str, kind: str, subject: str, evidence: Sequence[Evidence], now: datetime
    ) -> None:
        self.db.case_evidence += [(case_id, kind, subject, e) for e in evidence]

    def set_summary(self, case_id: str, summary: str) -> None:
        self.db.cases[case_id]["summary"] = summary


class FakeOrders(_Repo, ports.OrdersRepo):
    def add(self, order: Order, now: datetime) -> None:
        assert order.id not in self.db.orders
        assert all(
            o.virtual_account_key != order.virtual_account_key for o in self.db.orders.values()
        )
        self.db.orders[order.id] = order

    def get(self, order_id: str) -> Order | None:
        return self.db.orders.get(order_id)

    def set_virtual_account(
        self, order_id: str, account_id: str, account_number: str, now: datetime
    ) -> None:
        o = self.db.orders[order_id]
        self.db.orders[order_id] = replace(
            o, virtual_account_id=account_id, virtual_account_number=account_number
        )

    def apply(self, event: Moved[OrderStatus], now: datetime) -> bool:
        o = self.db.orders.get(event.id)
        if o is None or o.status != event.source.value:
            return False
        delivered = now if event.target is OrderStatus.DELIVERED else o.delivered_at
        self.db.orders[event.id] = replace(o, status=event.target.value, delivered_at=delivered)
        return True

    def ordered_won_since(self, customer_id: str, since: datetime) -> int:
        return sum(
            o.amount
            for o in self.db.orders.values()
            if o.customer_id == customer_id and o.created_at >= since and o.status != "expired"
        )

    def awaiting_payment(self, limit: int) -> list[Order]:
        found = [o for o in self.db.orders.values() if o.status == "awaiting_payment"]
        return sorted(found, key=lambda o: (o.deadline, o.id))[:limit]

    def of_customer(self, customer_id: str, limit: int, after: str | None = None) -> list[Order]:
        mine = [o for o in self.db.orders.values() if o.customer_id == customer_id]
        mine.sort(key=lambda o: (o.created_at, o.id), reverse=True)
        if after is not None:
            ids = [o.id for o in mine]
            mine = mine[ids.index(after) + 1 :] if after in ids else []
        return mine[:limit]

    def accounts_to_close(self, limit: int) -> list[Order]:
        found = [
            o
            for o in self.db.orders.values()
            if o.status in ("expired", "delivered", "refunded")
            and o.virtual_account_number is not None
            and o.account_closed_at is None
        ]
        return sorted(found, key=lambda o: (o.deadline, o.id))[:limit]

    def mark_account_closed(self, order_id: str, now: datetime) -> bool:
        o = self.db.orders.get(order_id)
        if o is None or o.account_closed_at is not None:
            return False
        self.db.orders[order_id] = replace(o, account_closed_at=now)
        return True

    def add_deposit(self, deposit: OrderDeposit, now: datetime) -> bool:
        if any(d.bank_deposit_id == deposit.bank_deposit_id for d in self.db.order_deposits):
            return False
        self.db.order_deposits.append(deposit)
        return True

    def deposits(self, order_id: str) -> list[OrderDeposit]:
        found = [d for d in self.db.order_deposits if d.order_id == order_id]
        return sorted(found, key=lambda d: (d.created_at, d.id))

    def apply_deposit(
        self,
        event: Moved[DepositStatus],
        now: datetime,
        return_reason: str | None = None,
        return_key: str | None = None,
    ) -> bool:
        for i, d in enumerate(self.db.order_deposits):
            if d.id == event.id and d.status == event.source.value:
                self.db.order_deposits[i] = replace(
                    d,
                    status=event.target.value,
                    return_reason=return_reason or d.return_reason,
                    return_key=return_key or d.return_key,
                )
                return True
        return False

    def returning(self, limit: int) -> list[OrderDeposit]:
        found = [d for d in self.db.order_deposits if d.status == "returning"]
        return sorted(found, key=lambda d: (d.created_at, d.id))[:limit]

    def mark_revealed(self, order_id: str, now: datetime) -> bool:
        o = self.db.orders.get(order_id)
        if o is None or o.codes_revealed_at is not None:
            return False
        self.db.orders[order_id] = replace(o, codes_revealed_at=now)
        return True

    def paid(self, limit: int) -> list[Order]:
        found = [o for o in self.db.orders.values() if o.status == "paid"]
        return sorted(found, key=lambda o: (o.created_at, o.id))[:limit]


class FakeClaims(_Repo, ports.ClaimsRepo):
    def add(self, claim: Claim, now: datetime) -> bool:
        if claim.unit_id in self.db.claims:
            return False
        self.db.claims[claim.unit_id] = claim
        return True

    def for_unit(self, unit_id: str) -> Claim | None:
        return self.db.claims.get(unit_id)

    def of_order(self, order_id: str) -> list[Claim]:
        found = [c for c in self.db.claims.values() if c.order_id == order_id]
        return sorted(found, key=lambda c: (c.created_at, c.id))

    def get(self, claim_id: str) -> Claim | None:
        return next((c for c in self.db.claims.values() if c.id == claim_id), None)

    def page(self, status: str | None, cursor: str | None, limit: int) -> list[Claim]:
        found = sorted(
            (c for c in self.db.claims.values() if status is None or c.status == status),
            key=lambda c: c.id,
        )
        return [c for c in found if cursor is None or c.id > cursor][:limit]

    def resolve(
        self,
        event: Moved[ClaimStatus],
        *,
        refund: str | None,
        payout_id: str | None,
        by: str,
        note: str,
        now: datetime,
    ) -> bool:
        c = self.get(event.id)
        if c is None or c.status != event.source.value or c.resolved_at is not None:
            return False
        self.db.claims[c.unit_id] = replace(
            c,
            status=event.target.value,
            refund=refund,
            payout_id=payout_id,
            resolved_by=by,
            resolved_at=now,
            resolution_note=note,
        )
        return True

    def to_repay(self, limit: int) -> list[Claim]:
        gone = ("returned", "rejected")

        def waiting(c: Claim) -> bool:
            if c.status != "refunded":
                return False
            if c.refund == "owed":
                return True
            payout = self.db.payouts.get(c.payout_id) if c.payout_id else None
            return c.refund == "payout" and payout is not None and payout["status"] in gone

        found = sorted(filter(waiting, self.db.claims.values()), key=lambda c: (c.created_at, c.id))
        return found[:limit]

    def set_refund(
        self,
        claim_id: str,
        *,
        was: tuple[str | None, str | None],
        refund: str,
        payout_id: str | None,
        now: datetime,
    ) -> bool:
        c = self.get(claim_id)
        if c is None or (c.refund, c.payout_id) != was:
            return False
        self.db.claims[c.unit_id] = replace(c, refund=refund, payout_id=payout_id)
        return True


class FakeRetention(_Repo, privacy_ports.RetentionRepo):
    """The customer's own acts (sign-in, withdrawal); the purge's candidates and
    destruction are SQL over many tables and are tested on SQLite and PostgreSQL."""

    def seen(self, customer_id: str, now: datetime) -> None:
        self.db.last_active[customer_id] = now

    def open_work(self, customer_id: str) -> tuple[int, int, int]:
        items = sum(
            1
            for r in self.db.items.values()
            if r["customer_id"] == customer_id and ItemStatus(r["status"]) not in ITEM_TERMINAL
        )
        payouts = sum(
            1
            for r in self.db.payouts.values()
            if r["customer_id"] == customer_id and PayoutStatus(r["status"]) not in PAYOUT_TERMINAL
        )
        owed = abs(self._uow.ledger.balance(customer_account(customer_id), "KRW"))
        return items, payouts, owed

    def stops_covering(self, customer_id: str) -> int:
        """As ``stop_filters``: the customer, one of its accounts, or one of its codes."""
        accounts = {
            a.get("account_number_hmac")
            for a in self.db.bank_accounts.values()
            if a.get("customer_id") == customer_id
        } - {None}
        codes = {r["code_hmac"] for r in self.db.items.values() if r["customer_id"] == customer_id}
        return sum(
            1
            for s in self.db.payment_stops.values()
            if s.state == "active"
            and (
                (s.scope == "customer" and s.customer_id == customer_id)
                or (s.scope == "account" and s.subject_hmac in accounts)
                or (s.scope == "code" and s.subject_hmac in codes)
            )
        )

    def withdraw(self, customer_id: str, now: datetime) -> bool:
        c = self.db.customers.get(customer_id)
        if c is None or c.status != "active":
            return False
        self.db.customers[customer_id] = replace(c, status="withdrawn")
        return True


class FakeAccessLog(_Repo, privacy_ports.AccessLogRepo):
    def add(self, entries: list[AccessEntry]) -> None:
        self.db.access_log.extend(entries)

    def page(
        self,
        *,
        customer_id: str | None,
        operator_id: str | None,
        before: tuple[datetime, str] | None,
        limit: int,
    ) -> list[AccessEntry]:
        rows = sorted(self.db.access_log, key=lambda e: (e.at, e.id), reverse=True)
        return [
            e
            for e in rows
            if customer_id in (None, e.customer_id)
            and operator_id in (None, e.operator_id)
            and (before is None or (e.at, e.id) < before)
        ][:limit]


class FakeResaleReports(_Repo, ports.ResaleReportsRepo):
    def stock(self, now: datetime) -> list[StockLine]:
        groups: dict[tuple[str, int, str], list[InventoryUnit]] = {}
        for u in self.db.inventory.values():
            if u.status in ("stocked", "reserved"):
                groups.setdefault((u.brand_id, u.face_value, u.status), []).append(u)

        def before(units: list[InventoryUnit], days: int) -> int:
            bound = now + timedelta(days=days)
            return sum(1 for u in units if u.expires_at is not None and u.expires_at < bound)

        return [
            StockLine(
                brand_id=brand,
                face_value=face,
                status=status,
                units=len(units),
                cost=sum(u.cost for u in units),
                expiring_30=before(units, 30),
                expiring_90=before(units, 90),
                no_expiry=sum(1 for u in units if u.expires_at is None),
                oldest=min(u.created_at for u in units),
            )
            for (brand, face, status), units in sorted(groups.items())
        ]

    def order_tallies(self) -> list[OrderTally]:
        tally: dict[str, tuple[int, int]] = {}
        for o in self.db.orders.values():
            n, amount = tally.get(o.status, (0, 0))
            tally[o.status] = (n + 1, amount + o.amount)
        return [OrderTally(s, n, a) for s, (n, a) in sorted(tally.items())]

    def not_kept(self, limit: int) -> list[OrderDeposit]:
        found = [d for d in self.db.order_deposits if d.status in ("returning", "returned")]
        found.sort(key=lambda d: d.id)
        found.sort(key=lambda d: d.created_at, reverse=True)
        return found[:limit]

    def margins(self) -> list[BrandMargin]:
        sold = [o for o in self.db.orders.values() if o.status == "delivered"]
        margins = []
        for brand in sorted({o.brand_id for o in sold}):
            ids = {o.id for o in sold if o.brand_id == brand}
            units = [
                u
                for u in self.db.inventory.values()
                if self.db.unit_orders.get(u.id) in ids and u.status != "withdrawn"
            ]
            revenue = sum(o.amount for o in sold if o.id in ids)
            margins.append(
                BrandMargin(brand, len(ids), len(units), revenue, sum(u.cost for u in units))
            )
        return margins

    def claim_tallies(self) -> list[ClaimTally]:
        tally: dict[str, tuple[int, int]] = {}
        for c in self.db.claims.values():
            n, amount = tally.get(c.status, (0, 0))
            tally[c.status] = (n + 1, amount + c.amount)
        return [ClaimTally(s, n, a) for s, (n, a) in sorted(tally.items())]

    def claims_in_review(self, limit: int) -> list[ReviewClaim]:
        found = sorted(
            (c for c in self.db.claims.values() if c.status == "review"),
            key=lambda c: (c.created_at, c.id),
        )
        out = []
        for c in found[:limit]:
            u = next(u for u in self.db.inventory.values() if u.id == c.unit_id)
            out.append(ReviewClaim(c, u.brand_id, u.face_value))
        return out

    def debts(self, limit: int) -> list[SellerDebt]:
        owed: dict[tuple[str, str], int] = {}
        for t in self.db.transfers.values():
            for p in t.postings:
                if p.account.startswith(RECEIVABLE_PREFIX):
                    key = (p.account.removeprefix(RECEIVABLE_PREFIX), t.currency)
                    owed[key] = owed.get(key, 0) + p.amount
        debts = []
        for (seller, currency), amount in owed.items():
            if amount > 0:
                claimed = [c.created_at for c in self.db.claims.values() if c.seller_id == seller]
                since = min(claimed, default=datetime(1970, 1, 1, tzinfo=UTC))
                debts.append(SellerDebt(seller, currency, amount, since))
        debts.sort(key=lambda d: (-d.owed, d.customer_id))
        return debts[:limit]


class FakeUnitOfWork:
    def __init__(self, database: FakeDatabase) -> None:
        self.database = database
        self.committed = False
        # ignore[abstract]: a fake has the port methods the unit tests reach; the rest
        # raise NotImplementedError (see ``_Repo``)
        self.customers = FakeCustomers(self)  # type: ignore[abstract]
        self.bank_accounts = FakeBankAccounts(self)  # type: ignore[abstract]
        self.submissions = FakeSubmissions(self)  # type: ignore[abstract]
        self.items = FakeItems(self)  # type: ignore[abstract]
        self.codes = FakeCodes(self)
        self.failures = FakeFailures(self)
        self.payouts = FakePayouts(self)  # type: ignore[abstract]
        self.ledger = FakeLedger(self)
        self.overrides = FakeOverrides(self)  # type: ignore[abstract]
        self.review = FakeReview(self)  # type: ignore[abstract]
        self.audit = FakeAudit(self)  # type: ignore[abstract]
        self.bounded = FakeBoundedCalls(self)
        self.webhooks = FakeWebhooks(self)  # type: ignore[abstract]
        self.blocks = FakeBlocks(self)
        self.consents = FakeConsents(self)
        self.notices = FakeNotices(self)
        self.bank_hours = FakeBankHours(self)
        self.evidence = FakeEvidence(self)
        self.inventory = FakeInventory(self)
        self.orders = FakeOrders(self)
        self.claims = FakeClaims(self)
        self.resale_reports = FakeResaleReports(self)
        self.cases = FakeCases(self)  # type: ignore[abstract]
        self.stops = FakeStops(self)  # type: ignore[abstract]
        self.tokens = FakeTokens(self)  # type: ignore[abstract]
        self.identity_checks = FakeIdentityChecks(self)
        self.identities = FakeIdentities(self)
        self.due_diligence = FakeDueDiligence(self)
        self.retention = FakeRetention(self)  # type: ignore[abstract]
        self.access_log = FakeAccessLog(self)

    def __enter__(self) -> FakeUnitOfWork:
        self.work = copy.deepcopy(self.database)
        return self

    def __exit__(self, *exc: object) -> None:
        self.rollback()

    def commit(self) -> None:
        self.work.commits = self.database.commits + 1
        self.database.__dict__.update(copy.deepcopy(self.work).__dict__)
        self.committed = True

    def rollback(self) -> None:
        self.work = copy.deepcopy(self.database)


# -- a world to drive use cases in -------------------------------------------------------------


class FakeVault:
    """Reversible and keyed enough for tests: what goes in is not what is stored."""

    def encrypt(self, plaintext: str, aad: str) -> tuple[bytes, str]:
        return f"{aad}|{plaintext}".encode()[::-1], "k1"

    def encrypt_many(self, items: Sequence[tuple[str, str]]) -> tuple[list[bytes], str]:
        return [self.encrypt(plaintext, aad)[0] for plaintext, aad in items], "k1"

    def decrypt(self, blob: bytes, key_id: str, aad: str) -> str:
        stored_aad, _, plaintext = blob[::-1].decode().partition("|")
        assert stored_aad == aad and key_id == "k1"
        return plaintext

    def hmac(self, normalised_code: str) -> str:
        return hashlib.sha256(b"test-key:" + normalised_code.encode()).hexdigest()


class PlainPasswords:
    def hash(self, password: str) -> str:
        return "plain:" + password

    def verify(self, password_hash: str, password: str) -> bool:
        return password_hash == "plain:" + password


@dataclass
class FakeWorld:
    """The service's ``Deps`` over the fakes, and the fakes themselves to look into."""

    db: FakeDatabase = field(default_factory=FakeDatabase)
    issuer: FakeIssuer = field(default_factory=FakeIssuer)
    bank: FakeBank = field(default_factory=FakeBank)
    sms: FakeSms = field(default_factory=FakeSms)
    clock: FakeClock = field(default_factory=FakeClock)
    identity: FakeIdentity | None = None  # None: sign-up proves the phone by SMS

    def __post_init__(self) -> None:
        ids = itertools.count(1)
        tran_ids = itertools.count(1)
        self.deps = Deps(
            # FakeUnitOfWork carries the repositories the unit tests use, not all 26
            uow=lambda: cast(UnitOfWork, FakeUnitOfWork(self.db)),
            vault=FakeVault(),
            passwords=PlainPasswords(),
            issuer=self.issuer,
            bank=self.bank,
            sms=self.sms,
            clock=self.clock,
            new_id=lambda: f"id-{next(ids):04d}",
            new_bank_tran_id=lambda: f"M202600001U{next(tran_ids):09d}",
            identity=self.identity,
        )

    def customer(
        self,
        id: str = "c-1",
        *,
        name: str = "김민지",
        birth_date: date = date(1990, 5, 17),
        phone_verified: bool = True,
        since: datetime | None = None,
    ) -> Customer:
        now = since or self.clock.now()
        c = Customer(
            id=id,
            phone=f"010-0000-{len(self.db.customers) + 1:04d}",
            name=name,
            birth_date=birth_date,
            password_hash="plain:pw",
            status="active",
            phone_verified_at=now if phone_verified else None,
            created_at=now,
        )
        self.db.customers[id] = c
        return c

    def bank_account(
        self,
        customer_id: str = "c-1",
        id: str = "a-1",
        *,
        status: str = "verified",
        verify_code_hash: str | None = None,
    ) -> str:
        self.db.bank_accounts[id] = {
            "id": id,
            "customer_id": customer_id,
            "bank_code": "004",
            "account_number_masked": "******1234",
            "holder_name": self.db.customers[customer_id].name,
            "status": status,
            "verify_attempts": 0,
            "verify_bank_tran_id": "M202600001U000000001",
            "verify_code_hash": verify_code_hash,
            "created_at": self.clock.now(),
            "verified_at": self.clock.now() if status == "verified" else None,
        }
        return id

    def submission(self, customer_id: str = "c-1", account_id: str = "a-1", id: str = "s-1") -> str:
        self.db.submissions[id] = Submission(
            id, customer_id, account_id, "received", 0, self.clock.now()
        )
        return id

    def item(
        self,
        id: str,
        status: str,
        *,
        submission_id: str = "s-1",
        payout: int = 9_000,
        hold_until: datetime | None = None,
        currency: str = "KRW",
    ) -> str:
        """An item as a committed row, as intake and the pipeline would have left it."""
        sub = self.db.submissions[submission_id]
        now = self.clock.now()
        self.db.items[id] = {
            "id": id,
            "submission_id": submission_id,
            "customer_id": sub.customer_id,
            "brand_id": "cultureland",
            "issuer": "cultureland",
            "currency": currency,
            "face_value": payout * 10 // 9,
            "fee": payout * 10 // 9 - payout,
            "payout": payout,
            "funding_source": "cash",
            "status": status,
            "masked_code": "************0123",
            "decline_code": None,
            "decline_message": None,
            "payout_id": None,
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
            "warning": None,
            "hold_until": hold_until,
            "decision": None,
            "review_reason": "scam_review: a large first sale" if status == "review" else None,
            "code_hmac": f"hmac-{id}",
            "code_enc": b"",
            "flags": None,
            "reviewed_by": None,
            "reviewed_at": None,
            "review_note": None,
        }
        return id

"""The retention schedule's storage (candidates, pseudonymisation, destruction, old
records), the customer's withdrawal, and the log of console views of personal data."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    tuple_,
    update,
)

from giftcash.adapters.db import tables as t
from giftcash.domain import ledger as L
from giftcash.domain.retention import CustomerFacts, Stage
from giftcash.domain.states import ITEM_TERMINAL, PAYOUT_TERMINAL
from giftcash.service.ports.privacy import AccessEntry, Erased, SentNotice


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


DESTROYED_KEY_ID = "destroyed"  # repositories_keys.py never re-encrypts these
PSEUDONYMOUS_BIRTH_DATE = date(1900, 1, 1)  # the column is NOT NULL; no one is this old
UNUSABLE_PASSWORD_HASH = "!"  # noqa: S105 - no hasher makes it: no password verifies
OPEN_CASES = ("open", "under_review")
ACTIVE_STOP = "active"


class Retention:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- the schedule's facts ------------------------------------------------------------

    def candidates(
        self, *, after_id: str | None, limit: int, inactive_before: datetime
    ) -> list[CustomerFacts]:
        c, a = t.customers.c, t.bank_accounts.c
        seen = func.coalesce(c.last_active_at, c.created_at)
        q = select(c.id, c.status, c.created_at, c.last_active_at, c.withdrawn_at).where(
            or_(
                c.status == Stage.WITHDRAWN.value,
                and_(c.status == Stage.ACTIVE.value, seen < inactive_before),
                and_(
                    c.status == Stage.PSEUDONYMISED.value,
                    c.id.in_(select(a.customer_id).where(a.destroyed_at.is_(None))),
                ),
            )
        )
        if after_id is not None:
            q = q.where(c.id > after_id)
        rows = self.conn.execute(q.order_by(c.id).limit(limit)).all()
        ids = [r.id for r in rows]
        if not ids:
            return []
        last_sale = self._grouped(
            select(t.submissions.c.customer_id, func.max(t.submissions.c.created_at))
            .where(t.submissions.c.customer_id.in_(ids))
            .group_by(t.submissions.c.customer_id)
        )
        left = self._grouped(
            select(a.customer_id, func.count())
            .where(a.customer_id.in_(ids), a.destroyed_at.is_(None))
            .group_by(a.customer_id)
        )
        i, p = t.items.c, t.payouts.c
        items = self._grouped(
            select(i.customer_id, func.count())
            .where(i.customer_id.in_(ids), i.status.not_in([s.value for s in ITEM_TERMINAL]))
            .group_by(i.customer_id)
        )
        payouts = self._grouped(
            select(p.customer_id, func.count())
            .where(p.customer_id.in_(ids), p.status.not_in([s.value for s in PAYOUT_TERMINAL]))
            .group_by(p.customer_id)
        )
        owed = self._owed(ids)
        cases = self._open_cases(set(ids))
        stops = self._stops(ids)
        out = []
        for r in rows:
            seen_at = max(
                x for x in (r.created_at, r.last_active_at, last_sale.get(r.id)) if x is not None
            )
            out.append(
                CustomerFacts(
                    customer_id=r.id,
                    stage=Stage(r.status),
                    withdrawn_at=r.withdrawn_at,
                    last_active_at=seen_at,
                    accounts_left=int(left.get(r.id, 0)),
                    open_items=int(items.get(r.id, 0)),
                    open_payouts=int(payouts.get(r.id, 0)),
                    owed_won=owed.get(r.id, 0),
                    open_cases=cases.get(r.id, 0),
                    active_stops=stops.get(r.id, 0),
                )
            )
        return out

    def _grouped(self, q: Any) -> dict[str, Any]:
        return {k: v for k, v in self.conn.execute(q).all()}

    def _owed(self, ids: list[str]) -> dict[str, int]:
        """Won owed to each customer (liability) plus won they owe us (receivable)."""
        la = t.ledger_accounts.c
        paths = {L.customer_account(i): i for i in ids} | {L.receivable_account(i): i for i in ids}
        out: dict[str, int] = {}
        for path, balance in self.conn.execute(
            select(la.path, la.balance).where(la.path.in_(list(paths)), la.balance != 0)
        ):
            out[paths[path]] = out.get(paths[path], 0) + abs(int(balance))
        return out

    def _open_cases(self, ids: set[str]) -> dict[str, int]:
        cs = t.aml_cases.c
        out: dict[str, int] = {}
        for (named,) in self.conn.execute(select(cs.customer_ids).where(cs.status.in_(OPEN_CASES))):
            for cid in set(named or ()) & ids:
                out[cid] = out.get(cid, 0) + 1
        return out

    def _stops(self, ids: list[str]) -> dict[str, int]:
        """Active payment stops covering each customer, as ``stop_filters`` decides
        coverage: the customer itself, the keyed hash of one of its bank accounts (a
        destroyed account has none), or the keyed hash of one of its items' codes."""
        s, a, i = t.payment_stops.c, t.bank_accounts.c, t.items.c
        active = s.state == ACTIVE_STOP
        pairs: set[tuple[str, str]] = set()
        for q in (
            select(s.customer_id, s.id).where(
                active, s.scope == "customer", s.customer_id.in_(ids)
            ),
            select(a.customer_id, s.id)
            .join(t.bank_accounts, a.account_number_hmac == s.subject_hmac)
            .where(active, s.scope == "account", a.customer_id.in_(ids)),
            select(i.customer_id, s.id)
            .join(t.items, i.code_hmac == s.subject_hmac)
            .where(active, s.scope == "code", i.customer_id.in_(ids)),
        ):
            pairs.update((r[0], r[1]) for r in self.conn.execute(q))
        out: dict[str, int] = {}
        for cid, _ in pairs:
            out[cid] = out.get(cid, 0) + 1
        return out

    def _stop_covers(self, customer_id: str) -> Any:
        """The condition that an active stop covers the customer (as ``_stops``)."""
        s, a, i = t.payment_stops.c, t.bank_accounts.c, t.items.c
        account = select(a.id).where(
            a.customer_id == customer_id, a.account_number_hmac == s.subject_hmac
        )
        code = select(i.id).where(i.customer_id == customer_id, i.code_hmac == s.subject_hmac)
        return exists(
            select(s.id).where(
                s.state == ACTIVE_STOP,
                or_(
                    and_(s.scope == "customer", s.customer_id == customer_id),
                    and_(s.scope == "account", exists(account)),
                    and_(s.scope == "code", exists(code)),
                ),
            )
        )

    def stops_covering(self, customer_id: str) -> int:
        return self._stops([customer_id]).get(customer_id, 0)

    def open_work(self, customer_id: str) -> tuple[int, int, int]:
        i, p = t.items.c, t.payouts.c
        items = self.conn.execute(
            select(func.count()).where(
                i.customer_id == customer_id, i.status.not_in([s.value for s in ITEM_TERMINAL])
            )
        ).scalar_one()
        payouts = self.conn.execute(
            select(func.count()).where(
                p.customer_id == customer_id, p.status.not_in([s.value for s in PAYOUT_TERMINAL])
            )
        ).scalar_one()
        return int(items), int(payouts), self._owed([customer_id]).get(customer_id, 0)

    # -- destruction -----------------------------------------------------------------------

    def _destroy(self, *where: Any, now: datetime) -> int:
        a = t.bank_accounts.c
        return int(
            self.conn.execute(
                update(t.bank_accounts)
                .where(a.destroyed_at.is_(None), *where)
                .values(
                    account_number_enc=b"",
                    account_key_id=DESTROYED_KEY_ID,
                    account_number_hmac=None,
                    account_number_masked="",
                    holder_name="",
                    verify_code_hash=None,
                    destroyed_at=now,
                )
            ).rowcount
        )

    def pseudonymise(
        self, customer_id: str, pseudonym: str, now: datetime, *, seen_by: datetime
    ) -> Erased:
        c, a = t.customers.c, t.bank_accounts.c
        row = self.conn.execute(select(c.phone).where(c.id == customer_id)).one()
        moved = self.conn.execute(
            update(t.customers)
            .where(
                c.id == customer_id,
                c.status != Stage.PSEUDONYMISED.value,
                or_(c.last_active_at.is_(None), c.last_active_at <= seen_by),
                ~self._stop_covers(customer_id),  # a stop filed since the plan was made
            )
            .values(
                phone=pseudonym,
                name="",
                birth_date=PSEUDONYMOUS_BIRTH_DATE,
                password_hash=UNUSABLE_PASSWORD_HASH,
                status=Stage.PSEUDONYMISED.value,
                pseudonymised_at=now,
            )
        ).rowcount
        if not moved:
            return Erased()
        paid_to = select(t.payouts.c.bank_account_id).where(t.payouts.c.customer_id == customer_id)
        # the accounts of sales a payment stop recorded are part of its tracing chain (a
        # transaction record): kept, masked, until the transaction records go
        sub, it, lk = t.submissions.c, t.items.c, t.payment_stop_links.c
        traced = (
            select(sub.bank_account_id)
            .join(t.items, it.submission_id == sub.id)
            .join(t.payment_stop_links, lk.item_id == it.id)
            .where(it.customer_id == customer_id)
        )
        accounts = self._destroy(
            a.customer_id == customer_id, a.id.not_in(paid_to), a.id.not_in(traced), now=now
        )
        identity = self._erase_identity(customer_id, row.phone, now)
        endpoints = select(t.webhook_endpoints.c.id).where(
            t.webhook_endpoints.c.customer_id == customer_id
        )
        self.conn.execute(
            delete(t.webhook_outbox).where(t.webhook_outbox.c.endpoint_id.in_(endpoints))
        )
        return identity + Erased(
            customers_pseudonymised=1,
            bank_accounts_destroyed=accounts,
            consents_deleted=self._delete(t.customer_consents, customer_id),
            notes_deleted=self._delete(t.customer_notes, customer_id),
            blocks_deleted=int(
                self.conn.execute(
                    delete(t.blocks).where(
                        t.blocks.c.kind == "customer", t.blocks.c.subject == customer_id
                    )
                ).rowcount
            ),
            notice_choices_deleted=self._delete(t.notice_choices, customer_id),
            notices_deleted=self._delete(t.notice_outbox, customer_id),
            webhooks_deleted=self._delete(t.webhook_endpoints, customer_id),
            sessions_deleted=int(
                self.conn.execute(
                    delete(t.access_tokens).where(
                        t.access_tokens.c.subject_type == "customer",
                        t.access_tokens.c.subject_id == customer_id,
                    )
                ).rowcount
            ),
            sms_challenges_deleted=int(
                self.conn.execute(
                    delete(t.sms_challenges).where(t.sms_challenges.c.phone == row.phone)
                ).rowcount
            ),
        )

    def _erase_identity(self, customer_id: str, phone: str, now: datetime) -> Erased:
        """The identity part's personal data: the verified person (the CI's keyed hash,
        the sealed DI and details), the bounds counted by that person, the identity
        verifications of the customer or of its phone (a sign-up in progress by someone
        else on the number now is left alone), the due-diligence answers."""
        ident, ic, b = t.customer_identities.c, t.identity_checks.c, t.bounded_calls.c
        ci = self.conn.execute(
            select(ident.ci_hmac).where(ident.customer_id == customer_id)
        ).scalar_one_or_none()
        bounded = 0
        if ci is not None:
            bounded = int(
                self.conn.execute(delete(t.bounded_calls).where(b.person == f"ci:{ci}")).rowcount
            )
        checks = self.conn.execute(
            delete(t.identity_checks).where(
                or_(
                    ic.customer_id == customer_id,
                    and_(
                        ic.phone == phone,
                        or_(ic.status != "started", ic.expires_at <= now),
                    ),
                )
            )
        ).rowcount
        return Erased(
            identities_deleted=self._delete(t.customer_identities, customer_id),
            identity_checks_deleted=int(checks),
            due_diligence_deleted=self._delete(t.customer_due_diligence, customer_id),
            bounded_calls_deleted=bounded,
        )

    def _delete(self, table: Any, customer_id: str) -> int:
        return int(
            self.conn.execute(delete(table).where(table.c.customer_id == customer_id)).rowcount
        )

    def close_transactions(self, customer_id: str, now: datetime) -> Erased:
        a, i = t.bank_accounts.c, t.items.c
        notes = self.conn.execute(
            update(t.items)
            .where(i.customer_id == customer_id, i.review_note.is_not(None))
            .values(review_note=None)
        ).rowcount
        return Erased(
            bank_accounts_destroyed=self._destroy(a.customer_id == customer_id, now=now),
            item_notes_erased=int(notes),
        )

    def delete_old_records(
        self,
        *,
        auth_before: datetime,
        access_before: datetime,
        statements_before: date,
        limit: int,
    ) -> Erased:
        def old(table: Any, key: Any, at: Any, before: datetime) -> int:
            doomed = select(key).where(at < before).order_by(at).limit(limit)
            keys = [r[0] for r in self.conn.execute(doomed)]
            if not keys:
                return 0
            return int(self.conn.execute(delete(table).where(key.in_(keys))).rowcount)

        s, f, b = t.sms_challenges.c, t.failed_attempts.c, t.bounded_calls.c
        tok, acc = t.access_tokens.c, t.personal_data_access.c
        idem = t.idempotency_keys.c
        idem_keys = [
            (r.scope, r.key)
            for r in self.conn.execute(
                select(idem.scope, idem.key)
                .where(idem.created_at < auth_before)
                .order_by(idem.created_at)
                .limit(limit)
            )
        ]
        idem_deleted = 0
        if idem_keys:
            idem_deleted = int(
                self.conn.execute(
                    delete(t.idempotency_keys).where(tuple_(idem.scope, idem.key).in_(idem_keys))
                ).rowcount
            )
        return Erased(
            statement_counterparties_erased=self._erase_counterparties(statements_before, limit),
            deposit_payers_erased=self._erase_deposit_payers(statements_before, limit),
            claim_words_erased=self._erase_claim_words(statements_before, limit),
            sms_challenges_deleted=old(t.sms_challenges, s.id, s.expires_at, auth_before),
            failed_attempts_deleted=old(t.failed_attempts, f.id, f.at, auth_before),
            bounded_calls_deleted=old(t.bounded_calls, b.id, b.at, auth_before),
            sessions_deleted=old(t.access_tokens, tok.token_hash, tok.expires_at, auth_before),
            idempotency_keys_deleted=idem_deleted,
            access_log_deleted=old(t.personal_data_access, acc.id, acc.at, access_before),
        )

    def _erase_counterparties(self, before: date, limit: int) -> int:
        b = t.bank_statement_lines.c
        keys = [
            (r.bank_tran_id, r.direction)
            for r in self.conn.execute(
                select(b.bank_tran_id, b.direction)
                .where(b.booked_on < before, b.counterparty.is_not(None))
                .order_by(b.booked_on)
                .limit(limit)
            )
        ]
        if not keys:
            return 0
        return int(
            self.conn.execute(
                update(t.bank_statement_lines)
                .where(tuple_(b.bank_tran_id, b.direction).in_(keys))
                .values(counterparty=None)
            ).rowcount
        )

    def _erase_deposit_payers(self, before: date, limit: int) -> int:
        d = t.order_deposits.c
        return self._erase_words(
            t.order_deposits, d.received_at, d.payer_name.is_not(None), before, limit,
            payer_name=None,
        )  # fmt: skip

    def _erase_claim_words(self, before: date, limit: int) -> int:
        c = t.claims.c
        worded = or_(c.reason.is_not(None), c.resolution_note.is_not(None))
        return self._erase_words(
            t.claims, c.created_at, worded, before, limit, reason=None, resolution_note=None
        )

    def _erase_words(
        self, table: Any, at: Any, kept: Any, before: date, limit: int, **erased: None
    ) -> int:
        """``erased`` columns emptied in at most ``limit`` rows of ``table`` from before
        ``before`` (by ``at``) that still hold something (``kept``), oldest first."""
        ids = select(table.c.id).where(at < _start_of(before), kept).order_by(at).limit(limit)
        keys = list(self.conn.scalars(ids))
        if not keys:
            return 0
        done = update(table).where(table.c.id.in_(keys)).values(**erased)
        return int(self.conn.execute(done).rowcount)

    # -- the customer's own acts -----------------------------------------------------------

    def withdraw(self, customer_id: str, now: datetime) -> bool:
        c = t.customers.c
        return bool(
            self.conn.execute(
                update(t.customers)
                .where(c.id == customer_id, c.status == Stage.ACTIVE.value)
                .values(status=Stage.WITHDRAWN.value, withdrawn_at=now)
            ).rowcount
        )

    def seen(self, customer_id: str, now: datetime) -> None:
        c = t.customers.c
        self.conn.execute(update(t.customers).where(c.id == customer_id).values(last_active_at=now))

    def notices_of(self, customer_id: str, limit: int) -> list[SentNotice]:
        n = t.notice_outbox.c
        rows = self.conn.execute(
            select(n.event, n.subject_id, n.outcome, n.created_at, n.settled_at)
            .where(n.customer_id == customer_id)
            .order_by(n.created_at.desc(), n.id.desc())
            .limit(limit)
        )
        return [
            SentNotice(r.event, r.subject_id, r.outcome, r.created_at, r.settled_at) for r in rows
        ]


class AccessLog:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, entries: list[AccessEntry]) -> None:
        if entries:
            self.conn.execute(
                insert(t.personal_data_access),
                [
                    {
                        "id": e.id,
                        "view_id": e.view_id,
                        "at": e.at,
                        "operator_id": e.operator_id,
                        "role": e.role,
                        "page": e.page,
                        "subject": e.subject,
                        "customer_id": e.customer_id,
                        "fields": e.fields,
                    }
                    for e in entries
                ],
            )

    def page(
        self,
        *,
        customer_id: str | None,
        operator_id: str | None,
        before: tuple[datetime, str] | None,
        limit: int,
    ) -> list[AccessEntry]:
        c = t.personal_data_access.c
        q = select(t.personal_data_access)
        if customer_id is not None:
            q = q.where(c.customer_id == customer_id)
        if operator_id is not None:
            q = q.where(c.operator_id == operator_id)
        if before is not None:
            at, id_ = before
            q = q.where(or_(c.at < at, and_(c.at == at, c.id < id_)))
        rows = self.conn.execute(q.order_by(c.at.desc(), c.id.desc()).limit(limit))
        return [
            AccessEntry(
                r.id,
                r.view_id,
                r.at,
                r.operator_id,
                r.role,
                r.page,
                r.subject,
                r.customer_id,
                r.fields,
            )
            for r in rows
        ]

"""The customer's own data, as one document they download from the account page
(개인정보보호법 §35, access by the data subject): profile, consents, bank accounts (the
number masked: the full number is not needed to recognise one's own account and a
download is a file that travels), sales with their items, payouts, notices, and their
due diligence: the verification level (tier), the verified identity's details and the
enhanced-due-diligence answers they gave. Not in it: the CI and DI (identifiers the
provider made for matching, meaningless to the person and a key to them elsewhere) and
an operator's reason for asking for EDD (staff's AML assessment; it may name a
suspicious-activity case, which must not be disclosed: 특정금융정보법 §4⑥); that EDD was
asked is in it, as the account page shows it.

Typed records; the web page writes them as JSON (``dataclasses.asdict``, times in ISO
8601). Bounded: at most ``MAX_ROWS`` sales and payouts each; a customer with more is
told so in the document (``truncated``) and asks support for the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from giftcash.identity import tiers, verification
from giftcash.service import errors
from giftcash.service.deps import Deps
from giftcash.service.ports.uow import UnitOfWork

MAX_ROWS = 10_000
PAGE = 500
FORMAT = "giftcash.own-data.v1"


@dataclass(frozen=True, slots=True)
class Profile:
    customer_id: str
    name: str
    phone: str
    birth_date: date
    status: str
    signed_up_at: datetime
    phone_verified_at: datetime | None


@dataclass(frozen=True, slots=True)
class ConsentAnswer:
    document: str
    version: str
    agreed: bool
    at: datetime


@dataclass(frozen=True, slots=True)
class AccountOut:
    id: str
    bank_code: str
    account_number_masked: str
    holder_name: str
    status: str
    added_at: datetime
    verified_at: datetime | None


@dataclass(frozen=True, slots=True)
class SoldItem:
    id: str
    brand_id: str
    masked_code: str
    currency: str
    face_value: int
    fee: int
    payout: int
    funding_source: str
    status: str
    decline_code: str | None
    created_at: datetime
    payout_id: str | None


@dataclass(frozen=True, slots=True)
class Sale:
    id: str
    created_at: datetime
    status: str
    bank_account_id: str
    items: tuple[SoldItem, ...]


@dataclass(frozen=True, slots=True)
class PayoutOut:
    id: str
    currency: str
    amount: int
    status: str
    bank_account_id: str
    created_at: datetime
    sent_at: datetime | None
    confirmed_at: datetime | None


@dataclass(frozen=True, slots=True)
class NoticeOut:
    event: str
    subject_id: str
    outcome: str | None
    queued_at: datetime
    settled_at: datetime | None


@dataclass(frozen=True, slots=True)
class Notices:
    chosen: tuple[str, ...] | None  # None: the default (payouts/notices.py)
    sent: tuple[NoticeOut, ...]


@dataclass(frozen=True, slots=True)
class VerifiedIdentity:
    """What identity verification (본인인증) returned about the person, as stored."""

    name: str
    birth_date: date
    sex: str
    carrier: str
    phone: str
    verified_at: datetime
    id_document_checked_at: datetime | None


@dataclass(frozen=True, slots=True)
class EddAnswersOut:
    occupation: str
    source_of_funds: str
    purpose: str
    answered_at: datetime | None


@dataclass(frozen=True, slots=True)
class DueDiligenceOut:
    level: int  # 0 phone only, 1 identity verified, 2 ID document checked (domain/tiers.py)
    identity: VerifiedIdentity | None
    edd_asked: bool  # the customer is asked to answer (again) before selling more
    edd_answers: EddAnswersOut | None


@dataclass(frozen=True, slots=True)
class OwnData:
    format: str
    generated_at: datetime
    profile: Profile
    consents: tuple[ConsentAnswer, ...]
    bank_accounts: tuple[AccountOut, ...]
    sales: tuple[Sale, ...]
    payouts: tuple[PayoutOut, ...]
    notices: Notices
    due_diligence: DueDiligenceOut
    truncated: bool


def _sales(uow: UnitOfWork, customer_id: str) -> tuple[list[Sale], bool]:
    out: list[Sale] = []
    cursor: str | None = None
    while len(out) < MAX_ROWS:
        page = uow.submissions.for_customer(customer_id, cursor, PAGE)
        for s in page:
            items = tuple(
                SoldItem(
                    i.id,
                    i.brand_id,
                    i.masked_code,
                    i.currency,
                    i.face_value,
                    i.fee,
                    i.payout,
                    i.funding_source,
                    i.status,
                    i.decline_code,
                    i.created_at,
                    i.payout_id,
                )
                for i in uow.items.for_submission(s.id)
            )
            out.append(Sale(s.id, s.created_at, s.status, s.bank_account_id, items))
        if len(page) < PAGE:
            return out, False
        cursor = page[-1].id
    return out[:MAX_ROWS], True


def _payouts(uow: UnitOfWork, customer_id: str) -> tuple[list[PayoutOut], bool]:
    out: list[PayoutOut] = []
    cursor: str | None = None
    while len(out) < MAX_ROWS:
        page = uow.payouts.for_customer(customer_id, cursor, PAGE)
        out += [
            PayoutOut(
                p.id,
                p.currency,
                p.amount,
                p.status,
                p.bank_account_id,
                p.created_at,
                p.sent_at,
                p.confirmed_at,
            )
            for p in page
        ]
        if len(page) < PAGE:
            return out, False
        cursor = page[-1].id
    return out[:MAX_ROWS], True


def own_data(deps: Deps, customer_id: str) -> OwnData:
    """The document, read in one snapshot."""
    with deps.reader() as uow:
        c = uow.customers.get(customer_id)
        if c is None:
            raise errors.Unauthorized("unknown customer")
        sales, more_sales = _sales(uow, customer_id)
        payouts, more_payouts = _payouts(uow, customer_id)
        accounts = uow.bank_accounts.for_customer(customer_id)
        consents = uow.consents.latest(customer_id)
        chosen = uow.notices.choice(customer_id)
        notices = uow.retention.notices_of(customer_id, MAX_ROWS)
        tier_facts = tiers.facts(uow, deps, customer_id)
        stored = uow.identities.for_customer(customer_id)
        dd = uow.due_diligence.get(customer_id)
    person = verification.decrypt(deps, stored) if stored is not None else None
    answers = tiers.decrypt_answers(deps, dd)
    return OwnData(
        format=FORMAT,
        generated_at=deps.clock.now(),
        profile=Profile(
            c.id, c.name, c.phone, c.birth_date, c.status, c.created_at, c.phone_verified_at
        ),
        consents=tuple(
            ConsentAnswer(g.document, g.version, g.agreed, g.at)
            for g in sorted(consents.values(), key=lambda g: g.document)
        ),
        bank_accounts=tuple(
            AccountOut(
                a.id,
                a.bank_code,
                a.account_number_masked,
                a.holder_name,
                a.status,
                a.created_at,
                a.verified_at,
            )
            for a in accounts
        ),
        sales=tuple(sales),
        payouts=tuple(payouts),
        notices=Notices(
            tuple(sorted(chosen)) if chosen is not None else None,
            tuple(
                NoticeOut(n.event, n.subject_id, n.outcome, n.created_at, n.settled_at)
                for n in notices
            ),
        ),
        due_diligence=DueDiligenceOut(
            level=int(tier_facts.tier),
            identity=VerifiedIdentity(
                person.name,
                person.birth_date,
                person.sex,
                person.carrier,
                person.phone,
                person.verified_at,
                person.document_checked_at,
            )
            if person is not None
            else None,
            edd_asked=tier_facts.edd_required,
            edd_answers=EddAnswersOut(
                answers.occupation, answers.source_of_funds, answers.purpose, answers.answered_at
            )
            if answers is not None
            else None,
        ),
        truncated=more_sales or more_payouts,
    )

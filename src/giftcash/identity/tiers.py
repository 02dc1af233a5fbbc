"""Due diligence by amount for one customer (the rules are ``domain/tiers.py`` and the
statutory rule ``due_diligence``): the facts the policy reads, what the account page
shows (tier, used and left today and this month, what unlocks more), the ID-document
check (신분증 진위확인, through the identity port), the enhanced-due-diligence answers,
and an operator asking one customer for them (audited).

The ID number is sent to the provider and never stored nor logged; the EDD answers are
sealed (``vault.encrypt``)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from giftcash.abuse import bounds
from giftcash.audit.changes import audited
from giftcash.catalogue.live import rules_in
from giftcash.domain import tiers
from giftcash.domain.advisor import local_date, start_of
from giftcash.domain.errors import DomainError
from giftcash.domain.policy import RuleSet, day_bounds
from giftcash.identity import verification
from giftcash.identity.operators import Operator
from giftcash.service import errors
from giftcash.service.deps import Deps
from giftcash.service.ports import Unavailable
from giftcash.service.ports.records import DueDiligence
from giftcash.service.ports.uow import UnitOfWork

MAX_ANSWER = 100
MAX_REASON = 500


class IdentityNotVerified(DomainError):
    code = "identity_not_verified"
    kind = "conflict"


class IdDocumentMismatch(DomainError):
    code = "id_document_mismatch"


@dataclass(frozen=True, slots=True)
class EddAnswers:
    occupation: str
    source_of_funds: str
    purpose: str
    answered_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class TierView:
    """The customer's tier as their account page and the console show it."""

    facts: tiers.TierFacts
    room: tiers.Room
    day_used: int
    month_used: int
    limits: tiers.TierLimits
    edd_required_reason: str | None
    edd_answers: EddAnswers | None

    @property
    def tier(self) -> int:
        return int(self.facts.tier)


def facts(uow: UnitOfWork, deps: Deps, customer_id: str) -> tiers.TierFacts:
    """What the policy's ``due_diligence`` rule reads of the customer."""
    identity = uow.identities.for_customer(customer_id)
    dd = uow.due_diligence.get(customer_id)
    answered_at = dd.answered_at if dd is not None else None
    required_at = dd.required_at if dd is not None else None
    answered = answered_at is not None and (required_at is None or answered_at >= required_at)
    return tiers.TierFacts(
        in_force=deps.identity is not None,
        identity_verified=identity is not None,
        document_checked=identity is not None and identity.document_checked_at is not None,
        edd_answered=answered,
        edd_required=required_at is not None and not answered,
    )


def month_start(ruleset: RuleSet, now: datetime) -> datetime:
    """The first instant of the calendar month (the pack's time zone), UTC."""
    return start_of(local_date(now, ruleset.tz).replace(day=1), ruleset.tz)


def limits_of(ruleset: RuleSet) -> tiers.TierLimits:
    p = ruleset.params
    return tiers.TierLimits(
        p.identity_max_value_per_day, p.identity_max_value_per_month, p.edd_one_off_value
    )


def view(deps: Deps, customer_id: str) -> TierView:
    now = deps.clock.now()
    with deps.reader() as uow:
        rs = rules_in(uow, deps.brand_catalogue, deps.jurisdiction, configured=deps.rule_params)
        f = facts(uow, deps, customer_id)
        day_start, _ = day_bounds(rs, now)
        _, day_used = uow.items.day_totals(customer_id=customer_id, since=day_start)
        _, month_used = uow.items.day_totals(customer_id=customer_id, since=month_start(rs, now))
        dd = uow.due_diligence.get(customer_id)
    limits = limits_of(rs)
    answers = edd_answers(deps, customer_id) if dd is not None and dd.answers_enc else None
    return TierView(
        facts=f,
        room=tiers.room(f, limits, day_used, month_used),
        day_used=day_used,
        month_used=month_used,
        limits=limits,
        edd_required_reason=dd.required_reason if dd is not None and f.edd_required else None,
        edd_answers=answers,
    )


# -- the ID document (tier 2) ------------------------------------------------------------------

_ID_NUMBER = re.compile(r"^\d{12,13}$")  # 주민등록번호 (13) or a driving licence (12)


def check_id_document(
    deps: Deps,
    customer_id: str,
    *,
    id_number: str,
    issue_date: date,
    device_key: str | None = None,
) -> None:
    """신분증 진위확인 with the verified name: genuine lifts the customer to tier 2."""
    if deps.identity is None:
        raise errors.IdentityNotConfigured("identity verification is not configured")
    now = deps.clock.now()
    number = re.sub(r"[\s\-]", "", id_number)
    if not _ID_NUMBER.match(number):
        raise errors.InvalidInput("an ID number has 12 or 13 digits", field="id_number")
    if issue_date > now.date() or issue_date.year < 1950:
        raise errors.InvalidInput("the issue date is not plausible", field="issue_date")
    call = bounds.Call(bounds.IDENTITY, address=device_key, person=customer_id)
    with deps.uow() as uow:
        person = verification.verified_name(uow, deps, customer_id)
        if person is None:
            raise IdentityNotVerified("verify your identity on your phone first")
        key = bounds.charge(uow, deps, call, now)
        uow.commit()
    try:
        answer = deps.identity.check_id_document(person[0], number, issue_date, key)
    except Unavailable:
        raise errors.ServiceUnavailable("the ID check is not answering; try again") from None
    if answer.outcome != "genuine":
        raise IdDocumentMismatch("the ID card's details do not match a genuine card in your name")
    with deps.uow() as uow:
        uow.identities.mark_document_checked(customer_id, now)
        uow.commit()


# -- enhanced due diligence ------------------------------------------------------------------


def _answer(text: str, field: str) -> str:
    text = " ".join(text.split())
    if not (1 <= len(text) <= MAX_ANSWER):
        raise errors.InvalidInput(f"write 1 to {MAX_ANSWER} characters", field=field)
    return text


def answer_edd(
    deps: Deps, customer_id: str, *, occupation: str, source_of_funds: str, purpose: str
) -> None:
    answers = {
        "occupation": _answer(occupation, "occupation"),
        "source_of_funds": _answer(source_of_funds, "source_of_funds"),
        "purpose": _answer(purpose, "purpose"),
    }
    now = deps.clock.now()
    blob, key_id = deps.vault.encrypt(json.dumps(answers), f"{customer_id}:edd")
    with deps.uow() as uow:
        uow.due_diligence.answer(customer_id, blob, key_id, now)
        uow.commit()


def edd_answers(deps: Deps, customer_id: str) -> EddAnswers | None:
    with deps.reader() as uow:
        dd = uow.due_diligence.get(customer_id)
    return decrypt_answers(deps, dd)


def decrypt_answers(deps: Deps, dd: DueDiligence | None) -> EddAnswers | None:
    """The sealed answers of a due-diligence record (None: not answered)."""
    if dd is None or dd.answers_enc is None or dd.answers_key_id is None:
        return None
    aad = f"{dd.customer_id}:edd"
    data = json.loads(deps.vault.decrypt(dd.answers_enc, dd.answers_key_id, aad))
    return EddAnswers(
        str(data["occupation"]), str(data["source_of_funds"]), str(data["purpose"]), dd.answered_at
    )


def require_edd(deps: Deps, op: Operator, customer_id: str, reason: str) -> None:
    """An operator asks one customer for enhanced due diligence: every sale of theirs
    waits for the answers (audited with the reason)."""

    def change(uow: UnitOfWork) -> tuple[None, dict[str, Any]]:
        text = " ".join(reason.split())
        if not (1 <= len(text) <= MAX_REASON):
            raise errors.InvalidInput(f"write 1 to {MAX_REASON} characters", field="reason")
        if uow.customers.get(customer_id) is None:
            raise errors.NotFound("no such customer")
        # a moment after any earlier answer, so answers given before do not count
        uow.due_diligence.require(customer_id, op.actor, text, deps.clock.now())
        return None, {}

    detail = {"reason": reason[:MAX_REASON]}
    audited(deps, op, "customer.require_edd", f"customer:{customer_id[:64]}", detail, change)

"""The documents a customer agrees to (이용약관, 개인정보 수집·이용 동의) and the optional
ones, each answered per version and stored with its time (개인정보 보호법 §22: required
and optional consents asked separately, an optional one never a condition of the
service). A new version of a document is asked again before the customer goes on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from giftcash.service import errors
from giftcash.service.deps import Deps
from giftcash.service.ports.records import ConsentGiven
from giftcash.service.ports.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class ConsentDocument:
    id: str
    version: str  # a new text gets a new version, and every customer is asked again
    required: bool


TERMS = ConsentDocument("terms", "2026-12-01", required=True)
PRIVACY = ConsentDocument("privacy_collection", "2026-12-01", required=True)
MARKETING_SMS = ConsentDocument("marketing_sms", "2026-12-01", required=False)
DOCUMENTS: tuple[ConsentDocument, ...] = (TERMS, PRIVACY, MARKETING_SMS)


def check_answers(answers: Mapping[str, bool], documents: tuple[ConsentDocument, ...]) -> None:
    """Every required document agreed to; raised before anything is stored or sent."""
    refused = [d.id for d in documents if d.required and not answers.get(d.id, False)]
    if refused:
        raise errors.ConsentRequired(
            f"agreeing to {', '.join(refused)} is needed to use giftcash", documents=refused
        )


def record(
    uow: UnitOfWork,
    deps: Deps,
    customer_id: str,
    answers: Mapping[str, bool],
    now: datetime,
    documents: tuple[ConsentDocument, ...] = DOCUMENTS,
) -> None:
    """One row per document asked, agreed or not, with the version that was shown."""
    check_answers(answers, documents)
    for d in documents:
        given = ConsentGiven(customer_id, d.id, d.version, bool(answers.get(d.id)), now)
        uow.consents.add(deps.new_id(), given)


def to_ask(deps: Deps, customer_id: str) -> tuple[ConsentDocument, ...]:
    """The documents whose current version this customer has not answered (never asked,
    or asked at an older version). Empty: nothing to ask."""
    with deps.reader() as uow:
        latest = uow.consents.latest(customer_id)
    return tuple(d for d in DOCUMENTS if d.id not in latest or latest[d.id].version != d.version)


def answer(deps: Deps, customer_id: str, answers: Mapping[str, bool]) -> None:
    """The customer's answers to the documents ``to_ask`` names (a changed version)."""
    documents = to_ask(deps, customer_id)
    if not documents:
        return
    with deps.uow() as uow:
        record(uow, deps, customer_id, answers, deps.clock.now(), documents)
        uow.commit()


def current(deps: Deps, customer_id: str) -> dict[str, ConsentGiven]:
    with deps.reader() as uow:
        return uow.consents.latest(customer_id)

"""What a customer is told when their sale's money moves (paid, declined, held, returned),
in one language (Korean), as templates whose variables are written ``#{name}``: the
same body is a KakaoTalk 알림톡 template (adapters/sms/alimtalk.py registers them with
their codes) and, filled in, the SMS text. No code, PIN or full account number in any.

Which a customer gets is their choice (the account page). These tell a customer about
their own money, so they are service messages (정보성), not marketing: the marketing-SMS
consent does not gate them. With no choice made, a customer who agreed to SMS at sign-up
(the optional marketing-SMS consent) gets all four and anyone else none, so nobody is
texted who did not ask for texts.

One outbox row per money event ((event, subject) unique) is made here from the events
that moved (``items_moved``, ``payouts_moved``), called by webhooks/announce.py beside the
webhook messages, in the transaction of the state change; the repository only stores the
rows (``uow.notices.enqueue``). ``deliver`` (the worker) settles each: sent with the row's
id as the SMS port's idempotency key, or not chosen.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from giftcash.domain.banks import BANKS
from giftcash.domain.states import ItemStatus, Moved, PayoutStatus
from giftcash.identity import consents
from giftcash.payouts import receipts
from giftcash.service.deps import Deps
from giftcash.service.ports import Ambiguous, Unavailable
from giftcash.service.ports.records import NoticeDue
from giftcash.service.ports.uow import UnitOfWork

EVENTS = ("paid", "declined", "held", "returned")
LEASE_S = 60  # a worker that dies mid-send: the notice goes again, same key, after this
MAX_ATTEMPTS = 20  # then it is settled as given up: a notice is not worth a queue forever

# the money events a notice tells of: an item's new status, a payout's
NOTICE_OF_ITEM = {ItemStatus.DECLINED.value: "declined", ItemStatus.REVIEW.value: "held"}
NOTICE_OF_PAYOUT = {PayoutStatus.CONFIRMED: "paid", PayoutStatus.RETURNED: "returned"}

NOTICES: dict[str, str] = {
    "paid": "[giftcash] 판매 대금 #{amount}이 #{account} 계좌로 입금되었습니다. 영수증 #{receipt}",
    "declined": (
        "[giftcash] 판매하신 상품권 #{count}장을 매입하지 못했습니다. "
        "사유와 방법은 내역에서 확인해 주세요."
    ),
    "held": (
        "[giftcash] 안전을 위해 판매 #{receipt}을(를) 확인하고 있습니다. "
        "확인이 끝나면 바로 입금됩니다."
    ),
    "returned": (
        "[giftcash] 은행이 판매 대금 #{amount}을(를) 돌려보냈습니다. 다른 본인 계좌를 골라 주세요."
    ),
}


def notice_text(event: str, **variables: str) -> str:
    """The notice for ``event`` with its variables filled in."""
    text = NOTICES[event]
    for name, value in variables.items():
        text = text.replace("#{" + name + "}", value)
    assert "#{" not in text, f"a variable of {event} was not given"
    return text


def items_moved(uow: UnitOfWork, changes: Iterable[tuple[str, str]], now: datetime) -> None:
    """Queue the notices of items that moved to a status a customer is told of: (item id,
    new status) pairs, an item created declined at intake included."""
    told = {item_id: NOTICE_OF_ITEM[new] for item_id, new in changes if new in NOTICE_OF_ITEM}
    if not told:
        return
    owners = uow.items.owners(sorted(told))
    rows = []
    for item_id in sorted(told):
        customer_id, submission_id = owners[item_id]
        event = told[item_id]
        # held: one notice per sale, however many of its items wait
        rows.append((customer_id, event, submission_id if event == "held" else item_id))
    uow.notices.enqueue(rows, now)


def payouts_moved(uow: UnitOfWork, moved: Iterable[Moved[PayoutStatus]], now: datetime) -> None:
    """Queue the notices of payouts that were paid or came back."""
    rows = []
    for e in moved:
        event = NOTICE_OF_PAYOUT.get(e.target)
        if event is not None:
            p = uow.payouts.get(e.id)
            assert p is not None  # moved in this unit of work
            rows.append((p.customer_id, event, p.id))
    if rows:
        uow.notices.enqueue(rows, now)


def chosen(deps: Deps, customer_id: str) -> frozenset[str]:
    """The notices the customer gets (their choice, or the default above)."""
    with deps.reader() as uow:
        return _chosen(uow, customer_id)


def _chosen(uow: UnitOfWork, customer_id: str) -> frozenset[str]:
    choice = uow.notices.choice(customer_id)
    if choice is not None:
        return choice
    sms = uow.consents.latest(customer_id).get(consents.MARKETING_SMS.id)
    return frozenset(EVENTS) if sms is not None and sms.agreed else frozenset()


def choose(deps: Deps, customer_id: str, events: Iterable[str]) -> frozenset[str]:
    """Store the customer's choice (unknown names are ignored: a form sends only ours)."""
    wanted = frozenset(e for e in events if e in EVENTS)
    with deps.uow() as uow:
        uow.notices.choose(customer_id, wanted, deps.clock.now())
        uow.commit()
    return wanted


def deliver(deps: Deps, *, limit: int) -> int:
    """Send up to ``limit`` due notices; answers how many were settled. The lease and the
    attempt are committed before the send, so a restart sends again only what was not
    settled, with the same key (the SMS port sends a key once)."""
    now = deps.clock.now()
    with deps.uow() as uow:
        due = uow.notices.claim_due(now, now + timedelta(seconds=LEASE_S), limit)
        sends: list[tuple[NoticeDue, str, str]] = []
        for n in due:
            message = _message(uow, n)
            if message is None:
                uow.notices.settle(n.id, "not_chosen", now)
            elif n.attempts > MAX_ATTEMPTS:
                uow.notices.settle(n.id, "gave_up", now)
            else:
                sends.append((n, *message))
        uow.commit()
    settled = len(due) - len(sends)
    for n, phone, text in sends:
        try:
            deps.sms.send(phone, text, key=n.id)
        except (Unavailable, Ambiguous):
            continue  # the lease runs out and it goes again with the same key
        with deps.uow() as uow:
            uow.notices.settle(n.id, "sent", deps.clock.now())
            uow.commit()
        settled += 1
    return settled


def _message(uow: UnitOfWork, n: NoticeDue) -> tuple[str, str] | None:
    """The phone and text of a notice the customer chose; None when they did not."""
    customer = uow.customers.get(n.customer_id)
    if customer is None or n.event not in _chosen(uow, n.customer_id):
        return None
    if n.event == "declined":
        return customer.phone, notice_text("declined", count="1")
    if n.event == "held":
        sub = uow.submissions.get(n.subject_id)
        assert sub is not None, "a held notice names its sale"
        return customer.phone, notice_text(
            "held", receipt=receipts.receipt_number(sub.id, sub.created_at)
        )
    p = uow.payouts.get(n.subject_id)
    assert p is not None, "a paid or returned notice names its payout"
    amount = _won(p.amount, p.currency)
    if n.event == "returned":
        return customer.phone, notice_text("returned", amount=amount)
    account = uow.bank_accounts.get(p.bank_account_id)
    assert account is not None
    where = f"{BANKS.get(account.bank_code, account.bank_code)} {account.account_number_masked}"
    receipt = receipts.receipt_number(p.id, p.created_at)
    return customer.phone, notice_text("paid", amount=amount, account=where, receipt=receipt)


def _won(amount: int, currency: str) -> str:
    assert currency == "KRW", "the notices are Korean and in won"
    return f"{amount:,}원"

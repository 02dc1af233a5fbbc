"""The customer's notices (issue 13, item 9): a paid sale of a customer who chose SMS
notices puts exactly one Korean notice in the SMS port's outbox, none for a customer who
did not choose them, and none twice when the worker restarts. On SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from apiworld import World, add_account, bounce_the_payout, item, signup
from giftcash.adapters.db import tables as t
from giftcash.entrypoints.worker import Worker
from giftcash.payouts import notices

FACE = 10_000


def customer_id(w: World, phone: str) -> str:
    with w.engine.begin() as conn:
        c = t.customers.c
        return conn.execute(select(c.id).where(c.phone == phone.replace("-", ""))).scalar_one()


def sell_one(w: World, auth: dict, account: str, code: str) -> str:
    w.issuer.sell("cultureland", code, FACE)
    r = w.client.post(
        "/v1/submissions",
        headers=auth,
        json={"bank_account_id": account, "items": [item(code, FACE)]},
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def texts_to(w: World, phone: str) -> list[str]:
    return [text for to, text in w.sms.outbox if to == phone.replace("-", "")]


def test_a_paid_sale_sends_one_korean_notice_to_a_customer_who_chose_it(world: World):
    w = world
    chose, other = "010-7700-0001", "010-7700-0002"
    chose_auth, other_auth = signup(w, chose), signup(w, other)
    chose_account = add_account(w, chose_auth, "77000000000001")
    other_account = add_account(w, other_auth, "77000000000002")
    assert notices.chosen(w.deps, customer_id(w, chose)) == frozenset()  # off by default
    notices.choose(w.deps, customer_id(w, chose), ["paid", "declined", "held", "returned"])
    before = {p: len(texts_to(w, p)) for p in (chose, other)}

    subs = [
        sell_one(w, chose_auth, chose_account, "4180770000000001"),
        sell_one(w, other_auth, other_account, "4180770000000002"),
    ]
    Worker(w.deps).drain(30)
    for auth, sub in zip([chose_auth, other_auth], subs, strict=True):
        [it] = w.client.get(f"/v1/submissions/{sub}", headers=auth).json()["items"]
        assert it["status"] == "paid", it

    [notice] = texts_to(w, chose)[before[chose] :]
    assert notice.startswith("[giftcash] 판매 대금 9,")  # the payout in won, in Korean
    assert "원이 KB국민은행 " in notice and "영수증 GC-" in notice
    assert "77000000000001" not in notice  # the account masked
    assert texts_to(w, other)[before[other] :] == []

    # a restarted worker sends nothing twice: each notice was settled once
    Worker(w.deps).drain(10)
    with w.engine.begin() as conn:
        o = t.notice_outbox.c
        rows = conn.execute(select(o.event, o.outcome)).all()
    assert sorted(rows) == [("paid", "not_chosen"), ("paid", "sent")]
    assert len(texts_to(w, chose)) == before[chose] + 1


def test_the_choice_defaults_to_the_sms_answer_given_at_sign_up(world: World):
    from giftcash.identity import consents

    w = world
    phone = "010-7700-0003"
    signup(w, phone)
    cid = customer_id(w, phone)
    consents.answer(w.deps, cid, {d.id: True for d in consents.DOCUMENTS})
    assert notices.chosen(w.deps, cid) == frozenset(notices.EVENTS)
    notices.choose(w.deps, cid, ["paid"])
    assert notices.chosen(w.deps, cid) == frozenset({"paid"})
    notices.choose(w.deps, cid, [])
    assert notices.chosen(w.deps, cid) == frozenset()  # a choice of none is kept


def test_a_returned_payout_is_told_once_in_korean(world: World):
    w = world
    phone = "010-7700-0004"
    auth = signup(w, phone)
    account = add_account(w, auth, "77000000000004")
    notices.choose(w.deps, customer_id(w, phone), notices.EVENTS)
    before = len(texts_to(w, phone))
    w.deps.limits = replace(w.deps.limits, backoff_base_s=0.0, backoff_cap_s=0.0)
    sell_one(w, auth, account, "4180770000000004")
    bounce_the_payout(w.deps, w.bank, w.engine)
    Worker(w.deps).drain(10)
    Worker(w.deps).drain(10)  # restarted
    [notice] = texts_to(w, phone)[before:]
    assert notice.startswith("[giftcash] 은행이 판매 대금 9,") and "돌려보냈습니다" in notice

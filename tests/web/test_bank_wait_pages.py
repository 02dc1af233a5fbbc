"""The customer is told when the money comes while their bank is closed (점검 시간),
through TestClient on SQLite (and PostgreSQL when GIFTCASH_TEST_POSTGRES_URL is set): the
sell confirmation of a sale confirmed inside the window says so, and the sale and history
pages say when it will be paid, in Korean with no English sentence, and in English."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from test_korean_pages import english_in
from test_sell_confirm import HX, codes, form
from websupport import Site, confirmed_fields

from giftcash.domain.bank_hours import KST
from giftcash.entrypoints.worker import Worker
from giftcash.payouts import bank_hours


def _close_kb(site: Site, minutes: int = 45) -> datetime:
    now = site.deps.clock.now()
    ends = (now + timedelta(minutes=minutes)).replace(second=0, microsecond=0)
    bank_hours.add_maintenance(
        site.deps, "operator:test", "004", now - timedelta(minutes=1), ends, ""
    )
    return ends


def test_a_sale_confirmed_while_the_bank_is_closed_says_when_it_is_paid(site: Site):
    site.sign_up()
    account_id = site.add_account()
    two = codes(2, start=500)
    for c in two:
        site.issuer.sell(
            "cultureland", c, 10_000, purchased_at=datetime.now(UTC) - timedelta(days=2)
        )
    ends = _close_kb(site)
    clock = ends.astimezone(KST).strftime("%H:%M")
    r = site.post("/sell", {**form(account_id, two), "step": "review"}, headers=HX)
    assert f"은행 점검 시간으로 {clock} 이후 입금" in r.text
    done = site.post("/sell", {**form(account_id, two), **confirmed_fields(r.text)})
    assert done.status_code == 303, done.text
    sale_page = done.headers["location"]
    worker = Worker(site.deps)
    try:
        worker.drain(30)
    finally:
        worker.close()
    assert site.bank.paid_to("004", "11112222333344") == 0  # nobody called the closed bank

    ko_sale, ko_history = site.client.get(sale_page).text, site.client.get("/history").text
    for page in (ko_sale, ko_history):
        assert f"은행 점검 시간으로 {clock} 이후 입금" in page
        assert english_in(page) == []
    site.client.cookies.set("gc_lang", "en")
    assert (
        f"Your bank is closed for maintenance; paid after {clock}"
        in site.client.get(sale_page).text
    )
    r = site.post("/sell", {**form(account_id, codes(1, start=600)), "step": "review"}, headers=HX)
    assert f"Your bank is closed for maintenance; paid after {clock}" in r.text


def test_no_word_of_bank_hours_while_the_bank_is_open(site: Site):
    site.sign_up()
    account_id = site.add_account()
    r = site.post("/sell", {**form(account_id, codes(1, start=700)), "step": "review"}, headers=HX)
    assert r.status_code == 200 and "은행 점검 시간" not in r.text

"""``/metrics`` parses with Prometheus's own text parser and its counters move during a
run; ``/readyz`` reports the database and the worker heartbeat; request ids and JSON log
lines carry no secrets. SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import logging

import pytest
import test_reconcile_world
from prometheus_client.parser import text_string_to_metric_families

from giftcash.adapters.observability.logs import JsonFormatter, redact

ops_world = test_reconcile_world.ops_world


def scrape(w) -> dict[tuple[str, tuple], float]:
    r = w.api.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(r.text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def total(samples: dict, name: str, **labels) -> float:
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= set(ls))


@pytest.mark.slow  # over 2 s on the loaded 2-core machine
def test_metrics_parse_and_the_counters_move_during_a_run(ops_world):
    w = ops_world
    before = scrape(w)
    subs = w.day_of_trade()
    after = scrape(w)

    submissions = {"method": "POST", "route": "/v1/submissions", "status": "201"}
    posts = total(after, "giftcash_http_requests_total", **submissions)
    assert posts - total(before, "giftcash_http_requests_total", **submissions) == 3
    assert total(after, "giftcash_http_request_duration_seconds_count", route="/v1/submissions")
    for service, operation in (("issuer", "redeem"), ("bank", "deposit"), ("sms", "send")):
        moved = total(
            after, "giftcash_foreign_calls_total", service=service, operation=operation
        ) - total(before, "giftcash_foreign_calls_total", service=service, operation=operation)
        assert moved > 0, (service, operation)
    assert total(after, "giftcash_foreign_calls_total", service="issuer", target="cultureland")
    assert total(after, "giftcash_foreign_call_duration_seconds_count", service="bank") > 0
    confirmed = total(after, "giftcash_payout_outcomes_total", outcome="confirmed")
    assert confirmed - total(before, "giftcash_payout_outcomes_total", outcome="confirmed") >= 2
    captured = total(after, "giftcash_redemption_outcomes_total", outcome="captured")
    assert captured - total(before, "giftcash_redemption_outcomes_total", outcome="captured") == 5

    # state read from the database at scrape time
    assert after[("giftcash_items", (("status", "paid"),))] == 5
    assert after[("giftcash_payouts", (("status", "confirmed"),))] == 2
    assert after[("giftcash_queue_age_seconds", (("queue", "items_received"),))] == 0
    assert after[("giftcash_workers", (("state", "live"),))] == 1
    assert 0 <= after[("giftcash_worker_heartbeat_age_seconds", ())] < 60
    # routes are templates: no label carries a raw path (an id, anything a customer typed)
    routes = {dict(ls).get("route") for (n, ls) in after if n == "giftcash_http_requests_total"}
    assert "/v1/submissions/{submission_id}" in routes
    assert not any(s["id"] in r for s in subs for r in routes)


def test_readyz_says_clearly_that_no_worker_has_run_yet_then_ok(ops_world):
    w = ops_world
    r = w.api.get("/readyz")
    assert r.status_code == 200, r.text  # the API serves without a worker: submissions wait
    assert r.json()["status"] == "degraded"
    assert r.json()["checks"]["database"] == "ok"
    assert r.json()["checks"]["worker"].startswith("missing")
    strict = w.api.get("/readyz", params={"require_worker": "true"})
    assert strict.status_code == 503 and strict.json()["checks"]["worker"].startswith("missing")
    w.work()
    r = w.api.get("/readyz", params={"require_worker": "true"})
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "checks": {"database": "ok", "worker": "ok"}}


def test_readyz_is_503_when_the_database_is_gone(ops_world, tmp_path):
    w = ops_world
    saved = w.deps.uow, w.deps.read_uow

    def no_database():
        raise ConnectionError("refused")

    w.deps.uow = w.deps.read_uow = no_database
    try:
        r = w.api.get("/readyz")
    finally:
        w.deps.uow, w.deps.read_uow = saved
    assert r.status_code == 503
    assert r.json()["checks"]["database"].startswith("error")


def test_every_answer_has_a_request_id_and_a_sane_one_is_kept(ops_world):
    w = ops_world
    mine = w.api.get("/healthz", headers={"X-Request-ID": "req-1234abcd"})
    assert mine.headers["x-request-id"] == "req-1234abcd"
    theirs = w.api.get("/healthz", headers={"X-Request-ID": "<script>"})
    assert len(theirs.headers["x-request-id"]) == 32
    assert theirs.headers["x-request-id"] != "<script>"


@pytest.mark.slow  # over 2 s on the loaded 2-core machine
def test_json_log_lines_have_request_ids_and_no_secrets(ops_world):
    w = ops_world
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        w.day_of_trade()
        voucher = w.buy("cultureland", 10_000)
        auth = w.customer("010-5100-0009", "정하늘", "5100000000009")
        w.api.post(
            "/v1/submissions",
            headers={**auth[0], "Idempotency-Key": "log-check", "X-Request-ID": "trace-42-abc"},
            json={
                "bank_account_id": auth[1],
                "items": [
                    {
                        "brand_id": "cultureland",
                        "code": voucher["code"],
                        "face_value": 10_000,
                        "funding_source": "cash",
                    }
                ],
            },
        )
        w.work()
        logging.getLogger("giftcash.test").info("login password=hunter2 with Bearer abc.def")
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines, "nothing was logged"
    access = [x for x in lines if x["logger"] == "giftcash.access"]
    assert any(x.get("request_id") == "trace-42-abc" and x["status"] == 201 for x in access)
    assert all(x.get("request_id") for x in access)
    text = out.getvalue()
    assert voucher["code"] not in text
    assert "hunter2" not in text and "abc.def" not in text
    assert "Idempotency-Key" not in text


def test_redact_blanks_codes_pins_and_tokens():
    assert redact("code 4180123456789012 pin 20261127") == "code [redacted] pin 20261127"
    assert redact("1234-5678-9012-345678 sold") == "[redacted] sold"
    assert redact('{"password": "s3cret"}') == '{"password": "[redacted]"}'
    assert redact("amount 50000 won, bank_tran_id M202600001U1A2B3C4D") == (
        "amount 50000 won, bank_tran_id M202600001U1A2B3C4D"
    )

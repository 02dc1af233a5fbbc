"""Hostile callers of the API, on SQLite and PostgreSQL: another customer's resource ids
answer 404 exactly as ids that do not exist (and change nothing), every admin endpoint is
in the role matrix, tokens of one kind do not open the other side, and the 1 MiB body
limit holds with and without a Content-Length."""

from __future__ import annotations

import importlib.util
import re
import sys
import uuid
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import select

from apiworld import World, add_account, item, signup
from giftcash.adapters.db import tables as t
from giftcash.entrypoints.api.app import MAX_BODY_BYTES
from giftcash.entrypoints.worker import Worker
from giftcash.identity import operators

TESTS = Path(__file__).resolve().parents[1]
# Operators' endpoints: the console's API, and the payment stops partner banks and
# investigators file with a stop_requester key (entrypoints/api/payment_stops.py).
OPERATOR_PREFIXES = ("/v1/admin/", "/v1/payment-stops")


def api_routes(w: World) -> list[tuple[str, str]]:
    """Every operation of the published OpenAPI document under /v1."""
    paths = w.client.get("/v1/openapi.json").json()["paths"]
    return sorted(
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith("/v1/")
        for method in operations
    )


def problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    return r.json()


# -- another customer's resources ----------------------------------------------------------


def _owner_with_everything(w: World) -> tuple[dict, dict[str, str]]:
    """Customer A with a verified and an unverified account, a paid submission, a payout
    and a webhook endpoint; answers A's auth header and one id of each."""
    auth = signup(w, "010-8100-0001")
    account = add_account(w, auth, "81000000000001")
    pending = add_account(w, auth, "81000000000002", verify=False)
    w.issuer.sell("cultureland", "4180810000000001", 10_000)
    r = w.client.post(
        "/v1/submissions",
        headers=auth,
        json={"bank_account_id": account, "items": [item("4180810000000001", 10_000)]},
    )
    assert r.status_code == 201, r.text
    submission = r.json()["id"]
    Worker(w.deps).drain(20)
    payouts = w.client.get("/v1/payouts", headers=auth).json()["data"]
    assert [p["status"] for p in payouts] == ["confirmed"]
    r = w.client.post(
        "/v1/webhook-endpoints",
        headers=auth,
        json={"url": "http://127.0.0.1:9/hook", "event_types": ["item.updated"]},
    )
    assert r.status_code == 201, r.text
    ids = {
        "account_id": pending,
        "verified_account_id": account,
        "submission_id": submission,
        "payout_id": payouts[0]["id"],
        "endpoint_id": r.json()["id"],
        "order_id": _an_order(w, "01081000001"),
    }
    return auth, ids


def _an_order(w: World, phone: str) -> str:
    """An order of the customer with this phone, written as placing one writes it (the
    world's customers have no verified identity, which buying needs)."""
    from datetime import UTC, datetime, timedelta

    from giftcash.service.ports.records import Order

    with w.engine.connect() as conn:
        customer_id = conn.execute(
            select(t.customers.c.id).where(t.customers.c.phone == phone)
        ).scalar_one()
    now = datetime.now(UTC)
    order_id = f"ord_{uuid.uuid4().hex[:26]}"
    with w.deps.uow() as uow:
        uow.orders.add(
            Order(
                id=order_id, customer_id=customer_id, brand_id="kyobo_gift", currency="KRW",
                face_value=10_000, quantity=1, amount=9_500, status="awaiting_payment",
                deadline=now + timedelta(hours=1), virtual_account_key=f"va-{order_id}",
                virtual_account_id=None, virtual_account_number=None, created_at=now,
            ),
            now,
        )  # fmt: skip
        uow.commit()
    return order_id


def _attempts(w: World) -> dict[str, int]:
    a = t.bank_accounts.c
    with w.engine.connect() as conn:
        return dict(conn.execute(select(a.id, a.verify_attempts)).all())


# Every customer endpoint that takes a resource id in its path: (method, path, body).
OTHERS = {
    ("POST", "/v1/bank-accounts/{account_id}/verify"): {"code": "GC1234"},
    ("GET", "/v1/submissions/{submission_id}"): None,
    ("POST", "/v1/submissions/{submission_id}/bank-account"): {"bank_account_id": "x"},
    ("GET", "/v1/payouts/{payout_id}"): None,
    ("DELETE", "/v1/webhook-endpoints/{endpoint_id}"): None,
    ("GET", "/v1/orders/{order_id}"): None,
    ("POST", "/v1/orders/{order_id}/claims"): {"unit_id": "u-1"},
}


def test_every_customer_endpoint_with_an_id_is_in_the_list(world: World):
    with_ids = {
        (m, p) for m, p in api_routes(world) if "{" in p and not p.startswith(OPERATOR_PREFIXES)
    }
    assert with_ids == set(OTHERS), "add the new endpoint to OTHERS"


def test_another_customers_ids_answer_404_like_ids_that_do_not_exist(world: World):
    w = world
    owner, ids = _owner_with_everything(w)
    intruder = signup(w, "010-8100-0002", name="김철수")
    add_account(w, intruder, "81000000000003", name="김철수")
    before = _attempts(w)

    for (method, path), body in OTHERS.items():
        name = re.search(r"{(\w+)}", path).group(1)
        theirs = w.client.request(
            method, path.replace(f"{{{name}}}", ids[name]), json=body, headers=intruder
        )
        nowhere = w.client.request(
            method, path.replace(f"{{{name}}}", str(uuid.uuid4())), json=body, headers=intruder
        )
        where = f"{method} {path}"
        assert problem(theirs, 404)["code"] == problem(nowhere, 404)["code"], where
        assert theirs.json()["detail"] == nowhere.json()["detail"], where
        assert ids[name] not in theirs.text, where

    # a body that names another customer's account
    r = w.client.post(
        "/v1/submissions",
        headers=intruder,
        json={"bank_account_id": ids["verified_account_id"], "items": [item("4180810000000009")]},
    )
    assert problem(r, 404)["code"] == "bank_account_not_found"
    # lists show only one's own
    lists = ("/v1/submissions", "/v1/payouts", "/v1/bank-accounts", "/v1/webhook-endpoints")
    for path in (*lists, "/v1/orders"):
        mine = w.client.get(path, headers=intruder)
        assert mine.status_code == 200, mine.text
        assert not any(v in mine.text for v in ids.values()), path

    # and nothing of the owner's changed
    assert _attempts(w) == before
    hooks = w.client.get("/v1/webhook-endpoints", headers=owner).json()["data"]
    assert [h["id"] for h in hooks] == [ids["endpoint_id"]]
    assert w.client.get(f"/v1/payouts/{ids['payout_id']}", headers=owner).status_code == 200


# -- the operators' side -----------------------------------------------------------------


def _role_matrix() -> list[tuple]:
    """The role matrix of tests/integration/test_admin_login.py (not duplicated here)."""
    path = TESTS / "integration" / "test_admin_login.py"
    spec = importlib.util.spec_from_file_location("_admin_login_matrix", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(path.parent))
    return list(module.ENDPOINTS)


def _template(path: str) -> str:
    return re.sub(r"/(no-such-[a-z-]+|cultureland|google|velocity_customer)(?=/|$)", "/{}", path)


def test_the_role_matrix_covers_every_admin_endpoint(world: World):
    admin = {
        (m, re.sub(r"{\w+}", "{}", p))
        for m, p in api_routes(world)
        if p.startswith("/v1/admin/") and p != "/v1/admin/tokens"
    }
    covered = {(m, _template(p)) for m, p, _body, _roles in _role_matrix()}
    assert admin == covered, f"missing from the matrix: {admin - covered}"


def operator_token(w: World, role: str) -> dict:
    secret = pyotp.random_base32()
    username = f"op-{role}"
    password = "operator password 1"
    operators.create_operator(
        w.deps, username=username, password=password, role=role, totp_secret=secret
    )
    r = w.client.post(
        "/v1/admin/tokens",
        json={"username": username, "password": password, "totp": pyotp.TOTP(secret).now()},
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_an_operator_token_does_not_open_customer_endpoints_nor_the_reverse(world: World):
    w = world
    customer = signup(w, "010-8200-0001")
    operator = operator_token(w, "admin")
    for method, path in api_routes(w):
        if "{" in path or method != "GET":
            continue
        if path.startswith(OPERATOR_PREFIXES):
            r = w.client.get(path, headers=customer)
        elif path in ("/v1/brands", "/v1/offers"):  # public
            continue
        else:
            r = w.client.get(path, headers=operator)
        assert problem(r, 401)["code"] == "unauthorized", path
        assert r.headers.get("www-authenticate") == "Bearer"


# -- request size ------------------------------------------------------------------------


def _rows(w: World) -> int:
    return sum(w.count(x) for x in (t.submissions, t.items, t.customers, t.failed_attempts))


@pytest.mark.parametrize("path", ["/v1/submissions", "/v1/tokens", "/v1/signup"])
def test_a_body_over_one_mib_is_refused_with_or_without_content_length(world: World, path):
    w = world
    auth = signup(w, "010-8300-0001")
    before = _rows(w)
    big = b'{"phone": "' + b"0" * (MAX_BODY_BYTES + 1) + b'"}'

    declared = w.client.post(
        path, content=big, headers={**auth, "content-type": "application/json"}
    )
    assert problem(declared, 413)["code"] == "request_too_large"

    def chunks():  # no Content-Length: Transfer-Encoding: chunked
        for i in range(0, len(big), 64 * 1024):
            yield big[i : i + 64 * 1024]

    chunked = w.client.post(
        path, content=chunks(), headers={**auth, "content-type": "application/json"}
    )
    assert "content-length" not in {k.lower() for k in chunked.request.headers}
    assert problem(chunked, 413)["code"] == "request_too_large"
    assert _rows(w) == before


def test_a_body_at_the_limit_is_read(world: World):
    w = world
    auth = signup(w, "010-8300-0002")
    padding = MAX_BODY_BYTES - 200
    body = b'{"phone": "010-0000-0000", "password": "x", "pad": "' + b" " * padding + b'"}'
    assert len(body) <= MAX_BODY_BYTES
    r = w.client.post(
        "/v1/tokens", content=body, headers={**auth, "content-type": "application/json"}
    )
    assert r.status_code == 422 and r.json()["code"] == "unknown_field", r.text


# -- NUL characters ------------------------------------------------------------------------


def test_a_nul_character_anywhere_is_refused_not_a_500(world: World):
    """PostgreSQL text cannot hold NUL: found by schemathesis as a 500 on a cursor."""
    w = world
    auth = signup(w, "010-8400-0001")
    before = _rows(w)
    probes = [
        w.client.get("/v1/submissions", params={"cursor": "a\x00b"}, headers=auth),
        w.client.get("/v1/payouts?cursor=%00", headers=auth),
        w.client.get("/v1/submissions/abc%00def", headers=auth),
        w.client.post(
            "/v1/signup",
            json={
                "phone": "010-8400-0002",
                "name": "홍\x00길동",
                "birth_date": "1990-01-02",
                "password": "correct horse battery",
            },
        ),
        w.client.post("/v1/tokens", json={"phone": "010-8400-0001", "password": "pw\x00"}),
    ]

    def split():  # the escape split across two chunks of a body without a length
        yield b'{"phone": "010-8400-0001", "password": "pw\\u00'
        yield b'00"}'

    probes.append(
        w.client.post("/v1/tokens", content=split(), headers={"content-type": "application/json"})
    )
    for r in probes:
        assert problem(r, 422)["code"] == "invalid_input", (r.request.url, r.text)
    assert _rows(w) == before


@pytest.mark.parametrize(
    ("content_type", "chunks", "refused"),
    [
        (b"application/json", [b'{"a": "x\\u00', b'00"}'], True),
        (b"application/json", [b'{"a": "x\\u00', b'41"}'], False),
        (b"application/x-www-form-urlencoded", [b"a=x%0", b"0"], True),
        (b"application/x-www-form-urlencoded", [b"a=x%0", b"1"], False),
    ],
)
def test_a_nul_split_across_chunks_is_still_found(content_type, chunks, refused):
    import asyncio

    from giftcash.entrypoints.api.guards import RefuseNul

    async def app(scope, receive, send):  # reads the whole body, then answers 200
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    messages = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]
    sent = []

    async def receive():
        return messages.pop(0)

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "path": "/v1/x",
        "raw_path": b"/v1/x",
        "query_string": b"",
        "headers": [(b"content-type", content_type)],
    }
    asyncio.run(RefuseNul(app)(scope, receive, send))
    assert sent[0]["status"] == (422 if refused else 200)

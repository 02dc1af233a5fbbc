"""The hostile-traffic scenario of ``giftcash selftest`` (issue 18): requests that are each
valid, sent to use the exchange against itself or its customers, against the API with the
SMS, bank and issuer simulators on loopback and a real database.

- SMS pumping: a burst of sign-ups from one address, and from a spread of addresses into
  one number range, with an honest sign-up of another person in the middle;
- account aggregation: one customer adding many accounts (each a real-name inquiry and a
  1-won deposit);
- enumeration: sign-up, code check and sign-in for a registered and an unknown phone;
- SSRF: webhook URLs naming loopback and private addresses in every form, refused at
  registration, and one that slipped past (as a name rebound after registration would)
  refused at delivery, while a receiver on loopback counts the requests it gets.

What each bound let through beyond its limit, a refused honest customer, an answer that
tells the phones apart and a request that reached the receiver are invariant breaks.
"""

from __future__ import annotations

import http.server
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from giftcash.selftest.registry import Context, Row

SIGNUP_BODY = {"name": "홍길동", "birth_date": "1990-01-02", "password": "correct horse battery"}


@dataclass(frozen=True)
class AbusePlan:
    burst: int = 24  # sign-ups per burst
    sms_per_address: int = 6
    sms_per_range: int = 6
    accounts_tried: int = 10


class _Receiver:
    """An HTTP server on loopback that counts every request it gets."""

    def __init__(self) -> None:
        hits = self.hits = [0]

        class Handler(http.server.BaseHTTPRequestHandler):
            def _count(self) -> None:
                hits[0] += 1
                self.send_response(204)
                self.end_headers()

            do_GET = do_POST = _count

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def internal_urls(port: int) -> list[str]:
    """One webhook URL per spelling of an address the worker must never call."""
    hosts = [
        "127.0.0.1",
        "localhost",
        "2130706433",
        "0x7f000001",
        "0177.0.0.1",
        "127.1",
        "0.0.0.0",  # noqa: S104 - a URL the worker must refuse, not a bind
        "[::1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "[64:ff9b::7f00:1]",
        "10.0.0.1",
        "172.16.0.1",
        "192.168.0.1",
        "169.254.169.254",
        "[fd00::1]",
        "[fe80::1]",
        "100.64.0.1",
    ]
    return [f"{scheme}://{h}:{port}/hook" for h in hosts for scheme in ("http", "https")]


def _shape(r: Any) -> tuple[Any, ...]:
    body = r.json()
    return r.status_code, tuple(sorted(body)), body.get("code"), body.get("detail")


class _CountingHasher:
    def __init__(self, inner: Any) -> None:
        self.inner, self.verified = inner, 0

    def hash(self, password: str) -> str:
        return self.inner.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        self.verified += 1
        return bool(self.inner.verify(password_hash, password))


def run_abuse(ctx: Context, plan: AbusePlan = AbusePlan()) -> tuple[Row, dict[str, int]]:
    from fastapi.testclient import TestClient

    from giftcash.abuse.bounds import Bounds
    from giftcash.bootstrap import build_deps, make_engine_from_settings
    from giftcash.entrypoints.api.app import create_app
    from giftcash.selftest.stack import Simulators, provision, settings_for

    began = time.monotonic()
    root = Path(ctx.workdir)
    root.mkdir(parents=True, exist_ok=True)
    sims = Simulators(root)
    receiver = _Receiver()
    db = None
    figures: dict[str, int] = {}
    breaks: list[str] = []
    server_errors = 0
    try:
        db = provision(ctx.database_url, root)
        settings = settings_for(db, sims, root / "data")
        bounds = replace(
            Bounds(), sms_per_address=plan.sms_per_address, sms_per_range=plan.sms_per_range
        )
        settings = settings.model_copy(update={"bounds": bounds})
        engine = make_engine_from_settings(settings)
        deps = build_deps(settings, engine=engine, fast_passwords=True)
        app = create_app(deps)

        def client(ip: str) -> TestClient:
            return TestClient(app, client=(ip, 40000), raise_server_exceptions=False)

        answers: list[int] = []

        def post(c: TestClient, path: str, body: dict[str, Any], **kw: Any) -> Any:
            r = c.post(path, json=body, **kw)
            answers.append(r.status_code)
            return r

        def sms_to(prefix: str) -> int:
            out = sims.http.get(f"{sims.sms_url}/sim/outbox").json()["messages"]
            return sum(1 for m in out if str(m.get("to", "")).startswith(prefix))

        # -- SMS pumping from one address, an honest person in the middle --------------------
        ctx.progress("abuse: SMS pumping")
        attacker = client("203.0.113.66")
        honest_ok = False
        for n in range(plan.burst):
            post(attacker, "/v1/signup", {**SIGNUP_BODY, "phone": f"010{5000 + n:04d}0001"})
            if n == plan.burst // 2:
                honest = client("198.51.100.23")
                r = post(honest, "/v1/signup", {**SIGNUP_BODY, "phone": "01024681357"})
                code = _last_code(sims, "01024681357")
                v = post(honest, "/v1/signup/verify", {"phone": "01024681357", "code": code})
                honest_ok = r.status_code == 201 and v.status_code == 200
        one_address = sum(sms_to(f"010{5000 + n:04d}") for n in range(plan.burst))
        # -- from a spread of addresses into one number range ------------------------------
        for n in range(plan.burst):
            post(
                client(f"192.0.2.{n + 1}"),
                "/v1/signup",
                {**SIGNUP_BODY, "phone": f"0109898{n:04d}"},
            )
        one_range = sms_to("0109898")
        figures.update(
            signups_tried=2 * plan.burst + 1,
            signups_refused=sum(1 for s in answers if s == 429),
            sms_sent=sms_to("010"),
        )
        if one_address > plan.sms_per_address:
            breaks.append(f"{one_address} texts from one address (bound {plan.sms_per_address})")
        if one_range > plan.sms_per_range:
            breaks.append(f"{one_range} texts into one range (bound {plan.sms_per_range})")
        if not honest_ok:
            breaks.append("the honest sign-up in the middle of the burst was not served")

        # -- account aggregation ------------------------------------------------------------
        ctx.progress("abuse: account aggregation")
        aggregator = client("203.0.113.77")
        phone = "01077770001"
        post(aggregator, "/v1/signup", {**SIGNUP_BODY, "phone": phone})
        post(aggregator, "/v1/signup/verify", {"phone": phone, "code": _last_code(sims, phone)})
        token = post(
            aggregator, "/v1/tokens", {"phone": phone, "password": SIGNUP_BODY["password"]}
        )
        auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
        refused = 0
        for n in range(plan.accounts_tried):
            number = f"7777{n:08d}"
            sims.http.post(
                f"{sims.bank_url}/sim/accounts",
                json={"bank_code": "004", "account_number": number, "holder_name": "홍길동"},
            ).raise_for_status()
            r = post(
                aggregator,
                "/v1/bank-accounts",
                {"bank_code": "004", "account_number": number, "holder_name": "홍길동"},
                headers=auth,
            )
            refused += r.status_code in (409, 429)
        transfers = sims.http.get(f"{sims.bank_url}/sim/transfers").json()["transfers"]
        one_won = [t for t in transfers if t["amount"] == 1]
        figures.update(
            accounts_tried=plan.accounts_tried,
            accounts_refused=refused,
            deposits_sent=len(one_won),
            won_spent=sum(t["amount"] for t in one_won),
        )
        cap = min(settings.bounds.bank_accounts_per_customer, settings.bounds.deposits_per_customer)
        if len(one_won) > cap:
            breaks.append(f"{len(one_won)} 1-won deposits for one customer (bound {cap})")

        # -- enumeration --------------------------------------------------------------------
        ctx.progress("abuse: enumeration")
        counter = _CountingHasher(deps.passwords)
        deps.passwords = counter
        prober = client("203.0.113.88")
        pairs = {
            "sign-up": [
                post(prober, "/v1/signup", {**SIGNUP_BODY, "phone": p})
                for p in (phone, "01077770002")
            ],
            "code check": [
                post(prober, "/v1/signup/verify", {"phone": p, "code": "000000"})
                for p in (phone, "01077770002")
            ],
        }
        costs = []
        signins = []
        for n, p in enumerate((phone, "01077770003")):
            before = counter.verified
            signins.append(
                post(client(f"203.0.114.{n}"), "/v1/tokens", {"phone": p, "password": "wrong one!"})
            )
            costs.append(counter.verified - before)
        pairs["sign-in"] = signins
        differing = [name for name, (a, b) in pairs.items() if _shape(a) != _shape(b)]
        if pairs["sign-up"][0].json().get("customer_id") == pairs["sign-up"][1].json().get(
            "customer_id"
        ):
            differing.append("sign-up ids")
        if len(set(costs)) != 1:
            differing.append(f"sign-in hash verifications {costs}")
        figures.update(enumeration_probes=2 * len(pairs), enumeration_differences=len(differing))
        breaks += [f"answers tell registered phones apart: {d}" for d in differing]

        # -- SSRF ---------------------------------------------------------------------------
        ctx.progress("abuse: SSRF")
        urls = internal_urls(receiver.port)
        accepted = []
        for url in urls:
            r = post(aggregator, "/v1/webhook-endpoints", {"url": url}, headers=auth)
            if r.status_code == 201:
                accepted.append(url)
        slipped = _slip_past_registration(deps, customer_of(deps, phone), receiver.port)
        from giftcash.adapters.webhooks import signing
        from giftcash.adapters.webhooks.sender import HttpWebhookSender
        from giftcash.webhooks import delivery as webhooks

        sender = HttpWebhookSender(timeout_s=2.0)
        try:
            for _ in range(3):
                webhooks.deliver(deps, signing, sender, "abuse-worker", limit=50)
        finally:
            sender.close()
        figures.update(
            ssrf_urls=len(urls) + slipped,
            ssrf_refused_at_registration=len(urls) - len(accepted),
            ssrf_requests_received=receiver.hits[0],
        )
        if accepted:
            breaks.append(f"internal webhook URLs accepted: {accepted[:3]}")
        if receiver.hits[0]:
            breaks.append(f"the loopback receiver got {receiver.hits[0]} requests")
        server_errors = sum(1 for s in answers if s >= 500)
        engine.dispose()
    finally:
        receiver.stop()
        sims.stop()
        if db is not None:
            db.drop()
    row = Row(
        f"abuse ({ctx.backend})",
        items=len(answers),
        invariant_breaks=len(breaks),
        server_errors=server_errors,
        seconds=time.monotonic() - began,
        notes=[*breaks, *_table(figures)],
    )
    return row, figures


def customer_of(deps: Any, phone: str) -> str:
    with deps.uow() as uow:
        customer = uow.customers.by_phone(phone)
    assert customer is not None
    return str(customer.id)


def _slip_past_registration(deps: Any, customer_id: str, port: int) -> int:
    """An endpoint whose name resolved to a public address at registration and to
    loopback now (DNS rebinding): written past the check, with a message due."""
    endpoint_id = deps.new_id()
    enc, key_id = deps.vault.encrypt("whsec_c2VsZnRlc3Q=", endpoint_id)
    now = deps.clock.now()
    with deps.uow() as uow:
        uow.webhooks.add_endpoint(
            id=endpoint_id,
            customer_id=customer_id,
            url=f"http://127.0.0.1:{port}/rebound",
            secret_enc=enc,
            key_id=key_id,
            event_types=["item.updated"],
            now=now,
        )
        uow.webhooks.enqueue([(customer_id, "item.updated", {"id": "probe"})], now)
        uow.commit()
    return 1


def _last_code(sims: Any, phone: str) -> str:
    import re

    messages = sims.http.get(f"{sims.sms_url}/sim/outbox", params={"to": phone}).json()
    texts = [m["text"] for m in messages["messages"]]
    match = re.search(r"\b(\d{6})\b", texts[-1]) if texts else None
    return match.group(1) if match else "000000"


def _table(f: dict[str, int]) -> list[str]:
    return [
        f"sign-ups: {f.get('signups_tried', 0)} tried, {f.get('signups_refused', 0)} refused "
        f"(429), {f.get('sms_sent', 0)} SMS sent",
        f"accounts: {f.get('accounts_tried', 0)} tried, {f.get('accounts_refused', 0)} refused, "
        f"{f.get('deposits_sent', 0)} 1-won deposits, {f.get('won_spent', 0)} won spent",
        f"enumeration: {f.get('enumeration_probes', 0)} probes, "
        f"{f.get('enumeration_differences', 0)} answers that differ",
        f"SSRF: {f.get('ssrf_urls', 0)} URLs, {f.get('ssrf_refused_at_registration', 0)} refused "
        f"at registration, the rest at delivery; {f.get('ssrf_requests_received', 0)} requests "
        "reached the loopback receiver",
    ]

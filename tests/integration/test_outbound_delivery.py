"""No request from the worker reaches a loopback or private address, whatever form the
webhook URL takes: a receiver on 127.0.0.1 counts what reaches it."""

from __future__ import annotations

import http.server
import threading

import pytest

from giftcash.adapters.net import SystemResolver
from giftcash.adapters.webhooks.sender import HttpWebhookSender
from giftcash.service import errors
from giftcash.service.outbound import OutboundPolicy
from giftcash.service.ports import Unavailable
from giftcash.webhooks import delivery as webhooks


class Receiver:
    """An HTTP server on 127.0.0.1 that counts requests; ``redirect_to`` answers 302."""

    def __init__(self, redirect_to: str | None = None) -> None:
        self.requests: list[tuple[str, str | None]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                outer.requests.append((self.path, self.headers.get("host")))
                self.rfile.read(int(self.headers.get("content-length") or 0))
                if redirect_to:
                    self.send_response(302)
                    self.send_header("location", redirect_to)
                else:
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(  # a short poll: shutdown() waits for one
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def loopback_forms(port: int) -> list[str]:
    return [
        f"http://127.0.0.1:{port}/hook",
        f"http://localhost:{port}/hook",
        f"http://127.1:{port}/hook",
        f"http://2130706433:{port}/hook",  # 127.0.0.1 as one integer
        f"http://0x7f000001:{port}/hook",  # and in hexadecimal
        f"http://0177.0.0.1:{port}/hook",  # and in octal
        f"http://[::ffff:127.0.0.1]:{port}/hook",
        f"http://0.0.0.0:{port}/hook",  # reaches the local host on Linux
        f"http://LOCALHOST.:{port}/hook",
    ]


def test_no_form_of_loopback_reaches_the_receiver(receiver):
    sender = HttpWebhookSender(timeout_s=2, policy=OutboundPolicy())  # https only, public only
    for url in loopback_forms(receiver.port) + [
        u.replace("http://", "https://") for u in loopback_forms(receiver.port)
    ]:
        with pytest.raises(Unavailable, match="refused"):
            sender.send(url, {}, "{}")
    sender.close()
    assert receiver.requests == []


def test_loopback_allowed_for_a_demo_is_delivered_once_with_the_names_host(receiver):
    sender = HttpWebhookSender(timeout_s=2, policy=OutboundPolicy.of(allow_loopback=True))
    assert sender.send(f"http://localhost:{receiver.port}/hook", {}, "{}") == 204
    sender.close()
    assert receiver.requests == [("/hook", f"localhost:{receiver.port}")]


def test_a_name_repointed_after_registration_is_not_called(receiver):
    """DNS rebinding: public when registered, loopback when delivered."""

    class Rebinding:
        answers = iter([["93.184.215.14"], ["127.0.0.1"]])

        def resolve(self, host, port):
            return next(self.answers)

    resolver = Rebinding()
    url = f"https://hooks.rebind.example:{receiver.port}/hook"
    webhooks.check_url(url, allow_loopback=False, resolver=resolver)  # public now: accepted
    sender = HttpWebhookSender(timeout_s=2, policy=OutboundPolicy(), resolver=resolver)
    with pytest.raises(Unavailable, match="loopback"):
        sender.send(url, {}, "{}")
    sender.close()
    assert receiver.requests == []


def test_redirects_are_not_followed(receiver):
    hop = Receiver(redirect_to=f"http://127.0.0.1:{receiver.port}/inside")
    try:
        sender = HttpWebhookSender(timeout_s=2, policy=OutboundPolicy.of(allow_loopback=True))
        assert sender.send(f"http://127.0.0.1:{hop.port}/hook", {}, "{}") == 302
        sender.close()
        assert len(hop.requests) == 1 and receiver.requests == []
    finally:
        hop.close()


@pytest.mark.parametrize(
    "url",
    [
        "https://localhost/hook",
        "https://2130706433/hook",
        "https://0x7f000001/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[::1]/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.7/hook",
        "https://[fe80::1]/hook",
    ],
)
def test_registration_refuses_every_form_with_the_system_resolver(url):
    with pytest.raises(errors.InvalidInput):
        webhooks.check_url(url, allow_loopback=False, resolver=SystemResolver())


def test_the_api_refuses_an_internal_endpoint_and_stores_nothing(world):
    from apiworld import signup

    auth = signup(world, "010-5555-0101")
    world.client.app.state.allow_loopback_webhooks = False
    r = world.client.post(
        "/v1/webhook-endpoints",
        headers=auth,
        json={"url": "https://2130706433/hook", "event_types": ["*"]},
    )
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "url_not_allowed"
    assert world.client.get("/v1/webhook-endpoints", headers=auth).json()["data"] == []

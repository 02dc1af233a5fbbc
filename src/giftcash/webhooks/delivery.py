"""Webhook endpoints of a customer, and delivery of the outbox (Standard Webhooks)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from giftcash.abuse import bounds
from giftcash.service import errors, outbound
from giftcash.service.deps import Deps
from giftcash.service.outbound import OutboundPolicy, Resolver
from giftcash.service.ports import Unavailable
from giftcash.service.ports.records import RowView

EVENT_TYPES = ("item.updated", "payout.updated")
MAX_ATTEMPTS = 12  # about a day and a half of exponential backoff, then kept for an operator


class Signer(Protocol):
    def new_secret(self) -> str: ...
    def headers(self, secret: str, msg_id: str, timestamp: int, body: str) -> dict[str, str]: ...


class Sender(Protocol):
    def send(self, url: str, headers: dict[str, str], body: str) -> int: ...


@dataclass(frozen=True, slots=True)
class Endpoint:
    id: str
    url: str
    event_types: list[str]
    secret: str | None  # only in the answer that creates it


def check_url(
    url: str,
    *,
    allow_loopback: bool,
    resolver: Resolver | None = None,
    denied: tuple[str, ...] = (),
) -> str:
    """Refuse a URL the worker must not call (service/outbound.py). A host name that does
    not resolve yet is accepted here and judged again at each delivery, where a name that
    does not resolve is not called; every address a name resolves to now must be public.
    ``denied``: the operator's own networks (CIDRs, GIFTCASH_OUTBOUND_DENIED)."""
    policy = OutboundPolicy.of(allow_loopback=allow_loopback, denied=denied)
    _scheme, host, port = outbound.split_url(url, policy)
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:  # a name, or an address in a form only the resolver reads
        if resolver is None:
            return url
        try:
            addresses = resolver.resolve(host, port)
        except LookupError:
            return url
    outbound.check_addresses(addresses, policy)
    return url


def add_endpoint(
    deps: Deps,
    signer: Signer,
    customer_id: str,
    url: str,
    event_types: list[str],
    *,
    allow_loopback: bool,
) -> Endpoint:
    check_url(
        url, allow_loopback=allow_loopback, resolver=deps.resolver, denied=deps.outbound_denied
    )
    unknown = sorted(set(event_types) - set(EVENT_TYPES) - {"*"})
    if unknown:
        raise errors.InvalidInput(f"unknown event types: {', '.join(unknown)}", field="event_types")
    endpoint_id = deps.new_id()
    secret = signer.new_secret()
    enc, key_id = deps.vault.encrypt(secret, endpoint_id)
    with deps.uow() as uow:
        uow.webhooks.add_endpoint(
            id=endpoint_id,
            customer_id=customer_id,
            url=url,
            secret_enc=enc,
            key_id=key_id,
            event_types=event_types or list(EVENT_TYPES),
            now=deps.clock.now(),
        )
        uow.commit()
    return Endpoint(endpoint_id, url, event_types or list(EVENT_TYPES), secret)


def list_endpoints(deps: Deps, customer_id: str) -> list[Endpoint]:
    with deps.reader() as uow:
        rows = uow.webhooks.endpoints(customer_id)
    return [Endpoint(r["id"], r["url"], list(r["event_types"]), None) for r in rows]


def remove_endpoint(deps: Deps, customer_id: str, endpoint_id: str) -> None:
    with deps.uow() as uow:
        if not uow.webhooks.remove_endpoint(customer_id, endpoint_id):
            raise errors.NotFound("no such webhook endpoint")
        uow.commit()


def deliver(deps: Deps, signer: Signer, sender: Sender, worker_id: str, limit: int = 50) -> int:
    """Send due outbox messages; 2xx marks them delivered, anything else retries later.
    Webhooks are at-least-once: receivers dedupe on ``webhook-id``. Deliveries are
    bounded per endpoint (abuse/bounds.py): past the bound a message waits in the
    outbox, recorded with the claim, before the call."""
    now = deps.clock.now()
    with deps.uow() as uow:
        claimed = uow.webhooks.claim(worker_id, now, now + timedelta(seconds=60), limit)
        batch = []
        for msg in claimed:
            call = bounds.Call(bounds.WEBHOOK, account=msg["endpoint_id"])
            wait_s = bounds.over(uow, deps, call, now)
            if wait_s:
                deps.bound_events.refused(bounds.WEBHOOK, "account")
                uow.webhooks.postpone(msg["id"], now + timedelta(seconds=wait_s))
            else:
                bounds.record(uow, deps, call, now)
                batch.append(msg)
        uow.commit()
    for msg in batch:
        _deliver_one(deps, signer, sender, msg)
    return len(batch)


def _deliver_one(deps: Deps, signer: Signer, sender: Sender, msg: RowView) -> None:
    secret = deps.vault.decrypt(msg["secret_enc"], msg["key_id"], msg["endpoint_id"])
    now = deps.clock.now()
    headers = signer.headers(secret, "msg_" + msg["id"], int(now.timestamp()), msg["payload"])
    try:
        status = sender.send(msg["url"], headers, msg["payload"])
        error = "" if 200 <= status < 300 else f"HTTP {status}"
    except Unavailable as e:
        error = f"unreachable: {e}"
    with deps.uow() as uow:
        if not error:
            uow.webhooks.delivered(msg["id"], deps.clock.now())
        else:
            attempts = msg["attempts"]
            retry_at = (
                now + timedelta(seconds=min(2**attempts * 5, 6 * 3600))
                if attempts < MAX_ATTEMPTS
                else None
            )
            uow.webhooks.failed(msg["id"], error, retry_at)
        uow.commit()

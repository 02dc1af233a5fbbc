"""The bank's deposit notifications, verified (Standard Webhooks, as the bank simulator
signs them): headers ``webhook-id``, ``webhook-timestamp`` (Unix seconds) and
``webhook-signature`` (``v1,<base64 HMAC-SHA256>`` over ``{id}.{timestamp}.{body}``
under the shared ``whsec_`` secret; several space-separated signatures are allowed while
a secret is rotated).

A notification older (or further in the future) than the tolerance is refused, so a
captured one cannot be replayed later; within the tolerance the same notification may
come again (the bank retries and repeats): the receiver keeps it once by its
``notification_id`` and, whatever it says, asks the deposits inquiry before acting."""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from giftcash.adapters.webhooks import signing
from giftcash.service.ports.virtual_accounts import (
    DepositNotice,
    IncomingDeposit,
    InvalidNotification,
)

NOTIFICATION_TYPE = "virtual_account.deposit"
DEFAULT_TOLERANCE_S = 300  # Standard Webhooks' suggested five minutes


def verify_deposit_notification(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: datetime,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
) -> DepositNotice:
    """The verified notification; raises ``InvalidNotification`` (never naming the
    secret or the signature)."""
    h = {k.lower(): v for k, v in headers.items()}
    msg_id = h.get("webhook-id", "")
    stamp = h.get("webhook-timestamp", "")
    signatures = h.get("webhook-signature", "")
    if not msg_id or not stamp or not signatures:
        raise InvalidNotification("missing signature headers")
    if not stamp.isdigit():
        raise InvalidNotification("malformed timestamp")
    timestamp = int(stamp)
    if abs(now.timestamp() - timestamp) > tolerance_s:
        raise InvalidNotification("timestamp outside the tolerance")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidNotification("body is not UTF-8") from None
    expected = signing.sign(secret, msg_id, timestamp, text).encode()
    # Every candidate is compared in constant time, none skipped on the first miss.
    matches = [hmac.compare_digest(expected, s.encode()) for s in signatures.split()]
    if not any(matches):
        raise InvalidNotification("signature mismatch")
    return _notice(msg_id, text)


def _notice(msg_id: str, text: str) -> DepositNotice:
    try:
        payload = json.loads(text)
        if payload.get("type") != NOTIFICATION_TYPE:
            raise InvalidNotification("not a deposit notification")
        d: dict[str, Any] = payload["data"]
        return DepositNotice(
            notification_id=msg_id,
            reference=str(d["reference"]),
            bank_code=str(d["bank_code_std"]),
            account_number=str(d["account_num"]),
            deposit=incoming_deposit(d),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        raise InvalidNotification("malformed notification body") from None


def incoming_deposit(d: Mapping[str, Any]) -> IncomingDeposit:
    """One deposit as the bank describes it (notification or inquiry). Raises
    ``ValueError`` / ``KeyError`` on a malformed item."""
    state = str(d["state"])
    if state not in ("received", "returned"):
        raise ValueError("unknown deposit state")
    received_at = datetime.fromisoformat(str(d["received_at"]))
    if received_at.tzinfo is None:
        raise ValueError("received_at without an offset")
    amount = int(str(d["tran_amt"]))
    if amount <= 0:
        raise ValueError("a deposit amount is positive")
    return IncomingDeposit(
        deposit_id=str(d["deposit_id"]),
        amount=amount,
        payer_name=str(d["payer_name"]),
        payer_bank_code=str(d["payer_bank_code_std"]),
        payer_account_masked=str(d["payer_account_num_masked"]),
        received_at=received_at,
        state=state,  # type: ignore[arg-type]
    )

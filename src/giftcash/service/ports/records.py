"""Records that cross the service↔storage boundary: what the repositories take and give.

Immutable (a change is a new record); the rows behind them stay inside the adapters.
The domain's own records (customers, items, payouts...) are in ``domain/records.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

# A read model the operators' screens show as it comes (figures, support, reconciliation,
# cases, the console): typed per key is still to come; the money path never uses it.
RowView = Mapping[str, Any]

# The policy's decision as stored with an item (JSON: outcome, code, routes, findings).
DecisionRecord = dict[str, Any]


@dataclass(frozen=True, slots=True)
class NewItem:
    """One item of a submission as intake stores it (the code already encrypted)."""

    id: str
    submission_id: str
    customer_id: str
    brand_id: str
    issuer: str
    currency: str
    face_value: int
    fee: int
    payout: int
    funding_source: str
    status: str
    code_enc: bytes
    pin_enc: bytes | None
    key_id: str
    code_hmac: str
    masked_code: str
    decline_code: str | None = None
    decline_message: str | None = None
    review_reason: str | None = None
    flags: list[str] | None = None
    hold_until: datetime | None = None
    warning: str | None = None
    decision: DecisionRecord | None = None


@dataclass(frozen=True, slots=True)
class LeasedItem:
    """An item a worker leased (``items.claim``): what the next step needs."""

    id: str
    customer_id: str
    issuer: str
    brand_id: str
    currency: str
    face_value: int
    payout: int
    funding_source: str
    redeem_key: str | None
    code_enc: bytes
    pin_enc: bytes | None
    key_id: str
    attempts: int
    submission_id: str
    reviewed_at: datetime | None
    decision: DecisionRecord | None
    hold_until: datetime | None
    # an active payment stop covers it: the issuer is only asked what became of an
    # earlier call, never sent a capture (redemption/steps.py)
    stopped: bool = False

    @property
    def device_key(self) -> str | None:
        device = (self.decision or {}).get("device_key")
        return device if isinstance(device, str) else None


@dataclass(frozen=True, slots=True)
class LeasedPayout:
    """A payout a worker leased (``payouts.claim``), with its account (still encrypted)."""

    id: str
    customer_id: str
    currency: str
    amount: int
    status: str
    bank_tran_id: str
    attempts: int
    created_at: datetime
    bank_account_id: str
    bank_code: str
    account_number_enc: bytes
    account_key_id: str
    holder_name: str
    bank_closed_from: datetime | None = None
    bank_closed_until: datetime | None = None
    # an active payment stop covers it: the bank is only asked what became of an earlier
    # call, never sent anything (payouts/sending.py)
    stopped: bool = False


@dataclass(frozen=True, slots=True)
class IssuerEvidence:
    """One answer of an issuer about an item (redemption/evidence.py): what was asked
    (``kind``: inquiry | redemption), when, what it answered, and the issuer's own facts."""

    id: str
    item_id: str
    kind: str
    issuer: str
    asked_at: datetime
    answered_at: datetime
    outcome: str  # inquiry: active | used | expired | not_found; redemption: captured | ...
    used_at: datetime | None = None
    used_where: str | None = None
    issuer_ref: str | None = None
    amount: int | None = None


@dataclass(frozen=True, slots=True)
class PendingVerification:
    """A bank account whose 1-won deposit has no recorded outcome yet."""

    id: str
    status: str
    verify_bank_tran_id: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OperatorAccount:
    id: str
    username: str
    password_hash: str
    totp_secret_enc: bytes
    totp_key_id: str
    role: str
    created_at: datetime
    last_totp_step: int | None = None


@dataclass(frozen=True, slots=True)
class Challenge:
    id: str
    code_hash: str
    attempts: int
    expires_at: datetime
    used_at: datetime | None


@dataclass(frozen=True, slots=True)
class Token:
    subject_type: str
    subject_id: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    request_hash: str
    status_code: int | None
    response_body: str | None
    locked_until: datetime


@dataclass(frozen=True, slots=True)
class InventoryUnit:
    """A unit of inventory (resale): a resell brand's verified voucher held to sell. Its
    code stays encrypted on its item; ``cost`` is what the seller is paid."""

    id: str
    item_id: str
    brand_id: str
    currency: str
    face_value: int
    cost: int
    expires_at: datetime | None
    status: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SealedCode:
    """A unit's voucher as its item holds it: the code and PIN encrypted (the vault's
    additional data is the item id, and ``<item id>:pin`` for the PIN), with what the
    pre-delivery check and the seller's case need. Opened only for the call or the
    buyer's reveal that needs it."""

    unit_id: str
    item_id: str
    seller_id: str
    issuer: str
    masked_code: str
    code_enc: bytes = field(repr=False)
    pin_enc: bytes | None = field(repr=False)
    key_id: str


@dataclass(frozen=True, slots=True)
class Order:
    """A buyer's order (resale): ``quantity`` units of one brand and face value, paid by
    one deposit of exactly ``amount`` to the order's virtual account before ``deadline``.
    ``virtual_account_key`` is made before the bank is asked for the account."""

    id: str
    customer_id: str
    brand_id: str
    currency: str
    face_value: int
    quantity: int
    amount: int
    status: str
    deadline: datetime
    virtual_account_key: str
    virtual_account_id: str | None
    virtual_account_number: str | None
    created_at: datetime
    # when the bank closed the account of the expired order; None: open, or the close due
    account_closed_at: datetime | None = None
    # when its units were delivered (the guarantee window runs from here); None: not yet
    delivered_at: datetime | None = None
    # when its buyer first saw the codes (resale/delivery.py ``delivered_codes``)
    codes_revealed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Claim:
    """A buyer's claim that a delivered unit does not work (resale/claims.py): one per
    unit, recorded with the verdict the issuer's answer gave (``status``: review,
    refunded or refused) and that answer as evidence. ``amount`` is the unit's price (what
    a refund gives back); ``refund``: how it goes back (``deposit_return``, ``payout``,
    ``owed`` while the buyer has no account to pay), None when nothing is refunded."""

    id: str
    order_id: str
    unit_id: str
    customer_id: str  # the buyer
    seller_id: str
    currency: str
    amount: int
    status: str
    reason: str | None
    issuer_status: str
    used_at: datetime | None
    used_where: str | None
    refund: str | None
    payout_id: str | None
    created_at: datetime
    # set when an operator settled it from review (resale/claim_review.py)
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    resolution_note: str | None = None


@dataclass(frozen=True, slots=True)
class OrderDeposit:
    """A deposit to an order's virtual account, once per the bank's ``bank_deposit_id``;
    ``return_reason`` and ``return_key`` once it is judged not ours to keep."""

    id: str
    order_id: str
    bank_deposit_id: str
    amount: int
    payer_name: str | None  # None: erased with the record's keep period (privacy/purge.py)
    received_at: datetime
    status: str
    return_reason: str | None
    return_key: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RecordedDeposit:
    """A deposit in our books with the state of its order: reconciliation's side of a
    deposit the bank lists."""

    deposit: OrderDeposit
    order_status: str
    currency: str


@dataclass(frozen=True, slots=True)
class StockLine:
    """Units of one brand and face value in one state (stocked or reserved), for the
    console's ageing view: how many, their cost, how many expire soon, the oldest."""

    brand_id: str
    face_value: int
    status: str
    units: int
    cost: int  # won, the sum of what their sellers are paid
    expiring_30: int  # expire within 30 days
    expiring_90: int  # within 90 days (the 30 included)
    no_expiry: int
    oldest: datetime  # the longest-held unit's stocking time


@dataclass(frozen=True, slots=True)
class BrandMargin:
    """What one brand's delivered orders brought in (their amounts) against what their
    units cost (what their sellers are paid), for the console's margin by brand. A unit
    withdrawn before delivery (found spent) is not counted: the order's replacement is."""

    brand_id: str
    orders: int
    units: int
    revenue: int  # won
    cost: int  # won

    @property
    def margin(self) -> int:
        return self.revenue - self.cost

    @property
    def margin_bps(self) -> int | None:
        """The margin as a share of the sales in basis points (rounded down)."""
        return None if self.revenue <= 0 else self.margin * 10_000 // self.revenue


@dataclass(frozen=True, slots=True)
class ClaimTally:
    status: str
    claims: int
    amount: int  # won: the claimed units' prices


@dataclass(frozen=True, slots=True)
class ReviewClaim:
    """A claim waiting for an operator, with what its unit was."""

    claim: Claim
    brand_id: str
    face_value: int


@dataclass(frozen=True, slots=True)
class SellerDebt:
    """What a seller owes us (their receivable's balance, netted from their payouts)."""

    customer_id: str
    currency: str
    owed: int  # won, > 0
    since: datetime  # when their receivable was first booked


@dataclass(frozen=True, slots=True)
class OrderTally:
    status: str
    orders: int
    amount: int  # won


@dataclass(frozen=True, slots=True)
class PayableGroup:
    customer_id: str
    bank_account_id: str
    currency: str
    item_ids: list[str]
    amount: int


@dataclass(frozen=True, slots=True)
class ConsentGiven:
    """A customer's answer to one version of one consent document (identity/consents.py)."""

    customer_id: str
    document: str
    version: str
    agreed: bool
    at: datetime


@dataclass(frozen=True, slots=True)
class RegisteredBy:
    code_hmac: str
    item_id: str
    customer_id: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AuditRecord:
    seq: int
    id: str
    at: datetime
    actor: str  # operator:<username> | customer:<id> | system | cli:<os user> | anonymous
    action: str  # e.g. rule.update, item.approve, operator.login_failed
    subject: str | None
    detail: dict[str, Any] | None
    prev_hash: str
    hash: str
    # Sealed records (audit/log.py): the chain hashes ``body_digest``, a salted digest of
    # subject and detail, so the detail can be redacted (salt and detail erased) while
    # the chain still verifies. None: a record from before sealing (hashes its content).
    body_digest: str | None = None
    salt: str | None = None
    redacted_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Block:
    """An operator's block on a customer (subject: the customer id) or a device (subject:
    the device key the customer site records)."""

    kind: str  # customer | device
    subject: str
    reason: str
    blocked_by: str
    blocked_at: datetime


@dataclass(frozen=True, slots=True)
class Note:
    """An operator's note on a customer (append-only)."""

    id: str
    author: str
    body: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NoticeDue:
    """A notice of a money event not yet settled (payouts/notices.py): ``id`` is the SMS
    port's idempotency key, ``subject_id`` the payout, item or submission it tells of."""

    id: str
    customer_id: str
    event: str
    subject_id: str
    attempts: int


# -- payment stops (stops/, domain/stops.py) -------------------------------------------------


@dataclass(frozen=True, slots=True)
class PaymentStop:
    """A stop as stored. ``customer_id`` for a customer's stop, ``subject_hmac`` (keyed
    hash) for a code's or an account's; ``subject_masked`` is all anyone is shown."""

    id: str
    scope: str
    customer_id: str | None
    subject_hmac: str | None
    subject_masked: str
    bank_code: str | None
    requester: str
    requester_name: str
    requester_contact: str
    reference: str
    reason: str
    state: str
    requested_by: str
    created_at: datetime
    closed_at: datetime | None = None
    closed_by: str | None = None
    close_reason: str | None = None


@dataclass(frozen=True, slots=True)
class StopExposure:
    """One item a stop covers, read under the stop's row locks (payouts, then items)."""

    item_id: str
    customer_id: str
    currency: str
    payout_won: int  # what the item pays the customer
    item_status: str
    item_leased: bool  # a worker's lease is live: its issuer call may be under way
    payout_id: str | None
    payout_status: str | None
    payout_leased: bool


@dataclass(frozen=True, slots=True)
class StopLink:
    """What a stop found one item (and its payout) doing when it first saw it."""

    stop_id: str
    item_id: str
    payout_id: str | None
    finding: str
    item_status: str
    payout_status: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class TraceRow:
    """One link of the chain a stop's tracing export follows: voucher (masked) → item →
    submission → customer → payout → bank account (masked), with amounts and times."""

    stop_id: str
    finding: str
    masked_code: str
    brand_id: str
    issuer: str
    currency: str
    face_value: int
    payout_won: int
    item_id: str
    item_status: str
    item_created_at: datetime
    redeemed_at: datetime | None
    submission_id: str
    submission_created_at: datetime
    customer_id: str
    customer_name: str
    payout_id: str | None
    payout_status: str | None
    payout_amount: int | None
    bank_tran_id: str | None
    payout_sent_at: datetime | None
    payout_confirmed_at: datetime | None
    bank_code: str
    account_masked: str
    account_holder: str


@dataclass(frozen=True, slots=True)
class HeldSale:
    """An item of a customer's that an active stop holds, and whom to call about it."""

    item_id: str
    submission_id: str
    stop_id: str
    requester: str
    requester_name: str
    requester_contact: str
    since: datetime


# -- identity verification (본인인증) and the identity stored per customer ----------------


@dataclass(frozen=True, slots=True)
class VerifiedPerson:
    """What an identity provider (PASS / NICE / KCB) answers once the person confirmed on
    their phone. ``ci`` (연계정보) is the same for one person at every service; ``di``
    (중복가입확인정보) is this service's own. Both are secrets of the person: stored only
    as a keyed hash (CI) or encrypted (DI), never logged."""

    name: str
    birth_date: date
    sex: str  # M | F
    carrier: str  # SKT | KT | LGU | MVNO
    phone: str
    ci: str
    di: str


@dataclass(frozen=True, slots=True)
class IdentityResult:
    """The provider's answer about one verification: ``pending`` (not confirmed yet),
    ``verified`` (with ``person``), ``failed`` (refused on the phone, or expired)."""

    status: str  # pending | verified | failed
    person: VerifiedPerson | None = None


@dataclass(frozen=True, slots=True)
class IdDocumentAnswer:
    """신분증 진위확인: whether the ID document's name, number and issue date are a
    genuine document's (``genuine``) or not (``mismatch``)."""

    outcome: str  # genuine | mismatch


@dataclass(frozen=True, slots=True)
class IdentityCheck:
    """One identity verification we asked for (``identity_checks``): the intent is stored
    with our id (the provider's idempotency key) before the call; ``transaction_id`` is
    the provider's once it answered. ``purpose`` signup: the customer does not exist yet
    (``customer_id`` is the id they will get); link: an existing customer."""

    id: str
    purpose: str  # signup | link
    phone: str
    customer_id: str
    status: str  # started | completed | refused | failed
    transaction_id: str | None
    password_hash: str | None
    consents: dict[str, bool] | None
    expires_at: datetime
    created_at: datetime


@dataclass(frozen=True, slots=True)
class StoredIdentity:
    """A customer's verified identity as stored: the CI only as a keyed hash, the rest
    (DI, name, birth date, sex, carrier, phone) encrypted in one blob under ``key_id``."""

    customer_id: str
    ci_hmac: str
    details_enc: bytes
    key_id: str
    verified_at: datetime
    document_checked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class DueDiligence:
    """Enhanced due diligence of one customer (``customer_due_diligence``): asked by an
    operator (who, why, when) and answered by the customer (sealed answers)."""

    customer_id: str
    required_by: str | None
    required_reason: str | None
    required_at: datetime | None
    answers_enc: bytes | None
    answers_key_id: str | None
    answered_at: datetime | None

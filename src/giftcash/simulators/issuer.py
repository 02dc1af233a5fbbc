"""Issuer simulator: one service speaks for every issuer of the catalogue; the path names
the issuer (``/v1/issuers/{issuer}/...``).

Real API (fault injection applies):

- ``POST /v1/issuers/{issuer}/balance-inquiry {code, pin?}`` → ``{status: active | used |
  expired | not_found, face_value, balance, currency, purchase_channel, purchased_at,
  expires_at, inquiry_ref}``, and for a used voucher ``used_at`` and ``used_where`` (the
  issuer's own record of when and where it was spent); a wrong PIN is ``not_found``.
  Issuers whose brands do not report the purchase channel answer 404
  ``{"error": "inquiry_not_supported"}``.
- ``POST /v1/issuers/{issuer}/redemptions`` (header ``Idempotency-Key``) ``{code, pin?,
  amount?}`` → 201 ``{redemption_id, status: "captured", amount, currency,
  purchase_channel, purchased_at}``; 409 ``already_redeemed`` (with ``used_at`` and
  ``used_where``), 404 ``not_found``, 410
  ``expired``, 422 ``amount_mismatch`` (``amount`` given and not the whole balance: only
  whole-value redemptions exist). Every determinate answer is stored under its key: the
  same key again gets the same status and body and redeems nothing; the same key with
  another code, PIN or amount gets 422 ``idempotency_key_reused``.
- ``GET /v1/issuers/{issuer}/redemptions/{idempotency_key}`` → 200 the redemption, or
  404 if that key never redeemed anything (the inquiry that resolves a lost answer).

Test data and inspection (``/sim/*``, never faulted):

- ``POST /sim/vouchers {brand_id, face_value, purchase_channel, purchased_at?,
  valid_days?, count?}`` → 201 one voucher ``{voucher_id, code, pin, brand_id, issuer,
  face_value, currency, purchase_channel, purchased_at, expires_at}``, or with ``count``
  ``{vouchers: [...]}``. An issue-date PIN is the purchase date (Korean time) YYYYMMDD.
  A product coupon (물품형) is sold by ``product_id`` (its list price is the face value)
  or by a face value that is one product's price; its sale, inquiry and voucher answers
  add ``kind: "product", product_id, product_name, product_name_ko, list_price`` and,
  once spent, ``spent_at`` (who spent it) and ``spent_when``; amount vouchers add
  ``kind: "amount"``.
- ``GET /sim/vouchers/{voucher_id}``; ``POST /sim/vouchers/{voucher_id}/use`` (spent by
  someone else; an optional body ``{place}`` names where, e.g. a store, default
  ``other``) and ``/expire``; the same two as ``POST /sim/vouchers/use|expire
  {brand_id, code}`` for a test that kept only the code.
- ``GET /sim/redemptions[?issuer=]`` → ``{redemptions: [{redemption_id, idempotency_key,
  issuer, brand_id, code_hmac, masked_code, amount, currency, at}], count,
  codes_redeemed_more_than_once}``. The last is always 0: ``redemptions.voucher_id`` is
  UNIQUE, so the store itself refuses a second redemption of one voucher.
- ``GET /sim/settlement?date=YYYY-MM-DD[&issuer=]`` → CSV ``date, issuer, redemption_id,
  idempotency_key, amount, currency`` of that UTC day's redemptions.

Codes and PINs are kept only as HMAC-SHA256 under a key made on first start (the code's
last four characters are kept for display); no answer ever carries a code back except
the sale that created it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Header, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from giftcash.domain.brands import (
    CATALOGUE,
    Brand,
    CodeFormat,
    Kind,
    Product,
    gs1_check_digit,
    mask,
    normalise,
)
from giftcash.domain.errors import DomainError
from giftcash.domain.quotes import FundingSource
from giftcash.simulators.common import (
    Clock,
    answer,
    base_app,
    csv_response,
    iso,
    problem,
    serve,
    utc_now,
)
from giftcash.simulators.store import META_SCHEMA, Store, meta_get, meta_set

KST = timezone(timedelta(hours=9))
MAX_SALE_COUNT = 10_000
PURCHASE_CHANNELS = tuple(s.value for s in FundingSource if s is not FundingSource.UNKNOWN)

SCHEMA = (
    META_SCHEMA
    + """
CREATE TABLE IF NOT EXISTS vouchers (
    id TEXT PRIMARY KEY,
    issuer TEXT NOT NULL,
    brand_id TEXT NOT NULL,
    code_hmac TEXT NOT NULL,
    code_last4 TEXT NOT NULL,
    code_length INTEGER NOT NULL,
    pin_hmac TEXT,
    face_value INTEGER NOT NULL CHECK (face_value > 0),
    balance INTEGER NOT NULL CHECK (balance >= 0),
    currency TEXT NOT NULL,
    purchase_channel TEXT NOT NULL,
    purchased_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'used')),
    used_by TEXT,
    used_at TEXT,
    UNIQUE (issuer, code_hmac)
);
CREATE TABLE IF NOT EXISTS redemptions (
    redemption_id TEXT PRIMARY KEY,
    issuer TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    voucher_id TEXT NOT NULL UNIQUE REFERENCES vouchers (id),
    brand_id TEXT NOT NULL,
    amount INTEGER NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    at TEXT NOT NULL,
    UNIQUE (issuer, idempotency_key)
);
CREATE INDEX IF NOT EXISTS redemptions_at ON redemptions (at);
CREATE TABLE IF NOT EXISTS coupon_products (
    voucher_id TEXT PRIMARY KEY REFERENCES vouchers (id),
    product_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS answers (
    issuer TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status_code INTEGER NOT NULL,
    body TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (issuer, idempotency_key)
);
"""
)


class SaleIn(BaseModel):
    brand_id: str = Field(max_length=64)
    # amount vouchers: the face value; product coupons: the product (its price is the
    # face value), or a face value that is one product's price
    face_value: int | None = Field(default=None, gt=0)
    product_id: str | None = Field(default=None, max_length=64)
    purchase_channel: str = Field(max_length=32)
    purchased_at: datetime | None = None
    valid_days: int = Field(default=365, ge=1, le=3650)
    count: int | None = Field(default=None, ge=1, le=MAX_SALE_COUNT)


class CodeIn(BaseModel):
    code: str = Field(min_length=1, max_length=64)
    pin: str | None = Field(default=None, max_length=32)


class RedeemIn(CodeIn):
    amount: int | None = Field(default=None, gt=0)


class VoucherRef(BaseModel):
    brand_id: str = Field(max_length=64)
    code: str = Field(min_length=1, max_length=64)
    place: str = Field(default="other", min_length=1, max_length=40)


class UseIn(BaseModel):
    place: str = Field(default="other", min_length=1, max_length=40)


IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)]


def issue_code(fmt: CodeFormat, rng: secrets.SystemRandom) -> str:
    """A code of the brand's shape: one of its lengths, one of its prefixes, its alphabet."""
    length = rng.choice(fmt.lengths)
    prefix = rng.choice(fmt.prefixes) if fmt.prefixes else ""
    if fmt.checksum == "ean13":
        body = prefix + "".join(rng.choice(fmt.alphabet) for _ in range(length - 1 - len(prefix)))
        return body + gs1_check_digit(body)
    return prefix + "".join(rng.choice(fmt.alphabet) for _ in range(length - len(prefix)))


def issue_pin(fmt: CodeFormat, purchased_at: datetime, rng: secrets.SystemRandom) -> str | None:
    if fmt.pin_length is None:
        return None
    if fmt.pin_length == 8 and "YYYYMMDD" in fmt.pin_label:
        return purchased_at.astimezone(KST).strftime("%Y%m%d")  # the issue date on the card
    return "".join(rng.choice("0123456789") for _ in range(fmt.pin_length))


class IssuerSim:
    """The issuer's state and rules; the routes below only parse and render."""

    def __init__(self, store: Store, clock: Clock, brands: tuple[Brand, ...]) -> None:
        self.store = store
        self.clock = clock
        self.brands = {b.id: b for b in brands}
        self.issuers: dict[str, list[Brand]] = {}
        for b in brands:
            self.issuers.setdefault(b.issuer, []).append(b)
        self.rng = secrets.SystemRandom()
        with store.tx() as db:
            key_hex = meta_get(db, "hmac_key")
            if key_hex is None:
                key_hex = secrets.token_hex(32)
                meta_set(db, "hmac_key", key_hex)
        self._key = bytes.fromhex(key_hex)

    def digest(self, *parts: str) -> str:
        return hmac.new(self._key, "\x00".join(parts).encode(), hashlib.sha256).hexdigest()

    # -- selling ---------------------------------------------------------------------------

    def sell(self, sale: SaleIn) -> tuple[int, dict[str, Any]]:
        brand = self.brands.get(sale.brand_id)
        if brand is None:
            return 404, {"error": "brand_not_found", "message": "no such brand"}
        if sale.purchase_channel not in PURCHASE_CHANNELS:
            allowed = ", ".join(PURCHASE_CHANNELS)
            return 422, {
                "error": "invalid_purchase_channel",
                "message": f"purchase_channel is one of {allowed}",
            }
        product = self._product(brand, sale)
        if isinstance(product, tuple):
            return product
        if product is not None:
            sale = sale.model_copy(update={"face_value": product.price})
        if sale.face_value is None:
            return 422, {"error": "face_value_required", "message": "give the face value"}
        try:
            brand.check_face_value(sale.face_value)
        except DomainError as e:
            return 422, {"error": e.code, "message": e.message}
        purchased_at = sale.purchased_at or self.clock()
        if purchased_at.tzinfo is None:
            purchased_at = purchased_at.replace(tzinfo=UTC)
        expires_at = purchased_at + timedelta(days=sale.valid_days)
        with self.store.tx() as db:
            sold = [
                self._sell_one(db, brand, sale, purchased_at, expires_at)
                for _ in range(sale.count or 1)
            ]
        return 201, ({"vouchers": sold} if sale.count is not None else sold[0])

    @staticmethod
    def _product(brand: Brand, sale: SaleIn) -> Product | tuple[int, dict[str, Any]] | None:
        """The product a product coupon names (None for an amount voucher), or an error."""
        if brand.kind is not Kind.PRODUCT:
            if sale.product_id is not None:
                return 422, {"error": "not_a_product_coupon", "message": "an amount voucher"}
            return None
        if sale.product_id is not None:
            found = brand.product(sale.product_id)
        else:
            found = next((p for p in brand.products if p.price == sale.face_value), None)
        if found is None or (sale.face_value is not None and sale.face_value != found.price):
            return 422, {"error": "product_not_found", "message": "no such product at this price"}
        return found

    def _sell_one(
        self,
        db: sqlite3.Connection,
        brand: Brand,
        sale: SaleIn,
        purchased_at: datetime,
        expires_at: datetime,
    ) -> dict[str, Any]:
        fmt = brand.code_format
        for _ in range(100):  # a clash needs two equal random codes: practically never
            code = issue_code(fmt, self.rng)
            pin = issue_pin(fmt, purchased_at, self.rng)
            assert fmt.validate(code, pin) == (code, pin)
            voucher_id = f"vch_{uuid.uuid4().hex}"
            cur = db.execute(
                "INSERT INTO vouchers (id, issuer, brand_id, code_hmac, code_last4, code_length,"
                " pin_hmac, face_value, balance, currency, purchase_channel, purchased_at,"
                " expires_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active')"
                " ON CONFLICT (issuer, code_hmac) DO NOTHING",
                (
                    voucher_id,
                    brand.issuer,
                    brand.id,
                    self.digest(code),
                    code[-4:],
                    len(code),
                    None if pin is None else self.digest(pin),
                    sale.face_value,
                    sale.face_value,
                    brand.currency,
                    sale.purchase_channel,
                    iso(purchased_at),
                    iso(expires_at),
                ),
            )
            if cur.rowcount == 1:
                found = self._product(brand, sale)
                product = found if isinstance(found, Product) else None
                if product is not None:
                    db.execute(
                        "INSERT INTO coupon_products (voucher_id, product_id) VALUES (?, ?)",
                        (voucher_id, product.id),
                    )
                return {
                    **self._product_fields(brand, product),
                    "voucher_id": voucher_id,
                    "code": code,
                    "pin": pin,
                    "brand_id": brand.id,
                    "issuer": brand.issuer,
                    "face_value": sale.face_value,
                    "currency": brand.currency,
                    "purchase_channel": sale.purchase_channel,
                    "purchased_at": iso(purchased_at),
                    "expires_at": iso(expires_at),
                }
        raise AssertionError("could not issue a unique code in 100 tries")

    @staticmethod
    def _product_fields(brand: Brand, product: Product | None) -> dict[str, Any]:
        if product is None:
            return {"kind": brand.kind.value}
        return {
            "kind": brand.kind.value,
            "product_id": product.id,
            "product_name": product.name,
            "product_name_ko": product.name_ko,
            "list_price": product.price,
        }

    def _coupon(self, db: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
        """What a product coupon names, and when and where it was spent (an amount
        voucher: only its kind)."""
        brand = self.brands[row["brand_id"]]
        found = db.execute(
            "SELECT product_id FROM coupon_products WHERE voucher_id = ?", (row["id"],)
        ).fetchone()
        product = brand.product(found["product_id"]) if found is not None else None
        spent = {"spent_at": row["used_by"], "spent_when": row["used_at"]}
        return {**self._product_fields(brand, product), **spent}

    # -- the issuer API --------------------------------------------------------------------

    def _find(
        self, db: sqlite3.Connection, issuer: str, code: str, pin: str | None
    ) -> sqlite3.Row | None:
        """The voucher, or None when the code is unknown or the PIN is wrong (one answer
        for both, so the simulator is no PIN oracle either)."""
        row = db.execute(
            "SELECT * FROM vouchers WHERE issuer = ? AND code_hmac = ?",
            (issuer, self.digest(normalise(code))),
        ).fetchone()
        if row is None:
            return None
        if row["pin_hmac"] is not None:
            given = normalise(pin or "")
            if not hmac.compare_digest(row["pin_hmac"], self.digest(given)):
                return None
        return row

    def _status(self, row: sqlite3.Row) -> str:
        if row["status"] == "used":
            return "used"
        if datetime.fromisoformat(row["expires_at"]) <= self.clock():
            return "expired"
        return "active"

    def inquire(self, issuer: str, body: CodeIn) -> tuple[int, dict[str, Any]]:
        brands = self.issuers.get(issuer)
        if brands is None:
            return 404, {"error": "issuer_not_found", "message": "no such issuer"}
        if not any(b.reports_purchase_channel for b in brands):
            return 404, {"error": "inquiry_not_supported", "message": "no balance inquiry"}
        with self.store.tx() as db:
            row = self._find(db, issuer, body.code, body.pin)
            coupon = self._coupon(db, row) if row is not None else {}
        if row is None or not self.brands[row["brand_id"]].reports_purchase_channel:
            empty = dict.fromkeys(
                ("face_value", "balance", "currency", "purchase_channel", "purchased_at")
            )
            return 200, {"status": "not_found", **empty, "expires_at": None}
        return 200, {
            **self._ref(),
            "used_at": row["used_at"],
            "used_where": row["used_by"],
            "status": self._status(row),
            "face_value": row["face_value"],
            "balance": row["balance"],
            "currency": row["currency"],
            "purchase_channel": row["purchase_channel"],
            "purchased_at": row["purchased_at"],
            "expires_at": row["expires_at"],
            **coupon,
        }

    def redeem(self, issuer: str, key: str | None, body: RedeemIn) -> tuple[int, dict[str, Any]]:
        if issuer not in self.issuers:
            return 404, {"error": "issuer_not_found", "message": "no such issuer"}
        if not key:
            return 400, {
                "error": "idempotency_key_required",
                "message": "send an Idempotency-Key header",
            }
        fingerprint = self.digest(
            normalise(body.code), normalise(body.pin or ""), str(body.amount or "")
        )
        with self.store.tx() as db:
            prior = db.execute(
                "SELECT fingerprint, status_code, body FROM answers"
                " WHERE issuer = ? AND idempotency_key = ?",
                (issuer, key),
            ).fetchone()
            if prior is not None:
                if not hmac.compare_digest(prior["fingerprint"], fingerprint):
                    return 422, {
                        "error": "idempotency_key_reused",
                        "message": "this Idempotency-Key was used with another request",
                    }
                return prior["status_code"], json.loads(prior["body"])
            status, out = self._redeem(db, issuer, key, body)
            db.execute(
                "INSERT INTO answers (issuer, idempotency_key, fingerprint, status_code, body, at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (issuer, key, fingerprint, status, json.dumps(out), iso(self.clock())),
            )
        return status, out

    def _redeem(
        self, db: sqlite3.Connection, issuer: str, key: str, body: RedeemIn
    ) -> tuple[int, dict[str, Any]]:
        row = self._find(db, issuer, body.code, body.pin)
        if row is None:
            return 404, {"error": "not_found", "message": "no voucher with this code and PIN"}
        status = self._status(row)
        if status == "used":
            return 409, {
                "error": "already_redeemed",
                "message": "the voucher was used",
                "used_at": row["used_at"],
                "used_where": row["used_by"],
            }
        if status == "expired":
            return 410, {"error": "expired", "message": "the voucher has expired"}
        if body.amount is not None and body.amount != row["balance"]:
            return 422, {
                "error": "amount_mismatch",
                "message": "only the whole balance can be redeemed",
                "balance": row["balance"],
            }
        now = iso(self.clock())
        redemption_id = f"rdm_{uuid.uuid4().hex}"
        db.execute(
            "UPDATE vouchers SET status = 'used', balance = 0, used_by = 'exchange',"
            " used_at = ? WHERE id = ? AND status = 'active'",
            (now, row["id"]),
        )
        db.execute(
            "INSERT INTO redemptions (redemption_id, issuer, idempotency_key, voucher_id,"
            " brand_id, amount, currency, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (redemption_id, issuer, key, row["id"], row["brand_id"], row["balance"],
             row["currency"], now),
        )  # fmt: skip
        return 201, self._redemption_body(db, redemption_id)

    def _redemption_body(self, db: sqlite3.Connection, redemption_id: str) -> dict[str, Any]:
        r = db.execute(
            "SELECT r.*, v.purchase_channel, v.purchased_at, v.face_value FROM redemptions r"
            " JOIN vouchers v ON v.id = r.voucher_id WHERE r.redemption_id = ?",
            (redemption_id,),
        ).fetchone()
        return {
            "redemption_id": r["redemption_id"],
            "status": "captured",
            "amount": r["amount"],
            "currency": r["currency"],
            "face_value": r["face_value"],
            "brand_id": r["brand_id"],
            "purchase_channel": r["purchase_channel"],
            "purchased_at": r["purchased_at"],
            "redeemed_at": r["at"],
        }

    def redemption_by_key(self, issuer: str, key: str) -> tuple[int, dict[str, Any]]:
        with self.store.tx() as db:
            row = db.execute(
                "SELECT redemption_id FROM redemptions WHERE issuer = ? AND idempotency_key = ?",
                (issuer, key),
            ).fetchone()
            if row is None:
                return 404, {"error": "not_found", "message": "no redemption with this key"}
            return 200, self._redemption_body(db, row["redemption_id"])

    # -- test data and inspection ------------------------------------------------------------

    def voucher_view(self, db: sqlite3.Connection, voucher_id: str) -> dict[str, Any] | None:
        row = db.execute("SELECT * FROM vouchers WHERE id = ?", (voucher_id,)).fetchone()
        if row is None:
            return None
        return {
            "voucher_id": row["id"],
            "issuer": row["issuer"],
            "brand_id": row["brand_id"],
            "masked_code": _masked(row),
            "status": self._status(row),
            "face_value": row["face_value"],
            "balance": row["balance"],
            "currency": row["currency"],
            "purchase_channel": row["purchase_channel"],
            "purchased_at": row["purchased_at"],
            "expires_at": row["expires_at"],
            "used_by": row["used_by"],
            "used_at": row["used_at"],
            **self._coupon(db, row),
        }

    def voucher_id_for(self, ref: VoucherRef) -> str | None:
        brand = self.brands.get(ref.brand_id)
        if brand is None:
            return None
        with self.store.tx() as db:
            row = db.execute(
                "SELECT id FROM vouchers WHERE issuer = ? AND code_hmac = ?",
                (brand.issuer, self.digest(normalise(ref.code))),
            ).fetchone()
        return None if row is None else str(row["id"])

    def get_voucher(self, voucher_id: str) -> tuple[int, dict[str, Any]]:
        with self.store.tx() as db:
            view = self.voucher_view(db, voucher_id)
        if view is None:
            return 404, {"error": "not_found", "message": "no such voucher"}
        return 200, view

    def use_elsewhere(self, voucher_id: str, place: str = "other") -> tuple[int, dict[str, Any]]:
        """Someone else spent the voucher (the case of a code sold twice), at ``place``."""
        with self.store.tx() as db:
            cur = db.execute(
                "UPDATE vouchers SET status = 'used', balance = 0, used_by = ?,"
                " used_at = ? WHERE id = ? AND status = 'active'",
                (place, iso(self.clock()), voucher_id),
            )
            view = self.voucher_view(db, voucher_id)
        if view is None:
            return 404, {"error": "not_found", "message": "no such voucher"}
        if cur.rowcount == 0:
            return 409, {"error": "already_redeemed", "message": "the voucher was used", **view}
        return 200, view

    @staticmethod
    def _ref() -> dict[str, str]:
        """The issuer's reference for one answer (a dispute cites it)."""
        return {"inquiry_ref": f"inq_{uuid.uuid4().hex[:24]}"}

    def expire(self, voucher_id: str) -> tuple[int, dict[str, Any]]:
        past = self.clock() - timedelta(seconds=1)
        with self.store.tx() as db:
            db.execute("UPDATE vouchers SET expires_at = ? WHERE id = ?", (iso(past), voucher_id))
            view = self.voucher_view(db, voucher_id)
        if view is None:
            return 404, {"error": "not_found", "message": "no such voucher"}
        return 200, view

    def redemptions(self, issuer: str | None) -> dict[str, Any]:
        with self.store.tx() as db:
            rows = db.execute(
                "SELECT r.*, v.code_hmac, v.code_last4, v.code_length FROM redemptions r"
                " JOIN vouchers v ON v.id = r.voucher_id"
                " WHERE (? IS NULL OR r.issuer = ?) ORDER BY r.at, r.redemption_id",
                (issuer, issuer),
            ).fetchall()
            twice = db.execute(
                "SELECT COUNT(*) FROM (SELECT voucher_id FROM redemptions"
                " GROUP BY voucher_id HAVING COUNT(*) > 1)"
            ).fetchone()[0]
        return {
            "redemptions": [
                {
                    "redemption_id": r["redemption_id"],
                    "idempotency_key": r["idempotency_key"],
                    "issuer": r["issuer"],
                    "brand_id": r["brand_id"],
                    "code_hmac": r["code_hmac"],
                    "masked_code": _masked(r),
                    "amount": r["amount"],
                    "currency": r["currency"],
                    "at": r["at"],
                }
                for r in rows
            ],
            "count": len(rows),
            "codes_redeemed_more_than_once": twice,
            "guarantee": "redemptions.voucher_id is UNIQUE: a second redemption cannot commit",
        }

    def settlement(self, day: date, issuer: str | None) -> list[tuple[Any, ...]]:
        with self.store.tx() as db:
            rows = db.execute(
                "SELECT issuer, redemption_id, idempotency_key, amount, currency"
                " FROM redemptions WHERE substr(at, 1, 10) = ? AND (? IS NULL OR issuer = ?)"
                " ORDER BY at, redemption_id",
                (day.isoformat(), issuer, issuer),
            ).fetchall()
        return [(day.isoformat(), *tuple(r)) for r in rows]


def _masked(row: sqlite3.Row) -> str:
    # The same shape as domain.brands.mask on the full code, rebuilt from what is kept.
    length, last4 = row["code_length"], row["code_last4"]
    return mask("0" * (length - 4) + last4) if length > 4 else mask(last4)


def create_issuer_app(
    data_dir: Path,
    *,
    clock: Clock = utc_now,
    brands: tuple[Brand, ...] = CATALOGUE,
) -> FastAPI:
    store = Store(Path(data_dir) / "issuer.sqlite3", SCHEMA)
    sim = IssuerSim(store, clock, brands)
    app = base_app("giftcash issuer simulator", store, api_prefixes=("/v1/",))
    app.state.sim = sim

    def out(result: tuple[int, dict[str, Any]]) -> JSONResponse:
        return answer(*result)

    @app.post("/v1/issuers/{issuer}/balance-inquiry")
    def balance_inquiry(issuer: str, body: CodeIn) -> JSONResponse:
        return out(sim.inquire(issuer, body))

    @app.post("/v1/issuers/{issuer}/redemptions")
    def redeem(issuer: str, body: RedeemIn, idempotency_key: IdempotencyKey = None) -> JSONResponse:
        return out(sim.redeem(issuer, idempotency_key, body))

    @app.get("/v1/issuers/{issuer}/redemptions/{idempotency_key}")
    def redemption(issuer: str, idempotency_key: str) -> JSONResponse:
        return out(sim.redemption_by_key(issuer, idempotency_key))

    @app.post("/sim/vouchers", status_code=201)
    def sell(sale: SaleIn) -> JSONResponse:
        return out(sim.sell(sale))

    @app.post("/sim/vouchers/use")
    def use_by_code(ref: VoucherRef) -> JSONResponse:
        voucher_id = sim.voucher_id_for(ref)
        if voucher_id is None:
            return problem(404, "not_found", "no such voucher")
        return out(sim.use_elsewhere(voucher_id, ref.place))

    @app.post("/sim/vouchers/expire")
    def expire_by_code(ref: VoucherRef) -> JSONResponse:
        voucher_id = sim.voucher_id_for(ref)
        if voucher_id is None:
            return problem(404, "not_found", "no such voucher")
        return out(sim.expire(voucher_id))

    @app.get("/sim/vouchers/{voucher_id}")
    def voucher(voucher_id: str) -> JSONResponse:
        return out(sim.get_voucher(voucher_id))

    @app.post("/sim/vouchers/{voucher_id}/use")
    def use(voucher_id: str, body: UseIn | None = None) -> JSONResponse:
        return out(sim.use_elsewhere(voucher_id, (body or UseIn()).place))

    @app.post("/sim/vouchers/{voucher_id}/expire")
    def expire(voucher_id: str) -> JSONResponse:
        return out(sim.expire(voucher_id))

    @app.get("/sim/redemptions")
    def redemptions(issuer: str | None = None) -> dict[str, Any]:
        return sim.redemptions(issuer)

    @app.get("/sim/settlement")
    def settlement(
        day: Annotated[date | None, Query(alias="date")] = None, issuer: str | None = None
    ) -> Response:
        rows = sim.settlement(day or clock().astimezone(UTC).date(), issuer)
        header = ("date", "issuer", "redemption_id", "idempotency_key", "amount", "currency")
        return csv_response(header, rows)

    return app


def run_issuer(host: str, port: int, data_dir: Path) -> None:
    serve(create_issuer_app(data_dir), host, port)

"""Stocked units and buyers for the resale tests on a real database: ``seed`` writes
customers, a seller's submission, its items and their units; ``order`` is the n-th buyer's
order of one unit."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Connection, insert, select

from giftcash.adapters.db import tables as t
from giftcash.domain.states import OrderStatus
from giftcash.service.ports.records import Order

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
BUYERS = 50


def seed(engine, units: int = 1) -> list[str]:
    with engine.begin() as conn:
        conn.execute(
            insert(t.customers),
            [
                {
                    "id": f"c-{n:02}",
                    "phone": f"0101234{n:04}",
                    "name": "홍길동",
                    "birth_date": date(1990, 1, 1),
                    "password_hash": "x",
                    "status": "active",
                    "created_at": NOW,
                }
                for n in range(BUYERS)
            ],
        )
        conn.execute(
            insert(t.bank_accounts).values(
                id="ba-1",
                customer_id="c-00",
                bank_code="004",
                account_number_enc=b"x",
                account_key_id="k",
                account_number_masked="****1234",
                holder_name="홍길동",
                status="verified",
                created_at=NOW,
            )
        )
        conn.execute(
            insert(t.submissions).values(
                id="s-1",
                customer_id="c-00",
                bank_account_id="ba-1",
                status="open",
                item_count=units,
                created_at=NOW,
            )
        )
        for u in range(units):
            conn.execute(
                insert(t.items).values(
                    id=f"i-{u}",
                    submission_id="s-1",
                    customer_id="c-00",
                    brand_id="kyobo_gift",
                    issuer="kyobo",
                    currency="KRW",
                    face_value=10_000,
                    fee=1_000,
                    payout=9_000,
                    funding_source="cash",
                    status="stocked",
                    code_enc=b"x",
                    key_id="k",
                    code_hmac=f"{u:064}",
                    masked_code="****",
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
            conn.execute(
                insert(t.inventory_units).values(
                    id=f"u-{u}",
                    item_id=f"i-{u}",
                    brand_id="kyobo_gift",
                    currency="KRW",
                    face_value=10_000,
                    cost=9_000,
                    expires_at=NOW + timedelta(days=365),
                    status="stocked",
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
    return [f"u-{u}" for u in range(units)]


def order(n: int) -> Order:
    return Order(
        id=f"o-{n:02}",
        customer_id=f"c-{n:02}",
        brand_id="kyobo_gift",
        currency="KRW",
        face_value=10_000,
        quantity=1,
        amount=9_500,
        status=OrderStatus.AWAITING_PAYMENT.value,
        deadline=NOW + timedelta(hours=1),
        virtual_account_key=f"va-{n:02}",
        virtual_account_id=None,
        virtual_account_number=None,
        created_at=NOW,
    )


def ensure_seller(conn: Connection, now: datetime) -> None:
    """The seller ``seller`` of the stocked units, with a verified bank account and an open
    submission (``seller-ba``, ``seller-s``), written once per database."""
    if conn.execute(select(t.customers.c.id).where(t.customers.c.id == "seller")).first():
        return
    conn.execute(
        insert(t.customers).values(
            id="seller", phone="01099990000", name="김판매", birth_date=date(1980, 1, 1),
            password_hash="x", status="active", created_at=now,
        )
    )  # fmt: skip
    conn.execute(
        insert(t.bank_accounts).values(
            id="seller-ba", customer_id="seller", bank_code="004",
            account_number_enc=b"x", account_key_id="k",
            account_number_masked="****0000", holder_name="김판매",
            status="verified", created_at=now,
        )
    )  # fmt: skip
    conn.execute(
        insert(t.submissions).values(
            id="seller-s", customer_id="seller", bank_account_id="seller-ba",
            status="open", item_count=0, created_at=now,
        )
    )  # fmt: skip

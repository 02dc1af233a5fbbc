"""Intake writes its item and event rows at the driver level (``items_driver``): the rows
must be the very rows SQLAlchemy's ``insert`` wrote before, column by column, on both
engines (JSON null and SQL NULL told apart), and the driver's errors must still come out
as SQLAlchemy's."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import IntegrityError

from giftcash.adapters.db import tables as t
from giftcash.adapters.db.app_uow import AppUnitOfWork
from giftcash.service.ports.records import NewItem

NOW = datetime(2026, 12, 6, 5, 30, 0, 123456, tzinfo=UTC)


def _world(engine) -> None:
    with AppUnitOfWork(engine) as uow:
        uow.customers.add("c-1", "010-1111-0001", "김민지", date(1990, 1, 2), "x", NOW)
        uow.conn.execute(
            insert(t.bank_accounts).values(
                id="a-1",
                customer_id="c-1",
                bank_code="088",
                account_number_enc=b"enc",
                account_key_id="k1",
                account_number_masked="110-***",
                holder_name="김민지",
                status="verified",
                created_at=NOW,
            )
        )
        for sid in ("s-drv", "s-ref"):
            uow.submissions.add(sid, "c-1", "a-1", 3, NOW)
        uow.commit()


def _items(sub: str) -> list[NewItem]:
    plain = NewItem(
        id=f"{sub}-1",
        submission_id=sub,
        customer_id="c-1",
        brand_id="cultureland",
        issuer="munhwa",
        currency="KRW",
        face_value=10_000,
        fee=800,
        payout=9_200,
        funding_source="cash",
        status="received",
        code_enc=b"\x00\x01sealed",
        pin_enc=None,
        key_id="k1",
        code_hmac=f"{sub}-h1".ljust(64, "0"),
        masked_code="4180-****-0001",
    )
    screened = replace(
        plain,
        id=f"{sub}-2",
        code_hmac=f"{sub}-h2".ljust(64, "0"),
        status="review",
        pin_enc=b"pin\xff",
        review_reason="first sale",
        flags=["new_customer", "large"],
        hold_until=(NOW + timedelta(days=1)).astimezone(),  # another zone: stored as UTC
        warning="보이스피싱 주의",
        decision={"rule": "hold_new", "outcome": "review", "findings": [{"n": 1}], "x": None},
    )
    declined = replace(
        plain,
        id=f"{sub}-3",
        code_hmac=f"{sub}-h3".ljust(64, "0"),
        status="declined",
        decline_code="duplicate_code",
        decline_message="this code was already submitted to giftcash",
        decision={},
    )
    return [plain, screened, declined]


def _written_by_sqlalchemy(uow: AppUnitOfWork, items: list[NewItem]) -> None:
    """What ``Items.add_many`` did before the driver path (the reference)."""
    rows = [asdict(it) | {"created_at": NOW, "updated_at": NOW} for it in items]
    uow.conn.execute(insert(t.items), rows)
    uow.conn.execute(
        insert(t.item_events),
        [
            {
                "id": f"e-{it.id}",
                "item_id": it.id,
                "from_status": None,
                "to_status": it.status,
                "at": NOW,
                "detail": {"code": it.decline_code} if it.decline_code else None,
            }
            for it in items
        ],
    )


def _stored(engine, table: str, json_columns: tuple[str, ...], key: str) -> list[tuple]:
    nulls = "".join(f", {c} IS NULL AS {c}_is_sql_null" for c in json_columns)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(f"SELECT *{nulls} FROM {table} ORDER BY {key}").mappings()
        return [dict(r) for r in rows]


def test_the_driver_writes_the_rows_sqlalchemy_wrote(engine):
    _world(engine)
    with AppUnitOfWork(engine) as uow:
        uow.items.add_many(_items("s-drv"), NOW)
        _written_by_sqlalchemy(uow, _items("s-ref"))
        uow.commit()

    items = _stored(engine, "items", ("flags", "decision"), "id")
    by_sub: dict[str, list[dict]] = {}
    for r in items:
        by_sub.setdefault(r["submission_id"], []).append(r)
    driver, reference = by_sub["s-drv"], by_sub["s-ref"]
    assert len(driver) == len(reference) == 3
    for ours, theirs in zip(driver, reference, strict=True):
        for column in ("id", "submission_id", "code_hmac"):
            assert ours.pop(column).replace("s-drv", "") == theirs.pop(column).replace("s-ref", "")
        assert ours == theirs

    events = _stored(engine, "item_events", ("detail",), "item_id")
    driver_events = [e for e in events if e["item_id"].startswith("s-drv")]
    reference_events = [e for e in events if e["item_id"].startswith("s-ref")]
    assert len(driver_events) == len(reference_events) == 3
    for ours, theirs in zip(driver_events, reference_events, strict=True):
        assert ours.pop("item_id").replace("s-drv", "") == theirs.pop("item_id").replace(
            "s-ref", ""
        )
        assert len(ours.pop("id")) == 36
        theirs.pop("id")
        assert ours == theirs


def test_the_rows_read_back_as_written(engine):
    _world(engine)
    written = _items("s-drv")
    with AppUnitOfWork(engine) as uow:
        uow.items.add_many(written, NOW)
        uow.commit()
    with AppUnitOfWork(engine, read_only=True) as uow:
        stored = uow.items.for_submission("s-drv")
    assert [(i.id, i.status, i.decision, i.hold_until, i.created_at) for i in stored] == [
        (w.id, w.status, w.decision, w.hold_until, NOW) for w in written
    ]


def test_a_broken_row_fails_as_sqlalchemy_would_and_writes_nothing(engine):
    _world(engine)
    bad = _items("s-drv")
    bad[2] = replace(bad[2], face_value=0)  # the amounts CHECK
    with pytest.raises(IntegrityError), AppUnitOfWork(engine) as uow:
        uow.items.add_many(bad, NOW)
        uow.commit()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM items")).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM item_events")).scalar_one() == 0


def test_rows_written_after_a_commit_belong_to_the_next_transaction(engine):
    _world(engine)
    with AppUnitOfWork(engine) as uow:
        uow.commit()  # nothing begun yet when the driver writes
        uow.items.add_many(_items("s-drv")[:1], NOW)
        uow.codes.register_many([("h" * 64, "s-drv-1", "c-1")])
        # left without a commit: rolled back
    with AppUnitOfWork(engine) as uow:
        uow.commit()
        uow.items.add_many(_items("s-drv")[1:], NOW)
        uow.commit()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM items")).scalar_one() == 2
        assert conn.execute(text("SELECT count(*) FROM code_registry")).scalar_one() == 0

"""Alembic upgrade on an empty database, downgrade -> upgrade round trip, and the schema
matching tables.py exactly (so a change to tables.py without a revision fails here)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select

from giftcash.adapters.db import migrate
from giftcash.adapters.db.engine import make_engine
from giftcash.adapters.db.tables import GENESIS_HASH, ledger_head, metadata

EXPECTED_TABLES = {
    "ledger_accounts",
    "ledger_transfers",
    "ledger_postings",
    "ledger_head",
    "customers",
    "sms_challenges",
    "access_tokens",
    "operators",
    "bank_accounts",
    "submissions",
    "items",
    "orders",
    "order_deposits",
    "claims",
    "code_registry",
    "item_events",
    "payouts",
    "idempotency_keys",
    "webhook_endpoints",
    "webhook_outbox",
    "audit_log",
    "worker_heartbeats",
    "bounded_calls",
    "bound_heads",
    "breaker_trips",
    "blocks",
    "customer_notes",
    "notice_choices",
    "notice_outbox",
}


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return set(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_creates_every_table_on_an_empty_database(db_url):
    assert migrate.current_revision(db_url) is None
    migrate.upgrade(db_url)
    assert migrate.current_revision(db_url) == migrate.head_revision()
    assert EXPECTED_TABLES <= _tables(db_url)


def test_upgrade_seeds_the_chain_head(engine):
    with engine.connect() as conn:
        rows = conn.execute(select(ledger_head)).all()
    assert [(r.id, r.seq, r.hash) for r in rows] == [(1, 0, GENESIS_HASH)]


def test_schema_matches_tables_py(engine):
    with engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        assert compare_metadata(ctx, metadata) == []


def test_downgrade_then_upgrade_round_trip(db_url):
    migrate.upgrade(db_url)
    migrate.downgrade(db_url, "base")
    assert migrate.current_revision(db_url) is None
    assert _tables(db_url) & EXPECTED_TABLES == set()
    migrate.upgrade(db_url)
    assert migrate.current_revision(db_url) == migrate.head_revision()
    assert EXPECTED_TABLES <= _tables(db_url)


def test_upgrade_twice_is_a_no_op(db_url):
    migrate.upgrade(db_url)
    migrate.upgrade(db_url)
    assert migrate.current_revision(db_url) == migrate.head_revision()


def test_require_current_schema_refuses_an_old_database(db_url):
    import pytest

    with pytest.raises(migrate.SchemaNotCurrent) as info:
        migrate.require_current_schema(db_url)
    assert info.value.code == "schema_not_current"
    migrate.upgrade(db_url)
    migrate.require_current_schema(db_url)


def test_unreachable_database_is_a_domain_error(tmp_path):
    import pytest

    # A directory where the database file should be: SQLite cannot open it.
    url = f"sqlite:///{tmp_path}"
    with pytest.raises(migrate.DatabaseUnavailable) as info:
        migrate.upgrade(url)
    assert info.value.kind == "unavailable"


def test_0018_gives_existing_buyer_accounts_the_kind_the_floor_keys_on(db_url):
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from giftcash.adapters.db.tables import ledger_accounts

    migrate.upgrade(db_url, "0017")
    engine = make_engine(db_url)
    buyer, other = "liabilities:buyer:c1", "liabilities:suspense"
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(ledger_accounts),
                [
                    {"path": p, "currency": "KRW", "balance": -10_000, "kind": "liabilities",
                     "created_at": datetime(2026, 12, 5, tzinfo=UTC)}
                    for p in (buyer, other)
                ],
            )  # fmt: skip
        migrate.upgrade(db_url)
        with engine.connect() as conn:
            kinds = dict(conn.execute(select(ledger_accounts.c.path, ledger_accounts.c.kind)).all())
        assert kinds == {buyer: "customer_liability", other: "liabilities"}
        migrate.downgrade(db_url, "0017")
        with engine.connect() as conn:
            kinds = dict(conn.execute(select(ledger_accounts.c.path, ledger_accounts.c.kind)).all())
        assert kinds == {buyer: "liabilities", other: "liabilities"}
    finally:
        engine.dispose()


def test_0019_dates_the_orders_delivered_before_it_and_adds_claims(db_url):
    from datetime import UTC, date, datetime, timedelta

    from sqlalchemy import insert

    from giftcash.adapters.db.tables import customers, orders

    migrate.upgrade(db_url, "0018")
    engine = make_engine(db_url)
    then = datetime(2026, 12, 5, 9, tzinfo=UTC)
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(customers).values(
                    id="c1", phone="01012340000", name="홍길동", birth_date=date(1990, 1, 1),
                    password_hash="x",
                    status="active", created_at=then,
                )
            )  # fmt: skip
            conn.execute(
                insert(orders),
                [
                    {"id": oid, "customer_id": "c1", "brand_id": "kyobo_gift", "currency": "KRW",
                     "face_value": 10_000, "quantity": 1, "amount": 9_500, "status": status,
                     "deadline": then + timedelta(hours=1), "virtual_account_key": f"va-{oid}",
                     "created_at": then, "updated_at": then + timedelta(minutes=5)}
                    for oid, status in (("o1", "delivered"), ("o2", "paid"))
                ],
            )  # fmt: skip
        assert "claims" not in _tables(db_url)
        migrate.upgrade(db_url)
        with engine.connect() as conn:
            got = dict(conn.execute(select(orders.c.id, orders.c.delivered_at)).all())
        assert got["o2"] is None
        assert got["o1"] is not None and got["o1"].replace(tzinfo=UTC) == then + timedelta(
            minutes=5
        )
        assert "claims" in _tables(db_url)
        migrate.downgrade(db_url, "0018")
        assert "claims" not in _tables(db_url)
    finally:
        engine.dispose()


def test_0021_adds_who_settled_a_claim_in_review(db_url):
    def columns() -> set[str]:
        engine = make_engine(db_url)
        try:
            return {c["name"] for c in inspect(engine).get_columns("claims")}
        finally:
            engine.dispose()

    added = {"resolved_by", "resolved_at", "resolution_note"}
    migrate.upgrade(db_url, "0020")
    assert columns() & added == set()
    migrate.upgrade(db_url)
    assert added <= columns()
    migrate.downgrade(db_url, "0020")
    assert columns() & added == set()
    migrate.upgrade(db_url)
    assert added <= columns()


def test_0022_adds_the_catalogue_version_every_override_bumps(db_url):
    from datetime import UTC, datetime

    from giftcash.adapters.db.repositories_catalogue import OperatorOverrides

    migrate.upgrade(db_url, "0021")
    assert "catalogue_version" not in _tables(db_url)
    migrate.upgrade(db_url)
    assert "catalogue_version" in _tables(db_url)
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:  # the row is there, at 0
            repo = OperatorOverrides(conn)
            assert repo.version() == (engine, 0)
            repo.set_issuer("cultureland", {"enabled": False}, datetime.now(UTC), "test")
            repo.set_issuer("cultureland", {"enabled": None}, datetime.now(UTC), "test")
            assert repo.version() is None  # written here, not committed: not to be kept
        with engine.connect() as conn:
            assert OperatorOverrides(conn).version() == (engine, 2)
    finally:
        engine.dispose()
    migrate.downgrade(db_url, "0021")
    assert "catalogue_version" not in _tables(db_url)
    migrate.upgrade(db_url)
    assert "catalogue_version" in _tables(db_url)

"""The API benchmark's baselines and its in-process CPU rows, so they cannot rot unnoticed
(the wrk part needs a server and wrk: ``python -m bench --only api``).

Not a benchmark: no figure is compared with anything."""

from __future__ import annotations

import base64
import os
import secrets
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.core import Scale, fresh_postgres, sqlite_url  # noqa: E402

from bench import api, asgi_app  # noqa: E402
from giftcash.bootstrap import build_deps  # noqa: E402
from giftcash.config import Settings  # noqa: E402
from giftcash.entrypoints.api.app import create_app  # noqa: E402

pytestmark = pytest.mark.slow  # the benchmark's own code, not the product's


@pytest.fixture(params=["sqlite", "postgresql"])
def seeded(request, tmp_path):
    """The benchmark's set-up on a fresh database of either engine."""
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    if request.param == "sqlite":
        url = sqlite_url(tmp_path)
        yield (tmp_path, url, key, *api._seed(tmp_path, url, key))
        return
    server = os.environ.get("GIFTCASH_TEST_POSTGRES_URL")
    if not server:
        pytest.skip("GIFTCASH_TEST_POSTGRES_URL is not set")
    with fresh_postgres(server) as url:
        yield (tmp_path, url, key, *api._seed(tmp_path, url, key))


@pytest.mark.bench
def test_the_floor_checks_the_token_and_inserts_one_row(seeded):
    folder, url, key, token, _, _ = seeded
    deps = build_deps(Settings(data_dir=folder, database_url=url, secret_key=key))
    engine = deps.uow().engine
    auth = {"Authorization": f"Bearer {token}"}
    with TestClient(asgi_app.route(create_app(deps))) as client:
        assert client.post("/floor", content=b"{}").status_code == 401
        bad = {"Authorization": "Bearer not-a-token"}
        assert client.post("/floor", headers=bad, content=b"{}").status_code == 401
        made = client.post("/floor", headers={**auth, "Idempotency-Key": "k1"}, content=b"{}")
        assert made.status_code == 201
        read = client.get("/floor", headers=auth)
        assert read.status_code == 200 and read.json()["id"] == asgi_app.FLOOR_READ_ID
        assert client.get("/bare").json() == {"ok": True}
    with engine.connect() as conn:
        rows = conn.execute(
            text(f"SELECT id, idempotency_key, body_bytes FROM {asgi_app.FLOOR_TABLE}")
        ).all()
    assert {(r.id, r.idempotency_key, r.body_bytes) for r in rows} == {
        (asgi_app.FLOOR_READ_ID, None, 0),
        (made.json()["id"], "k1", 2),
    }


@pytest.mark.bench
def test_cpu_rows_measure_post_and_get_against_the_floor(seeded):
    folder, url, key, token, account_id, sub_id = seeded
    rows = api._cpu_per_request(Scale.smoke(), folder, url, key, token, account_id, sub_id, "")
    assert [r.name for r in rows] == [
        "api CPU: POST /v1/submissions (1 item), in-process",
        "api CPU: GET /v1/submissions/{id}, in-process",
    ]
    for r in rows:
        assert r.value is not None and r.value > 0 and r.baseline and r.baseline > 0
        assert r.unit == "ms CPU/request" and "floor" in r.baseline_label
        assert "not 2xx" not in r.note, r.note

"""How much of a one-item POST the SQLite writer gate and the commit are (issue 17 goal
2: what grouping the writers' commits could gain at most).

    PYTHONPATH=src python -m bench.gate_share [N]
    PYTHONPATH=src python -m bench.gate_share --load   # the same, timed under wrk

One-item ``POST /v1/submissions`` with an ``Idempotency-Key`` (as ``bench/api.py`` sends
them) through the whole app in this process (FastAPI's TestClient), one at a time after a
warm-up, on a fresh SQLite database with the server's settings (WAL, synchronous=FULL).
The same POST without the key (the service then opens its write unit of work only after
the sealing and the catalogue read, and reads the answer after the commit) and the
floor's POST are measured beside it.

Per request: the wall time; the time the writer gate was held (from ``WriterGate.acquire``
returning to ``release``: everything between ``BEGIN IMMEDIATE`` and the commit); the
``BEGIN IMMEDIATE`` itself; the driver's ``COMMIT`` (the WAL append and its fsync).
Writers take the gate one at a time across every process, so the held time bounds the
POST rate on SQLite at 1 / held; a group commit still runs each member's work under the
gate one after another and saves only the ``BEGIN``, the ``COMMIT`` and the hand-over
per member.
"""

from __future__ import annotations

import base64
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from bench import api, asgi_app
from bench.core import fresh_dir, sqlite_url
from giftcash.adapters.db import engine as engine_mod
from giftcash.bootstrap import build_deps
from giftcash.config import Settings
from giftcash.entrypoints.api.app import create_app


class Clocked:
    """Seconds spent in each instrumented step, per thread (this runs one at a time)."""

    def __init__(self) -> None:
        self.held = 0.0
        self.begin = 0.0
        self.commit = 0.0
        self.waited = 0.0
        self.turns = 0
        self._held_from: float | None = None
        self.on_release: Callable[[], None] | None = None

    def reset(self) -> None:
        self.held = self.begin = self.commit = self.waited = 0.0
        self.turns = 0


def instrument(clocked: Clocked, engine: Any) -> None:
    gate = engine_mod.writer_gate(engine)
    assert gate is not None
    acquire, release = gate.acquire, gate.release

    def timed_acquire(dbapi_conn: Any, *a: Any, **k: Any) -> None:
        t = time.perf_counter()
        acquire(dbapi_conn, *a, **k)
        clocked._held_from = time.perf_counter()
        clocked.waited += clocked._held_from - t  # only one thread holds it: no race here
        clocked.turns += 1

    def timed_release(dbapi_conn: Any) -> None:
        holding = gate.holder == engine_mod._driver_id(dbapi_conn)
        release(dbapi_conn)
        if holding and clocked._held_from is not None:
            clocked.held += time.perf_counter() - clocked._held_from
            clocked._held_from = None
            if clocked.on_release is not None:
                clocked.on_release()

    gate.acquire = timed_acquire  # type: ignore[method-assign]
    gate.release = timed_release  # type: ignore[method-assign]
    begin = engine_mod._begin

    def timed_begin(conn: Any, dbapi_conn: Any, mode: str) -> None:
        t = time.perf_counter()
        begin(conn, dbapi_conn, mode)
        if mode != "DEFERRED":
            clocked.begin += time.perf_counter() - t

    engine_mod._begin = timed_begin  # type: ignore[assignment]
    commit: Callable[[Any], None] = engine.dialect.do_commit

    def timed_commit(dbapi_conn: Any) -> None:
        t = time.perf_counter()
        commit(dbapi_conn)
        clocked.commit += time.perf_counter() - t

    engine.dialect.do_commit = timed_commit


def main(n: int = 300, warm: int = 30) -> None:
    from fastapi.testclient import TestClient

    with fresh_dir("gate") as folder:
        url = sqlite_url(folder)
        key = base64.b64encode(secrets.token_bytes(32)).decode()
        token, account_id, _ = api._seed(folder, url, key)
        settings = Settings(data_dir=folder, database_url=url, secret_key=key)
        deps = build_deps(settings, fast_passwords=True)
        engine = deps.uow().engine  # type: ignore[attr-defined]
        clocked = Clocked()
        instrument(clocked, engine)
        app = asgi_app.route(create_app(deps))
        rows: dict[str, list[tuple[float, float, float, float]]] = {
            "POST": [],
            "POST without Idempotency-Key": [],
            "floor": [],
        }
        subjects = (
            ("POST", "/v1/submissions", "4168"),
            ("POST without Idempotency-Key", "/v1/submissions", "4167"),
            ("floor", "/floor", "4166"),
        )
        with TestClient(app) as client:
            for i in range(warm + n):
                for name, path, prefix in subjects:
                    item = f'{{"brand_id":"cultureland","code":"{prefix}{i:012d}",'
                    body = (
                        f'{{"bank_account_id":"{account_id}","items":[{item}'
                        '"face_value":10000,"funding_source":"cash"}]}'
                    )
                    headers = {
                        "Authorization": f"Bearer {token}",
                        "Content-Type": "application/json",
                    }
                    if "without" not in name:
                        headers["Idempotency-Key"] = f"gate-{name}-{i}"
                    clocked.reset()
                    t = time.perf_counter()
                    r = client.post(path, headers=headers, content=body)
                    wall = time.perf_counter() - t
                    assert r.status_code == 201, r.text
                    if i >= warm:
                        rows[name].append((wall, clocked.held, clocked.begin, clocked.commit))
    for name, got in rows.items():
        med = [statistics.median(x[k] for x in got) * 1000 for k in range(4)]
        wall, held, begin, commit = med
        print(
            f"{name}: {len(got)} requests, medians: wall {wall:.2f} ms, gate held "
            f"{held:.2f} ms ({held / wall:.0%} of the wall), BEGIN IMMEDIATE {begin:.3f} ms, "
            f"COMMIT {commit:.2f} ms ({commit / held:.0%} of the held time); "
            f"held without BEGIN and COMMIT {held - begin - commit:.2f} ms"
        )


def create_instrumented() -> Any:
    """``bench.asgi_app.create`` with the gate and the commit timed; the sums are written
    to ``$GIFTCASH_DATA_DIR/gate-<pid>.json`` at most every 0.2 s (uvicorn's workers)."""
    import json
    import os

    from giftcash.entrypoints.asgi import create as create_giftcash

    app = create_giftcash()
    clocked = Clocked()
    out = os.path.join(os.environ["GIFTCASH_DATA_DIR"], f"gate-{os.getpid()}.json")
    last = [0.0]

    def dump() -> None:
        now = time.monotonic()
        if now - last[0] < 0.2:
            return
        last[0] = now
        fields = ("held", "begin", "commit", "waited", "turns")
        with open(out + ".tmp", "w") as f:
            json.dump({k: getattr(clocked, k) for k in fields}, f)
        os.replace(out + ".tmp", out)

    clocked.on_release = dump
    instrument(clocked, app.state.deps.uow().engine)
    return asgi_app.route(app)


def under_load(seconds: int = 8) -> None:
    """The one-item POSTs of ``bench/api.py`` under wrk (32 connections, 2 uvicorn
    workers), with the gate and the commit timed in the server's processes."""
    import json
    import os
    import signal
    import subprocess

    from bench.core import ROOT
    from giftcash.entrypoints.servers import free_port

    with fresh_dir("gateload") as folder:
        url = sqlite_url(folder)
        key = base64.b64encode(secrets.token_bytes(32)).decode()
        token, account_id, _ = api._seed(folder, url, key)
        port = free_port()
        env = {
            **os.environ,
            "GIFTCASH_DATA_DIR": str(folder),
            "GIFTCASH_DATABASE_URL": url,
            "GIFTCASH_SECRET_KEY": key,
        }
        cmd = [sys.executable, "-m", "uvicorn", "bench.gate_share:create_instrumented"]
        cmd += ["--factory", "--workers", "2", "--host", "127.0.0.1", "--port", str(port)]
        cmd += ["--log-level", "warning", "--no-access-log"]
        log = open(folder / "server.log", "w")
        server = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=log)
        base = f"http://127.0.0.1:{port}"

        def sums() -> dict[str, float]:
            total: dict[str, float] = {}
            for f in folder.glob("gate-*.json"):
                for k, v in json.loads(f.read_text()).items():
                    total[k] = total.get(k, 0) + v
            return total

        try:
            api._ready(base + "/readyz")
            script = api._lua(folder, "warm", "/v1/submissions", 0, token, account_id)
            api._wrk(base + "/v1/submissions", 2, script)
            time.sleep(0.5)
            before = sums()
            script = api._lua(folder, "load", "/v1/submissions", 1, token, account_id)
            t = time.perf_counter()
            m = api._wrk(base + "/v1/submissions", seconds, script)
            wall = time.perf_counter() - t
            time.sleep(0.5)
            after = sums()
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
            log.close()
    d = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    turns = max(d.get("turns", 0), 1)
    print(
        f"under wrk, {seconds} s: {m['rps']:.0f} POSTs/s (p99 {m['p99_ms']} ms, "
        f"{m['non_2xx']} not 2xx); write turns {d.get('turns', 0):.0f}; the gate held "
        f"{d['held'] / wall:.0%} of the run, {d['held'] / turns * 1000:.2f} ms a turn "
        f"(COMMIT {d['commit'] / turns * 1000:.2f} ms, BEGIN {d['begin'] / turns * 1000:.3f} "
        f"ms); waited at the gate {d['waited'] / turns * 1000:.1f} ms a turn"
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--load":
        under_load()
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)

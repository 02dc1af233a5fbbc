"""API: ``POST /v1/submissions`` (one item) and ``GET /v1/submissions/{id}`` under 32
concurrent connections from wrk (Debian's package), against a bare ASGI endpoint served
by the same uvicorn processes (``bench/asgi_app.py``): uvicorn[standard], 2 workers, the
embedded SQLite default; and the same on PostgreSQL (a fresh database) unless
``--no-postgres``. Beside the bare endpoint, the same-stack floor (``/floor``): a minimal
FastAPI endpoint doing the API's token check and one insert (POST) or one read (GET);
each rate is reported against both.

Then, in this process, the CPU each request costs through the same app (FastAPI's
TestClient, sequential requests after a warm-up): one-item POST, GET, the floor's POST
and GET, and the bare endpoint, whose figure is the test client's and transport's own
share in the others.

wrk and the server share the machine's two cores, as any load generator here must; the
bare endpoint pays the same price, which is why the figure is a ratio.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import text

from bench import asgi_app, world
from bench.core import (
    ROOT,
    Result,
    Scale,
    children_of,
    fresh_dir,
    fresh_postgres,
    proc_status_kb,
    sqlite_url,
)
from giftcash.adapters.db import migrate
from giftcash.adapters.db.engine import make_engine
from giftcash.bootstrap import build_deps
from giftcash.config import Settings
from giftcash.entrypoints.servers import free_port
from giftcash.identity import customers
from giftcash.intake import submissions
from giftcash.intake.submissions import ItemIn

CONNECTIONS = 32
# Issue 17 goal 2, at 32 connections: a one-item POST >= 1,000 req/s with p99 <= 50 ms,
# a GET >= 3,000 req/s with p99 <= 25 ms (the ratios to the bare endpoint and to the
# same-stack floor are reported beside them).
RATE_GOAL = {"POST": 1_000.0, "GET": 3_000.0}
P99_GOAL_MS = {"POST": 50.0, "GET": 25.0}

POST_LUA = """
local counter = 0
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
request = function()
  counter = counter + 1
  -- cultureland: 16 digits starting 416; the run and thread digits keep codes unique
  local code = string.format("416%d%d%011d", RUN, tid, counter)
  local body = '{"bank_account_id":"ACCOUNT","items":[{"brand_id":"cultureland",'
    .. '"code":"' .. code .. '","face_value":10000,"funding_source":"cash"}]}'
  local headers = {}
  headers["Content-Type"] = "application/json"
  headers["Authorization"] = "Bearer TOKEN"
  headers["Idempotency-Key"] = "bench-" .. RUN .. "-" .. tid .. "-" .. counter
  return wrk.format("POST", "PATH", headers, body)
end
"""


def _lua(folder: Path, name: str, path: str, run: int, token: str, account: str) -> Path:
    script = (
        POST_LUA.replace("RUN", str(run))
        .replace("TOKEN", token)
        .replace("ACCOUNT", account)
        .replace("PATH", path)
    )
    out = folder / f"{name}.lua"
    out.write_text(script)
    return out


def _wrk(url: str, seconds: int, script: Path | None = None, header: str | None = None) -> dict:
    cmd = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if script is not None:
        cmd += ["-s", str(script)]
    if header is not None:
        cmd += ["-H", header]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    total = re.search(r"(\d+) requests in", out)
    return {
        "rps": rps,
        "p99_ms": float(p99.group(1)) * scale[p99.group(2)] if p99 else None,
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(1) if errors else "",
        "requests": int(total.group(1)) if total else 0,
    }


def _seed(folder: Path, url: str, key: str) -> tuple[str, str, str]:
    """A verified customer, a token, one submission to read; the rules opened; the
    floor's table with the row its GET reads."""
    migrate.upgrade(url)
    settings = Settings(data_dir=folder, database_url=url, secret_key=key)
    deps = build_deps(settings, fast_passwords=True)
    customer_id, account_id = world.stub_customer(deps, "010-7000-0001", "이벤치", "3300000001")
    world.open_rules(deps)
    token = customers.issue_token(deps, phone="010-7000-0001", password=world.PASSWORD)
    first = world.item_dicts(1, seed=99)[0]
    view = submissions.submit(
        deps, customer_id, bank_account_id=account_id, items=[ItemIn(**first)]
    )
    asgi_app.seed_floor(deps.uow().engine, customer_id)  # type: ignore[attr-defined]
    return token, account_id, view.submission.id


def run(scale: Scale, postgres_server: str | None = None) -> list[Result]:
    """The embedded SQLite by default; ``postgres_server``: a fresh database there."""
    if shutil.which("wrk") is None:
        note = "wrk is not installed (python -m bench --setup installs it): not measured"
        return [Result("api: POST /v1/submissions", None, "req/s", note=note)]
    with fresh_dir("api") as folder:
        if postgres_server is None:
            return _run(scale, folder, sqlite_url(folder), "")
        with fresh_postgres(postgres_server) as url:
            return _run(scale, folder, url, " (PostgreSQL)")


def _run(scale: Scale, folder: Path, url: str, label: str) -> list[Result]:
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    token, account_id, sub_id = _seed(folder, url, key)
    port = free_port()
    env = {
        **os.environ,
        "GIFTCASH_DATA_DIR": str(folder),
        "GIFTCASH_DATABASE_URL": url,
        "GIFTCASH_SECRET_KEY": key,
    }
    log = open(folder / "server.log", "w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.asgi_app:create",
            "--factory",
            "--workers",
            "2",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _ready(base + "/readyz")
        auth = f"Authorization: Bearer {token}"
        # Warm both workers: imports, compiled statements, connection pools.
        _wrk(base + "/v1/submissions/" + sub_id, 1, header=auth)
        workers = children_of(server.pid)
        idle_kb = max((proc_status_kb(p, "VmRSS") or 0) for p in workers) if workers else 0
        best: dict[str, dict] = {}
        posts = 0
        for r in range(1 if scale.quick else 2):
            runs = {
                "bare POST": (
                    base + "/bare",
                    _lua(folder, f"bare{r}", "/bare", r, token, "x"),
                    None,
                ),
                "POST": (
                    base + "/v1/submissions",
                    _lua(folder, f"post{r}", "/v1/submissions", r, token, account_id),
                    None,
                ),
                "floor POST": (
                    base + "/floor",
                    _lua(folder, f"floor{r}", "/floor", r, token, account_id),
                    None,
                ),
                "bare GET": (base + "/bare", None, None),
                "GET": (base + "/v1/submissions/" + sub_id, None, auth),
                "floor GET": (base + "/floor", None, auth),
            }
            for name, (target, script, header) in runs.items():
                m = _wrk(target, scale.api_seconds, script, header)
                if name == "POST":
                    posts += m["requests"]
                if name not in best or m["rps"] > best[name]["rps"]:
                    best[name] = m
        peak_kb = max((proc_status_kb(p, "VmHWM") or 0) for p in workers) if workers else 0
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    stored = _count_items(url)
    out = []
    for name in ("POST", "GET"):
        m, b, f = best[name], best[f"bare {name}"], best[f"floor {name}"]
        problems = _problems(m)
        path = "/v1/submissions (1 item)" if name == "POST" else "/v1/submissions/{id}"
        out.append(
            Result(
                f"api: {name} {path}, {CONNECTIONS} connections{label}",
                m["rps"],
                "req/s",
                b["rps"],
                "bare ASGI endpoint, same server",
                goal_of="value",
                goal_min=RATE_GOAL[name],
                note="; ".join(problems),
            )
        )
        out.append(
            Result(
                f"api: {name} {path}, p99 latency{label}",
                m["p99_ms"],
                "ms",
                b["p99_ms"],
                "bare endpoint p99",
                goal_of="value",
                goal_max=P99_GOAL_MS[name],
            )
        )
        floor_what = "token check + one INSERT" if name == "POST" else "token check + one read"
        floor_notes = [
            f"the floor's p99 {_ms(f['p99_ms'])}, the bare endpoint's {_ms(b['p99_ms'])}"
        ]
        floor_notes += [f"floor: {p}" for p in _problems(f)]
        out.append(
            Result(
                f"api: {name} {path} vs the same-stack floor{label}",
                m["rps"],
                "req/s",
                f["rps"],
                f"FastAPI floor: {floor_what}",
                note="; ".join(floor_notes),
            )
        )
    out.append(
        Result(
            f"memory: API worker peak RSS during the load{label}",
            peak_kb / 1024,
            "MB",
            idle_kb / 1024,
            "same worker when warm, MB",
            note=f"{posts:,} one-item submissions posted ({stored:,} items stored in all); "
            "no goal of its own: the 10,000-item rule is the intake row's",
        )
    )
    out += _cpu_per_request(scale, folder, url, key, token, account_id, sub_id, label)
    return out


CPU_WARM = 30


def _cpu_per_request(
    scale: Scale,
    folder: Path,
    url: str,
    key: str,
    token: str,
    account_id: str,
    sub_id: str,
    label: str,
) -> list[Result]:
    """ms of CPU (``time.process_time``: every thread of this process) per request through
    the app in this process, one request at a time, after a warm-up; best of two rounds.
    The server's logging is set up as ``giftcash serve`` sets it (JSON lines at INFO, to a
    file here), since every request writes its line."""
    import logging

    from fastapi.testclient import TestClient

    from giftcash.adapters.observability.logs import configure_logging
    from giftcash.entrypoints.api.app import create_app

    settings = Settings(data_dir=folder, database_url=url, secret_key=key)
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    configure_logging(settings.log_level, json_lines=settings.log_format == "json")
    log = open(folder / "in-process.log", "w")
    for h in root.handlers:
        if isinstance(h, logging.StreamHandler):
            h.setStream(log)
    n = scale.api_seconds * 50  # 200 in the quick run, 750 in the full one
    counter = iter(range(10**9))
    auth = {"Authorization": f"Bearer {token}"}

    def post(path: str) -> tuple[str, dict, bytes]:
        i = next(counter)
        # cultureland, 16 digits: "4169" never begins a code of the wrk runs (RUN <= 1)
        item = f'{{"brand_id":"cultureland","code":"4169{i:012d}","face_value":10000,'
        body = (
            f'{{"bank_account_id":"{account_id}","items":[{item}"funding_source":"cash"}}]}}'
        ).encode()
        headers = {**auth, "Content-Type": "application/json", "Idempotency-Key": f"cpu-{i}"}
        return path, headers, body

    subjects = {
        "POST": lambda: post("/v1/submissions"),
        "floor POST": lambda: post("/floor"),
        "bare POST": lambda: post("/bare"),
        "GET": lambda: ("/v1/submissions/" + sub_id, auth, b""),
        "floor GET": lambda: ("/floor", auth, b""),
    }
    best: dict[str, float] = {}
    failed: dict[str, int] = dict.fromkeys(subjects, 0)
    try:
        deps = build_deps(settings, fast_passwords=True)
        app = asgi_app.route(create_app(deps))
        with TestClient(app) as client:

            def once(name: str) -> None:
                path, headers, body = subjects[name]()
                if "GET" in name:
                    r = client.get(path, headers=headers)
                else:
                    r = client.post(path, headers=headers, content=body)
                if r.status_code >= 300:
                    failed[name] += 1

            for name in subjects:
                for _ in range(min(CPU_WARM, n)):
                    once(name)
            for _ in range(2):
                for name in subjects:
                    start = time.process_time()
                    for _ in range(n):
                        once(name)
                    ms = (time.process_time() - start) * 1000 / n
                    best[name] = min(best.get(name, ms), ms)
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        log.close()
    out = []
    for name, path in (("POST", "/v1/submissions (1 item)"), ("GET", "/v1/submissions/{id}")):
        what = "token check + one INSERT" if name == "POST" else "token check + one read"
        notes = [
            f"the bare endpoint {best['bare POST']:.2f} ms: the test client's and "
            "transport's own share, in every row",
            f"{best[name]:.2f} ms against the floor's {best[f'floor {name}']:.2f} ms; "
            f"{n} sequential requests, best of 2 rounds",
        ]
        notes += [
            f"{failed[k]} {k} answers were not 2xx" for k in (name, f"floor {name}") if failed[k]
        ]
        out.append(
            Result(
                f"api CPU: {name} {path}, in-process{label}",
                best[name],
                "ms CPU/request",
                best[f"floor {name}"],
                f"same-stack floor: {what}, ms",
                note="; ".join(notes),
            )
        )
    return out


def _problems(m: dict) -> list[str]:
    problems = []
    if m["non_2xx"]:
        problems.append(f"{m['non_2xx']} answers were not 2xx")
    if m["socket_errors"]:
        problems.append(f"socket errors: {m['socket_errors']}")
    return problems


def _ms(x: float | None) -> str:
    return "—" if x is None else f"{x:.1f} ms"


def _count_items(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM items")).scalar_one())
    finally:
        engine.dispose()


def _ready(url: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer in {timeout_s}s")

"""``python -m bench.durability_trace``: the demo run under a system-call trace, to see
that every commit that precedes a bank or issuer call is synced to disk before the call.

It starts ``giftcash demo`` on a fresh data folder under ``strace -f`` (Debian's strace),
sells vouchers through the v1 API as the README does, waits until they are paid, stops the
demo and reads the trace. SQLite writes a transaction's pages to the WAL (``pwrite64``)
at commit, then syncs it (``fdatasync``) when ``synchronous`` is FULL; with NORMAL it
syncs only at checkpoints. The trace is read as one sequence: a foreign request (an HTTP
request written to the issuer's or the bank's port) sent while WAL writes are not yet
synced would be a call made on an intent that a power cut could still undo.

Prints: the issuer and bank requests seen, the WAL syncs and the WAL write groups (one per
committed write transaction), the groups left unsynced, and the foreign requests sent
while the WAL had unsynced writes. ``--keep DIR`` keeps the trace.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

LINE = re.compile(r"^(\d+)\s+(\w+)\((\d+)<(.*?)>(?=[,)]| <unfinished)(.*)$")
# strace splits a call that another thread interrupts: "<unfinished ...>", then later
# "<... fdatasync resumed>": the sync is complete only at the resumed line.
RESUMED = re.compile(r"^(\d+)\s+<\.\.\. (\w+) resumed>")


def run_flow(data_dir: Path, sales: int) -> dict[str, int]:
    info = json.loads((data_dir / "demo.json").read_text())
    api, issuer = info["api_url"], info["issuer_url"]
    token = httpx.post(f"{api}/v1/tokens", json=info["customer"]).json()["access_token"]
    auth = {"authorization": f"Bearer {token}"}
    account = httpx.get(f"{api}/v1/bank-accounts", headers=auth).json()["data"][0]["id"]
    submissions: list[str] = []
    for n in range(sales):
        code = httpx.post(
            f"{issuer}/sim/vouchers",
            json={"brand_id": "cultureland", "face_value": 50000, "purchase_channel": "cash"},
        ).json()["code"]
        item = {"brand_id": "cultureland", "code": code, "face_value": 50000}
        r = httpx.post(
            f"{api}/v1/submissions",
            headers={**auth, "Idempotency-Key": f"trace-{time.time_ns()}-{n}"},
            json={"bank_account_id": account, "items": [{**item, "funding_source": "cash"}]},
        )
        r.raise_for_status()
        submissions.append(r.json()["id"])
    # Done when every item is paid, or redeemed and held by a rule (a second sale within
    # minutes is held for a day by the velocity rules): its state then stops changing.
    deadline, stable_since, last = time.monotonic() + 120, time.monotonic(), None
    while time.monotonic() < deadline:
        states = sorted(
            item["status"]
            for sid in submissions
            for item in httpx.get(f"{api}/v1/submissions/{sid}", headers=auth).json()["items"]
        )
        if states != last:
            last, stable_since = states, time.monotonic()
        settled = all(state in ("paid", "redeemed") for state in states)
        if states.count("paid") == sales or (settled and time.monotonic() - stable_since > 5):
            break
        time.sleep(0.5)
    states = last or []
    return {
        "vouchers sold": sales,
        "vouchers paid": states.count("paid"),
        "vouchers redeemed, payout held by a rule": states.count("redeemed"),
    }


def analyse(trace: Path, ports: dict[str, int]) -> dict[str, int]:
    wal_unsynced = False
    figures = {
        "WAL write groups (writes up to a sync)": 0,
        "WAL syncs": 0,
        "WAL groups unsynced at the end": 0,
    }
    for name in ports:
        figures[f"{name} requests"] = 0
        figures[f"{name} requests sent with unsynced WAL writes"] = 0
    targets = {f"->127.0.0.1:{port}]": name for name, port in ports.items()}
    syncing: set[str] = set()  # threads inside a WAL sync that has not returned yet
    for raw in trace.read_text(errors="replace").splitlines():
        resumed = RESUMED.match(raw)
        if resumed and resumed.group(1) in syncing:
            syncing.discard(resumed.group(1))
            figures["WAL syncs"] += 1
            wal_unsynced = False
            continue
        m = LINE.match(raw)
        if not m:
            continue
        pid, call, _fd, path, rest = m.groups()
        if path.endswith(".db-wal"):
            if call in ("fdatasync", "fsync") and rest.startswith(" <unfinished"):
                syncing.add(pid)
            elif call == "pwrite64" and not wal_unsynced:
                wal_unsynced = True
                figures["WAL write groups (writes up to a sync)"] += 1
            elif call in ("fdatasync", "fsync"):
                figures["WAL syncs"] += 1
                wal_unsynced = False
            continue
        if call not in ("sendto", "write", "sendmsg"):
            continue
        for suffix, name in targets.items():
            # a request line (keep-alive connections carry several), not its body
            if path.endswith(suffix) and re.match(r', "(GET|POST|PUT|PATCH) ', rest):
                figures[f"{name} requests"] += 1
                if wal_unsynced:
                    figures[f"{name} requests sent with unsynced WAL writes"] += 1
    figures["WAL groups unsynced at the end"] = int(wal_unsynced)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.durability_trace")
    parser.add_argument("--sales", type=int, default=3)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--keep", help="a folder to keep the trace and the demo's data in")
    parser.add_argument(
        "--giftcash",
        default=str(Path(sys.executable).with_name("giftcash")),
        help="the giftcash command to trace (another build's, to compare)",
    )
    args = parser.parse_args(argv)
    if not shutil.which("strace"):
        print("strace is not installed (apt-get install strace)", file=sys.stderr)
        return 2
    work = Path(args.keep or tempfile.mkdtemp(prefix="gc-trace-"))
    work.mkdir(parents=True, exist_ok=True)
    data_dir, trace = work / "var", work / "trace.txt"
    shutil.rmtree(data_dir, ignore_errors=True)  # a fresh demo: its demo.json is the sign
    cmd = [
        "strace",
        "-f",
        "-qq",
        "-yy",
        "-s",
        "16",
        "-o",
        str(trace),
        "-e",
        "trace=pwrite64,fdatasync,fsync,sendto,write,sendmsg",
        *args.giftcash.split(),
        "demo",
        "--port",
        str(args.port),
        "--data-dir",
        str(data_dir),
    ]
    demo = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while not (data_dir / "demo.json").exists():
            if time.monotonic() > deadline or demo.poll() is not None:
                print("the demo did not start", file=sys.stderr)
                return 1
            time.sleep(0.5)
        api = json.loads((data_dir / "demo.json").read_text())["api_url"]
        while httpx.get(f"{api}/v1/brands").status_code != 200:
            time.sleep(0.5)
        flow = run_flow(data_dir, args.sales)
        info = json.loads((data_dir / "demo.json").read_text())
    finally:
        # the demo is strace's child: stop it, and strace ends with it
        for child in Path(f"/proc/{demo.pid}/task/{demo.pid}/children").read_text().split():
            subprocess.run(["kill", "-TERM", child], check=False)
        demo.wait(timeout=60)
    ports = {name: int(info[f"{name}_url"].rsplit(":", 1)[1]) for name in ("issuer", "bank")}
    figures = {**flow, **analyse(trace, ports)}
    width = max(map(len, figures))
    for name, value in figures.items():
        print(f"{name:<{width}}  {value:>8,}")
    if not args.keep:
        shutil.rmtree(work)
    else:
        print(f"trace kept in {trace}")
    bad = sum(v for k, v in figures.items() if "unsynced" in k)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

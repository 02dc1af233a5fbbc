"""Intake: one submission of many codes through ``submissions.submit`` (validated,
normalised, encrypted, hashed, deduplicated, screened, quoted, stored), against a raw
batched insert of the same item rows into the same table of the same database.

It runs in a child process (``python -m bench.intake``) so that its peak RSS is its own:
the memory figure is the peak during the submission less the resident size just before.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.core import ROOT, Result, Scale, fresh_dir, proc_status_kb, sqlite_url

MB_PER_1000_GOAL = 5.0  # "a few MB per thousand items"


def measure(folder: Path, n: int, rounds: int) -> dict[str, Any]:
    from sqlalchemy import text

    from bench import world
    from giftcash.adapters.db import migrate
    from giftcash.bootstrap import build_deps
    from giftcash.config import Settings
    from giftcash.intake import submissions
    from giftcash.intake.submissions import ItemIn

    url = sqlite_url(folder)
    migrate.upgrade(url)
    settings = Settings(data_dir=folder, database_url=url)
    deps = world.with_limit(build_deps(settings, fast_passwords=True), n)
    customer_id, account_id = world.stub_customer(deps, "010-5000-0001", "김벤치", "1100000001")
    world.open_rules(deps)
    # Warm up: imports, compiled statements, the key, on a small submission.
    warm = [ItemIn(**d) for d in world.item_dicts(50, seed=1)]
    submissions.submit(deps, customer_id, bank_account_id=account_id, items=warm)

    best_ours = best_raw = 0.0
    rss_before = rss_peak = 0
    accepted = 0
    engine = deps.uow().engine
    for r in range(rounds):
        items = [ItemIn(**d) for d in world.item_dicts(n, seed=100 + r)]
        rss_before = proc_status_kb("self", "VmRSS") or 0
        hwm_before = proc_status_kb("self", "VmHWM") or 0
        start = time.perf_counter()
        view = submissions.submit(deps, customer_id, bank_account_id=account_id, items=items)
        best_ours = max(best_ours, n / (time.perf_counter() - start))
        hwm = proc_status_kb("self", "VmHWM") or 0
        if hwm > hwm_before:  # the peak moved during this submission
            rss_peak = max(rss_peak, hwm - rss_before)
        accepted = sum(it.status == "received" for it in view.items)
        del view, items

        # The same rows, re-inserted raw (new ids) in one transaction with executemany.
        with engine.connect() as conn:
            # Driver-level rows: the stored bytes and text, not decoded JSON.
            rows = [
                dict(m)
                for m in conn.exec_driver_sql(
                    "SELECT * FROM items WHERE submission_id = ?", (_last_sub(conn),)
                ).mappings()
            ]
            conn.rollback()
        for row in rows:
            row["id"] = row["id"] + f"-raw{r}"
            row["code_hmac"] = row["code_hmac"] + f"-raw{r}"
        cols = list(rows[0])
        sql = f"INSERT INTO items ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})"
        values = [tuple(row[c] for c in cols) for row in rows]
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            start = time.perf_counter()
            cur.execute("BEGIN IMMEDIATE")
            cur.executemany(sql, values)
            cur.execute("COMMIT")
            best_raw = max(best_raw, len(values) / (time.perf_counter() - start))
        finally:
            raw.close()
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT count(*) FROM items")).scalar_one()
            conn.rollback()
        assert stored >= (r + 1) * 2 * n, stored
    return {
        "ours_per_s": best_ours,
        "raw_per_s": best_raw,
        "accepted": accepted,
        "n": n,
        "rss_growth_kb": rss_peak,
        "rss_before_kb": rss_before,
    }


def _last_sub(conn: Any) -> str:
    from sqlalchemy import select

    from giftcash.adapters.db import tables

    s = tables.submissions.c
    return conn.execute(
        select(s.id).order_by(s.created_at.desc(), s.id.desc()).limit(1)
    ).scalar_one()


def run(scale: Scale) -> list[Result]:
    with fresh_dir("intake") as folder:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.intake",
                str(folder),
                str(scale.intake_n),
                str(min(scale.rounds, 2)),
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=600,
        )
    if proc.returncode != 0:
        note = f"intake benchmark failed: {proc.stderr.strip().splitlines()[-1:]}"
        return [Result("intake: one submission", None, "codes/s", note=note)]
    m = json.loads(proc.stdout.strip().splitlines()[-1])
    n = m["n"]
    note = f"{m['accepted']:,} of {n:,} items accepted (status received); service level"
    per_1000 = m["rss_growth_kb"] / 1024 / (n / 1000)
    return [
        Result(
            f"intake: one submission of {n:,} codes",
            m["ours_per_s"],
            "codes/s",
            20_000,
            "goal rate 20,000/s",
            goal_of="value",
            goal_min=20_000,
            note=note,
        ),
        Result(
            f"intake: {n:,} codes vs raw batched insert",
            m["ours_per_s"],
            "codes/s",
            m["raw_per_s"],
            "raw executemany of the same rows",
            goal_min=0.1,
        ),
        Result(
            f"memory: intake of {n:,} codes, peak RSS growth",
            per_1000,
            "MB per 1,000 items",
            m["rss_before_kb"] / 1024,
            "RSS before, MB",
            goal_of="value",
            goal_max=MB_PER_1000_GOAL,
            note=f"peak {m['rss_growth_kb'] / 1024:.1f} MB above the "
            f"{m['rss_before_kb'] / 1024:.0f} MB resident before the submission",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", type=Path)
    parser.add_argument("n", type=int)
    parser.add_argument("rounds", type=int)
    a = parser.parse_args()
    print(json.dumps(measure(a.folder, a.n, a.rounds)))


if __name__ == "__main__":
    main()

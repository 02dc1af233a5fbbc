"""``python -m bench [--quick] [--only GROUP ...]``: run the benchmarks, write
``bench/out/latest.json`` and ``bench/out/latest.md``, print the table.

Groups: ledger, intake, api, pipeline, scaleout, scans, resale (orders placed, deposits
matched, paid orders delivered).

``python -m bench --setup`` prepares a fresh machine, once: the load generator of the API rows
(``wrk``, Debian's package, through apt-get) and the throwaway venv of the django-hordak peer
row (``bench/.venv-hordak``, git-ignored, from PyPI). ``--setup-hordak`` does the venv only.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime

from bench import core
from bench.core import HORDAK_PYTHON, Result, Scale

GROUPS = ("ledger", "intake", "api", "pipeline", "scaleout", "scans", "resale")
HORDAK_PINS = ("django-hordak==2.0.0", "psycopg[binary]==3.3.9")


def setup_hordak() -> None:
    venv = HORDAK_PYTHON.parent.parent
    if not HORDAK_PYTHON.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(HORDAK_PYTHON), "-m", "pip", "install", "--quiet", *HORDAK_PINS], check=True
    )


def setup_wrk() -> None:
    """Install wrk with apt-get when it is missing (as root, or through sudo)."""
    if shutil.which("wrk"):
        return
    if shutil.which("apt-get") is None:
        raise SystemExit("wrk is missing and this machine has no apt-get: install wrk by hand")
    sudo: list[str] = []
    if os.geteuid() != 0:
        if shutil.which("sudo") is None:
            raise SystemExit("wrk is missing: run `apt-get install wrk` as root")
        sudo = ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [*sudo, "apt-get", "install", "-y", "-q", "wrk"]
    if subprocess.run(install, env=env).returncode != 0:
        # a fresh machine may hold no package lists yet
        subprocess.run([*sudo, "apt-get", "update", "-q"], env=env, check=True)
        subprocess.run(install, env=env, check=True)
    if shutil.which("wrk") is None:
        raise SystemExit("apt-get ran but wrk is still not on PATH")


def setup() -> None:
    """Everything the benchmark needs beyond the project's own venv, then what is ready."""
    setup_wrk()
    setup_hordak()
    versions = "from importlib.metadata import version as v; print(v('django-hordak'), v('django'))"
    checked = subprocess.run(
        [str(HORDAK_PYTHON), "-c", "import hordak; " + versions],
        capture_output=True,
        text=True,
        check=True,
    )
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    print(f"ready: {(wrk.stdout or wrk.stderr).splitlines()[0]}")
    hordak, django = checked.stdout.split()
    print(f"ready: django-hordak {hordak} (Django {django}) in {HORDAK_PYTHON.parent.parent}")


def run(
    groups: tuple[str, ...], scale: Scale, postgres_url: str | None, *, postgres: bool = True
) -> list[Result]:
    from bench import api, intake, ledger, pipeline

    server = core.postgres_server_url(postgres_url) if postgres else None
    results: list[Result] = []
    raw_sqlite: float | None = None

    def section(name: str, fn) -> None:
        start = time.monotonic()
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        try:
            results.extend(fn())
        except Exception as e:  # one failed group must not lose the others' figures
            logging.exception("benchmark group %s failed", name)
            results.append(Result(f"{name}: failed", None, "", note=f"{type(e).__name__}: {e}"))
        print(f"[bench] {name} done in {time.monotonic() - start:.0f}s", file=sys.stderr)

    if "ledger" in groups:

        def ledger_all() -> list[Result]:
            nonlocal raw_sqlite
            rows, raw_sqlite = ledger.run_sqlite(scale)
            return rows + ledger.run_postgres(scale, server)

        section("ledger", ledger_all)
    if "intake" in groups:
        section("intake", lambda: intake.run(scale))
    if "api" in groups:
        section("api", lambda: api.run(scale) + (api.run(scale, server) if server else []))
    if "pipeline" in groups:

        def pipeline_sqlite() -> list[Result]:
            raw = raw_sqlite
            if raw is None:
                with core.fresh_dir("raw") as folder:
                    raw = ledger.raw_sqlite_rate(folder, scale.ledger_n, scale.rounds)
            return [pipeline.run_fakes(scale, raw), *pipeline.run_sqlite(scale, raw)]

        section("pipeline", pipeline_sqlite)
    if "scaleout" in groups:
        section("scaleout", lambda: pipeline.run_scaleout(scale, server))
    if "scans" in groups:
        from bench import scans

        section("scans", lambda: scans.run(scale))
    if "resale" in groups:
        from bench import resale

        section("resale", lambda: resale.run(scale, server))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the run under 5 minutes")
    parser.add_argument("--smoke", action="store_true", help="the tiniest sizes (a test)")
    parser.add_argument("--only", nargs="+", choices=GROUPS, help="run only these groups")
    parser.add_argument("--postgres-url", help="default: GIFTCASH_TEST_POSTGRES_URL or local")
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL rows")
    parser.add_argument(
        "--setup", action="store_true", help="once on a fresh machine: wrk and the peer's venv"
    )
    parser.add_argument("--setup-hordak", action="store_true", help="the peer's venv only")
    parser.add_argument("--out", default=str(core.OUT), help="where latest.json/.md go")
    args = parser.parse_args(argv)
    if args.setup:
        setup()
        return 0
    if args.setup_hordak:
        setup_hordak()
        return 0
    scale = Scale.smoke() if args.smoke else Scale.of(args.quick)
    groups = tuple(args.only or GROUPS)
    started = time.monotonic()
    results = run(groups, scale, args.postgres_url, postgres=not args.no_postgres)
    meta = {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "mode": "smoke" if args.smoke else ("--quick" if args.quick else "full"),
        "machine": f"{platform.machine()}, {_cores()} cores, Python {platform.python_version()}",
    }
    from pathlib import Path

    json_path, md_path = core.write(results, meta, Path(args.out))
    print(core.markdown(results, meta))
    took = time.monotonic() - started
    print(f"wrote {json_path} and {md_path} in {took:.0f}s")
    return 0


def _cores() -> int:
    import os

    return os.cpu_count() or 0


if __name__ == "__main__":
    sys.exit(main())

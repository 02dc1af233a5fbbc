"""What every benchmark shares: the result record, fresh databases, interleaved timing,
process memory readings and the two output files.

Every figure is a ratio against a baseline measured in the same run, because this
machine is shared and noisy: a neighbour's load slows subject and baseline alike.
Rounds alternate baseline and subject and each keeps its best round (noise only ever
slows a round down).
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
HORDAK_PYTHON = ROOT / "bench" / ".venv-hordak" / "bin" / "python"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@dataclass
class Result:
    """One row of the table. ``goal_min``/``goal_max`` bound ``goal_of`` ("ratio" or
    "value"); ``met`` is None when the figure could not be measured."""

    name: str
    value: float | None
    unit: str
    baseline: float | None = None
    baseline_label: str = ""
    goal_of: str = "ratio"
    goal_min: float | None = None
    goal_max: float | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline

    @property
    def goal(self) -> str:
        parts = []
        if self.goal_min is not None:
            parts.append(f">= {self.goal_min:g}")
        if self.goal_max is not None:
            parts.append(f"<= {self.goal_max:g}")
        if not parts:
            return "none (reported)"
        target = "ratio" if self.goal_of == "ratio" else self.unit
        return f"{target} " + " and ".join(parts)

    @property
    def met(self) -> bool | None:
        if self.goal_min is None and self.goal_max is None:
            return None
        x = self.ratio if self.goal_of == "ratio" else self.value
        if x is None:
            return None
        return (self.goal_min is None or x >= self.goal_min) and (
            self.goal_max is None or x <= self.goal_max
        )

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("goal_of", "goal_min", "goal_max"):
            d.pop(k)
        return {
            "name": self.name,
            "value": _round(self.value),
            "unit": self.unit,
            "baseline": _round(self.baseline),
            "ratio": _round(self.ratio, 3),
            "goal": self.goal,
            "met": self.met,
            "baseline_label": self.baseline_label,
            "note": self.note,
            **({"extra": d["extra"]} if d["extra"] else {}),
        }


def _round(x: float | None, digits: int = 1) -> float | None:
    return None if x is None else round(x, digits)


@dataclass(frozen=True)
class Scale:
    """How big each benchmark runs: ``--quick`` (under 5 minutes) or the full run."""

    quick: bool
    rounds: int
    ledger_n: int
    batch_rounds: int
    intake_n: int
    api_seconds: int
    pipeline_n: int
    latency_n: int
    scaleout_n: int

    @classmethod
    def of(cls, quick: bool) -> Scale:
        if quick:
            return cls(True, 2, 200, 20, 10_000, 4, 800, 480, 240)
        return cls(False, 5, 2_000, 60, 10_000, 15, 6_000, 1_600, 1_600)

    @classmethod
    def smoke(cls) -> Scale:
        """The smallest case, for the test that keeps the runner from rotting."""
        return cls(True, 1, 20, 2, 50, 1, 20, 10, 10)


def best_rates(
    rounds: int, subjects: dict[str, Callable[[], tuple[int, float]]]
) -> dict[str, float]:
    """Run each subject ``rounds`` times, interleaved; each call answers (operations,
    seconds). Answers the best operations/s of each."""
    best: dict[str, float] = dict.fromkeys(subjects, 0.0)
    for _ in range(rounds):
        for name, fn in subjects.items():
            ops, seconds = fn()
            best[name] = max(best[name], ops / seconds)
    return best


def timed(fn: Callable[[], int]) -> tuple[int, float]:
    start = time.perf_counter()
    ops = fn()
    return ops, time.perf_counter() - start


# -- databases -------------------------------------------------------------------------


def postgres_server_url(explicit: str | None) -> str | None:
    """The PostgreSQL server to use, or None when none answers."""
    url = explicit or os.environ.get("GIFTCASH_TEST_POSTGRES_URL") or DEFAULT_POSTGRES
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return url
    except Exception:
        return None
    finally:
        engine.dispose()


@contextmanager
def fresh_postgres(server_url: str) -> Iterator[str]:
    """A new database on the server for one benchmark, dropped afterwards."""
    name = f"giftcash_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def fresh_dir(prefix: str) -> Iterator[Path]:
    """A scratch folder under bench/out/tmp (git-ignored), removed afterwards."""
    path = OUT / "tmp" / f"{prefix}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    path.mkdir(parents=True)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def sqlite_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'giftcash.db'}"


def psycopg_dsn(url: str) -> dict[str, Any]:
    """Connection arguments for plain psycopg from a SQLAlchemy URL."""
    u = make_url(url)
    return {
        "host": u.host or "127.0.0.1",
        "port": u.port or 5432,
        "user": u.username or "postgres",
        "dbname": u.database,
    }


# -- memory ----------------------------------------------------------------------------


def proc_status_kb(pid: int | str, key: str) -> int | None:
    """``VmRSS`` / ``VmHWM`` (peak RSS) of a process, in kB, from /proc."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def children_of(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...; comm may hold spaces, so split after the last ')'
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            out.append(int(entry.name))
    return out


# -- output ----------------------------------------------------------------------------


def write(results: list[Result], meta: dict[str, Any], out: Path = OUT) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / "latest.json"
    json_path.write_text(json.dumps([r.to_json() for r in results], indent=2) + "\n")
    md_path = out / "latest.md"
    md_path.write_text(markdown(results, meta))
    return json_path, md_path


def _fmt(x: float | None, digits: int = 1) -> str:
    if x is None:
        return "—"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:,.{digits}f}"


def markdown(results: list[Result], meta: dict[str, Any]) -> str:
    lines = [
        f"Run: {meta.get('when', '')}, {meta.get('mode', '')}, {meta.get('machine', '')}",
        "",
        "| benchmark | figure | baseline (same run) | ratio | goal | met |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        met = {True: "yes", False: "**no**", None: "—"}[r.met]
        base = f"{_fmt(r.baseline)} ({r.baseline_label})" if r.baseline_label else "—"
        lines.append(
            f"| {r.name} | {_fmt(r.value)} {r.unit} | {base} | {_fmt(r.ratio, 2)} "
            f"| {r.goal} | {met} |"
        )
    notes = [r for r in results if r.note]
    if notes:
        lines += ["", "Notes:", ""]
        lines += [f"- **{r.name}**: {r.note}" for r in notes]
    return "\n".join(lines) + "\n"

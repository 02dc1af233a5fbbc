"""Scenarios of ``giftcash selftest``: each is a small registered function that runs once
and answers one ``Row``; the summary adds rows of one scenario up.

To add a scenario (races, schemathesis, a secrets scan):

    from giftcash.selftest.registry import Context, Row, scenario

    @scenario("races", order=40)
    def races(ctx: Context) -> Row:
        ...
        return Row("races", items=50, double_payouts=0, ...)

and list the module in ``SCENARIO_MODULES`` so ``load_scenarios`` imports it. A bad column
that is not zero makes ``giftcash selftest`` exit non-zero.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path

# Modules whose import registers scenarios; add yours here.
SCENARIO_MODULES: list[str] = [
    "giftcash.selftest.scenarios",
    "giftcash.selftest.adversarial",
    "giftcash.selftest.bank_hours",
]

# Columns where anything but zero is a failure.
BAD_COLUMNS = (
    "double_redemptions",
    "double_payouts",
    "double_deliveries",
    "double_refunds",
    "lost_won",
    "invariant_breaks",
    "unsettled",
    "server_errors",
    "harness_errors",
)


@dataclass
class Row:
    scenario: str
    runs: int = 1
    items: int = 0
    sigkills: int = 0
    faults: int = 0  # faults the simulators injected (errors, hangs, lost answers)
    recovered: int = 0  # outcomes committed only after their caller was killed
    double_redemptions: int = 0
    double_payouts: int = 0
    double_deliveries: int = 0  # resale: a unit (or its code) delivered twice
    double_refunds: int = 0  # resale: a buyer's deposit returned (or asked back) twice
    lost_won: int = 0
    invariant_breaks: int = 0
    unsettled: int = 0  # items or payouts neither terminal nor legitimately waiting
    server_errors: int = 0  # answers of our own API with status >= 500
    harness_errors: int = 0  # the scenario itself could not run to its end
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def bad(self) -> int:
        return sum(getattr(self, name) for name in BAD_COLUMNS)

    def __add__(self, other: Row) -> Row:
        assert self.scenario == other.scenario, (self.scenario, other.scenario)
        out = Row(self.scenario)
        for f in fields(Row):
            if f.name == "scenario":
                continue
            setattr(out, f.name, getattr(self, f.name) + getattr(other, f.name))
        return out


@dataclass(frozen=True)
class Context:
    """What a scenario run is given. ``database_url``: None for a fresh SQLite file per run,
    else a PostgreSQL URL in which each run makes (and drops) its own schema."""

    seed: int
    workdir: Path
    database_url: str | None = None
    long: bool = False
    run: int = 0
    progress: Callable[[str], None] = lambda _msg: None

    @property
    def backend(self) -> str:
        return "postgresql" if self.database_url else "sqlite"


@dataclass(frozen=True)
class Scenario:
    name: str
    fn: Callable[[Context], Row]
    order: int


_REGISTRY: dict[str, Scenario] = {}


def scenario(name: str, *, order: int = 100) -> Callable[[Callable[[Context], Row]], Callable]:
    def register(fn: Callable[[Context], Row]) -> Callable[[Context], Row]:
        _REGISTRY[name] = Scenario(name, fn, order)
        return fn

    return register


def load_scenarios() -> list[Scenario]:
    for module in SCENARIO_MODULES:
        importlib.import_module(module)
    return sorted(_REGISTRY.values(), key=lambda s: (s.order, s.name))

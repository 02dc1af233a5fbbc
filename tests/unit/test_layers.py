"""The import graph of ``src/giftcash``: no cycle between modules, and no import against
the layers (DESIGN.md, "Architecture"): dependencies point inward, adapters implement
the ports, entrypoints reach adapters only through the composition root (``bootstrap``).

Read with ``ast`` (imports at the top and inside functions, ``TYPE_CHECKING`` ones too),
so a late import cannot hide a cycle or a wrong-way dependency.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import giftcash

ROOT = Path(giftcash.__file__).parent
PACKAGE = "giftcash"

# The capabilities: one package per business capability, a layer between the entrypoints
# and service/domain (DESIGN.md, "Architecture"). They may import service, domain and
# each other (without cycles), never an adapter or an entrypoint; service, what they
# share, imports none of them.
CAPABILITIES = (
    "abuse",
    "audit",
    "catalogue",
    "identity",
    "intake",
    "ops",
    "payouts",
    "privacy",
    "reconcile",
    "redemption",
    "reports",
    "resale",
    "review",
    "stops",
    "webhooks",
)
# The other top-level modules and packages, each with its place in the layers.
OTHERS = (
    "adapters",
    "bootstrap",
    "config",
    "domain",
    "entrypoints",
    "selftest",
    "service",
    "simulators",
)
_OUTER = (
    "giftcash.adapters",
    "giftcash.entrypoints",
    "giftcash.simulators",
    "giftcash.selftest",
    "giftcash.bootstrap",
)

# (importer prefix, imported prefixes it must not reach); a prefix matches itself and
# everything under it.
FORBIDDEN: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("giftcash.service", (*_OUTER, *(f"giftcash.{c}" for c in CAPABILITIES))),
    *((f"giftcash.{c}", _OUTER) for c in CAPABILITIES),
    ("giftcash.adapters", ("giftcash.entrypoints",)),
    ("giftcash.entrypoints.api", ("giftcash.adapters",)),
    ("giftcash.entrypoints.web", ("giftcash.adapters",)),
)


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def modules(root: Path, package: str) -> dict[str, Path]:
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = [p for p in path.relative_to(root).with_suffix("").parts if p != "__init__"]
        out[".".join([package, *parts])] = path
    return out


def _imported(module: str, path: Path, node: ast.AST) -> Iterator[tuple[str, str | None]]:
    """(module, name) pairs one import statement brings in, absolute."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name, None
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            anchor = module.split(".")
            drop = node.level - 1 if path.name == "__init__.py" else node.level
            anchor = anchor[: len(anchor) - drop]
            base = ".".join([*anchor, base] if base else anchor)
        for alias in node.names:
            yield base, alias.name


def graph(root: Path, package: str) -> dict[str, set[str]]:
    """Module -> the modules of ``package`` it imports (``from pkg import mod`` counts as
    an import of ``pkg.mod`` when that is a module, else of ``pkg``)."""
    mods = modules(root, package)
    edges: dict[str, set[str]] = {m: set() for m in mods}
    for module, path in mods.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for base, name in _imported(module, path, node):
                target = f"{base}.{name}" if name and f"{base}.{name}" in mods else base
                if target in mods and target != module:
                    edges[module].add(target)
    return edges


def third_party(root: Path, package: str, prefix: str) -> list[str]:
    """Imports under ``prefix`` of anything but the standard library and ``prefix``."""
    mods = modules(root, package)
    found = []
    for module, path in mods.items():
        if not _under(module, prefix):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for base, _ in _imported(module, path, node):
                top = base.split(".", 1)[0]
                if top not in sys.stdlib_module_names and not _under(base, prefix):
                    found.append(f"{module} imports {base}")
    return found


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (a path back to its start) per strongly connected component (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(v: str) -> None:
        # recursion depth is bounded by the number of modules (a few hundred)
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                components.append(comp)

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return [_a_cycle(edges, comp) for comp in components]


def _a_cycle(edges: dict[str, set[str]], comp: set[str]) -> list[str]:
    start = min(comp)
    path, seen = [start], {start}
    while True:
        nxt = sorted(w for w in edges[path[-1]] if w in comp)
        back = [w for w in nxt if w in seen]
        if back:
            return [*path[path.index(back[0]) :], back[0]]
        path.append(nxt[0])
        seen.add(nxt[0])


def wrong_way(edges: dict[str, set[str]]) -> list[str]:
    found = []
    for module, targets in sorted(edges.items()):
        for importer, banned in FORBIDDEN:
            if not _under(module, importer):
                continue
            for target in sorted(targets):
                if any(_under(target, b) for b in banned):
                    found.append(f"{module} imports {target}")
    return found


def test_no_import_cycle_inside_giftcash() -> None:
    found = cycles(graph(ROOT, PACKAGE))
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(c) for c in found)


def test_no_import_against_the_layers() -> None:
    found = wrong_way(graph(ROOT, PACKAGE)) + third_party(ROOT, PACKAGE, "giftcash.domain")
    assert not found, "imports against the layers:\n" + "\n".join(found)


def test_every_top_level_package_has_its_layer() -> None:
    """A new package under ``src/giftcash`` is named here, as a capability or otherwise,
    so that the rules above cover it."""
    found = {p.stem for p in ROOT.glob("*.py")} | {
        p.parent.name for p in ROOT.glob("*/__init__.py")
    }
    found.discard("__init__")
    unplaced = sorted(found - set(CAPABILITIES) - set(OTHERS))
    assert not unplaced, f"name each in CAPABILITIES or OTHERS: {unplaced}"


# -- the checks can fail ----------------------------------------------------------------


def _plant(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "giftcash"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_a_planted_cycle_is_reported(tmp_path: Path) -> None:
    root = _plant(
        tmp_path,
        {
            "__init__.py": "",
            "service/__init__.py": "",
            "service/a.py": "from giftcash.service import b\n",
            "service/b.py": "def late():\n    from giftcash.service.c import x\n",
            "service/c.py": "from . import a\nx = 1\n",
        },
    )
    assert cycles(graph(root, PACKAGE)) == [
        ["giftcash.service.a", "giftcash.service.b", "giftcash.service.c", "giftcash.service.a"]
    ]


def test_a_planted_wrong_way_import_is_reported(tmp_path: Path) -> None:
    root = _plant(
        tmp_path,
        {
            "__init__.py": "",
            "adapters/__init__.py": "",
            "adapters/db.py": "",
            "domain/__init__.py": "",
            "domain/rules.py": "import sqlalchemy\n",
            "entrypoints/__init__.py": "",
            "entrypoints/web/__init__.py": "",
            "entrypoints/web/pages.py": "def f():\n    from giftcash.adapters import db\n",
            "intake/__init__.py": "",
            "intake/submissions.py": "from giftcash.adapters import db\n",
            "payouts/__init__.py": "",
            "payouts/sending.py": "from giftcash.intake import submissions\n",
            "service/__init__.py": "",
            "service/use.py": "from ..adapters.db import thing\n",
            "service/deps.py": "from giftcash.payouts import sending\n",
        },
    )
    assert wrong_way(graph(root, PACKAGE)) == [
        "giftcash.entrypoints.web.pages imports giftcash.adapters.db",
        "giftcash.intake.submissions imports giftcash.adapters.db",
        "giftcash.service.deps imports giftcash.payouts.sending",
        "giftcash.service.use imports giftcash.adapters.db",
    ]
    assert third_party(root, PACKAGE, "giftcash.domain") == [
        "giftcash.domain.rules imports sqlalchemy"
    ]

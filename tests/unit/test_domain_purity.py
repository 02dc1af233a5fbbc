"""House rule 1: ``giftcash.domain`` imports only the standard library and itself."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import giftcash.domain

DOMAIN = "giftcash.domain"
DOMAIN_DIR = Path(giftcash.domain.__file__).parent


def _module_name(path: Path, root: Path, package: str) -> str:
    rel = path.relative_to(root).with_suffix("")
    parts = [p for p in rel.parts if p != "__init__"]
    return ".".join([package, *parts])


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute name a relative ``from`` import refers to."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    # In a package's __init__, level 1 is the package itself.
    drop = node.level - 1 if is_package else node.level
    if drop >= len(base):
        return ""  # beyond the top-level package: certainly not the domain
    anchor = base[: len(base) - drop]
    return ".".join([*anchor, node.module] if node.module else anchor)


def _allowed(name: str) -> bool:
    top = name.split(".", 1)[0]
    return top in sys.stdlib_module_names or name == DOMAIN or name.startswith(DOMAIN + ".")


def _dynamic_import(node: ast.Call) -> bool:
    f = node.func
    if isinstance(f, ast.Name):
        return f.id == "__import__"
    return isinstance(f, ast.Attribute) and f.attr == "import_module"


def import_violations(root: Path, package: str = DOMAIN) -> list[str]:
    """Every import under ``root`` (the directory of ``package``) that is neither the
    standard library nor the domain itself, as 'file:line: name'."""
    out: list[str] = []
    for path in sorted(root.rglob("*.py")):
        module = _module_name(path, root, package)
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            bad: list[str] = []
            if isinstance(node, ast.Import):
                bad = [a.name for a in node.names if not _allowed(a.name)]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(module, is_package, node) or "<outside>"
                # `from giftcash import domain` names the domain through its parent
                full = [f"{base}.{a.name}" for a in node.names]
                bad = [] if _allowed(base) else [f for f in full if not _allowed(f)]
            elif isinstance(node, ast.Call) and _dynamic_import(node):
                bad = ["<dynamic import>"]
            out += [f"{path.relative_to(root)}:{node.lineno}: {name}" for name in bad]
    return out


def test_every_domain_module_imports_only_stdlib_or_domain() -> None:
    assert import_violations(DOMAIN_DIR) == []


def test_the_walk_sees_the_domain_modules() -> None:
    # An empty walk would pass the check above without looking at anything.
    seen = {p.name for p in DOMAIN_DIR.rglob("*.py")}
    assert {"money.py", "brands.py", "quotes.py", "states.py", "ledger.py", "errors.py"} <= seen


def _copy_domain(tmp_path: Path) -> Path:
    copy = tmp_path / "domain"
    shutil.copytree(DOMAIN_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_a_planted_third_party_import_is_caught(tmp_path: Path) -> None:
    copy = _copy_domain(tmp_path)
    assert import_violations(copy) == []
    money = copy / "money.py"
    money.write_text(money.read_text() + "\nimport sqlalchemy  # planted\n")
    found = import_violations(copy)
    assert len(found) == 1
    assert found[0].startswith("money.py:")
    assert found[0].endswith("sqlalchemy")


def test_planted_imports_of_the_rest_of_giftcash_are_caught(tmp_path: Path) -> None:
    copy = _copy_domain(tmp_path)
    (copy / "planted.py").write_text(
        "from giftcash import config\n"
        "from .. import service\n"
        "from giftcash.domainx import y\n"
        "def late():\n"
        "    import httpx\n"
        "    return __import__('fastapi')\n"
    )
    found = import_violations(copy)
    assert sorted(f.split(": ", 1)[1] for f in found) == [
        "<dynamic import>",
        "giftcash.config",
        "giftcash.domainx.y",
        "giftcash.service",
        "httpx",
    ]
    assert all(f.startswith("planted.py:") for f in found)


def test_relative_and_stdlib_imports_are_allowed(tmp_path: Path) -> None:
    copy = _copy_domain(tmp_path)
    (copy / "planted.py").write_text(
        "from __future__ import annotations\n"
        "import decimal, fractions\n"
        "from . import money\n"
        "from .errors import DomainError\n"
        "from giftcash.domain.states import advance\n"
        "from giftcash import domain\n"
    )
    assert import_violations(copy) == []


def test_importing_the_domain_loads_no_third_party_module() -> None:
    # The runtime view: what importing every domain module actually pulls in.
    script = (
        "import importlib, json, pkgutil, sys\n"
        "import giftcash.domain as d\n"
        "for m in pkgutil.walk_packages(d.__path__, 'giftcash.domain.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", script], capture_output=True, text=True, check=True
    )
    loaded = json.loads(done.stdout)
    # giftcash/__init__.py defines only __version__; the rest are the interpreter's own.
    started_with = {"__main__", "_distutils_hack", "giftcash"}
    foreign = [m for m in loaded if not _allowed(m) and m not in started_with]
    assert "giftcash.domain.ledger" in loaded
    assert foreign == []

"""The decline registry: every code has its Korean and English text, every code whose
kind calls for lawful routes lists them, and no code is put on an item anywhere in the
source that the registry lacks (a scan of the source's syntax tree, shown to catch a
planted code in each form a code is emitted)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import giftcash
from giftcash.domain import declines as dc
from giftcash.domain.advisor import RouteId
from giftcash.entrypoints.web import messages
from giftcash.entrypoints.web.i18n import Tr

SRC = Path(giftcash.__file__).parent
HANGUL = re.compile(r"[\uac00-\ud7a3]")


@pytest.mark.parametrize("entry", dc.REGISTRY.values(), ids=list(dc.REGISTRY))
def test_every_code_has_korean_and_english_text(entry: dc.DeclineCode) -> None:
    assert entry.code == entry.code.strip() and re.fullmatch(r"[a-z][a-z0-9_]{2,63}", entry.code)
    assert "%" not in entry.text  # every text is %-formatted when shown
    english = messages.decline_text(Tr("en"), entry.code, "internal detail")
    korean = messages.decline_text(Tr("ko"), entry.code, "internal detail")
    assert english == entry.text and english.strip()
    assert korean != english and HANGUL.search(korean), f"{entry.code}: no Korean text"


@pytest.mark.parametrize("entry", dc.REGISTRY.values(), ids=list(dc.REGISTRY))
def test_codes_whose_kind_calls_for_routes_have_them_and_only_they(
    entry: dc.DeclineCode,
) -> None:
    advisor_routes = {r.value for r in RouteId} - {RouteId.SELL_HERE.value}
    assert set(entry.routes) <= advisor_routes  # a declined voucher is never sold here
    if entry.needs_routes:
        assert entry.routes, f"{entry.code} ({entry.kind}) needs its lawful routes"
        shown = messages.decline_routes(entry.code)  # in general words, both languages
        assert len(shown) == len(entry.routes)
        for title, text in shown:
            assert HANGUL.search(Tr("ko")(title)) and HANGUL.search(Tr("ko")(text))
            assert Tr("en")(title) == title
    else:
        assert not entry.routes, f"{entry.code} is not closed for a reason with routes"


def test_the_issuer_s_answers_and_the_operator_s_outcomes_have_their_codes() -> None:
    assert dc.for_issuer_answer("already_redeemed") is dc.VOUCHER_USED
    assert dc.for_issuer_answer("not_found") is dc.VOUCHER_NOT_FOUND
    assert dc.for_issuer_answer("expired") is dc.VOUCHER_EXPIRED
    assert dc.for_issuer_answer("something new") is dc.ISSUER_REFUSED
    assert {e.end_state for e in dc.OPERATOR_ENTRIES.values()} == {
        dc.EndState.DECLINED,
        dc.EndState.REVIEW,
        dc.EndState.HELD,
    }
    assert dc.describe("brand_value_cap") is dc.OPERATOR_DECLINE  # an operator's own code
    with pytest.raises(AssertionError):
        dc.lookup("brand_value_cap")


def test_an_operator_rule_cannot_take_a_code_of_another_kind() -> None:
    from giftcash.domain.policy import InvalidRuleConfig, OperatorRule, Outcome

    with pytest.raises(InvalidRuleConfig):
        OperatorRule("my_rule", Outcome.DECLINE, "no", code="voucher_used")
    assert OperatorRule("my_rule", Outcome.DECLINE, "no", code="operator_decline").code


# -- no code emitted that the registry lacks -------------------------------------------

# Functions that take a code first (the policy's finding helpers, intake's Decline) or
# second (a Finding, after its outcome), and keywords that carry a code.
CODE_FIRST = {"decline", "review", "hold", "Decline"}
CODE_SECOND = {"Finding"}
CODE_KEYWORDS = {"decline_code", "code"}
TUPLE_KEYWORDS = {"decline", "declined"}
SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _text(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _is_accept(node: ast.AST) -> bool:
    return _name(node) == "ACCEPT"


def emitted_codes(source: str) -> list[tuple[int, str]]:
    """Every code string the source puts on an item or a finding, with its line."""
    found: list[tuple[int, str]] = []

    def add(node: ast.AST | None) -> None:
        text = _text(node)
        if text is not None and node is not None:
            found.append((getattr(node, "lineno", 0), text))

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = _name(node.func)
            if name in CODE_FIRST and node.args:
                add(node.args[0])
            if name in CODE_SECOND and len(node.args) > 1 and not _is_accept(node.args[0]):
                add(node.args[1])
            for kw in node.keywords:
                if kw.arg in CODE_KEYWORDS and (name == "DeclineOut" or kw.arg != "code"):
                    add(kw.value)
                if kw.arg in TUPLE_KEYWORDS and isinstance(kw.value, ast.Tuple):
                    add(kw.value.elts[0] if kw.value.elts else None)
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if _text(key) == "decline_code":
                    add(value)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Subscript) and _text(target.slice) == "decline_code":
                    add(node.value)
        if isinstance(node, ast.Tuple) and len(node.elts) == 2:
            # ("voucher_used", "the issuer says ..."): a code and its message
            code, message = (_text(e) for e in node.elts)
            if code and message and SNAKE.match(code) and " " in message:
                add(node.elts[0])
    return found


def test_the_source_emits_no_code_the_registry_lacks() -> None:
    files = sorted(SRC.rglob("*.py"))
    assert len(files) > 100  # the scan really walked the package
    unknown = []
    seen = set()
    for path in files:
        for line, code in emitted_codes(path.read_text(encoding="utf-8")):
            seen.add(code)
            if code not in dc.REGISTRY:
                unknown.append(f"{path.relative_to(SRC)}:{line}: {code!r}")
    assert not unknown, "decline codes the registry lacks:\n" + "\n".join(unknown)


@pytest.mark.parametrize(
    "planted",
    [
        'decline("voucher_gone", "the issuer lost it")',
        'review("look_closer", "someone checks it")',
        'Finding(Outcome.DECLINE, "voucher_gone", "gone")',
        'Decline("voucher_gone", e.message)',
        'uow.items.transition_leased(i, w, a, b, now, decline=("voucher_gone", "gone"))',
        'values(decline_code="voucher_gone")',
        'row = {"decline_code": "voucher_gone"}',
        'row["decline_code"] = "voucher_gone"',
        'ANSWERS = {"gone": ("voucher_gone", "the issuer lost it")}',
        's.DeclineOut(code="voucher_gone", message="gone")',
    ],
)
def test_the_scan_finds_a_code_planted_in_each_form(planted: str) -> None:
    codes = [code for _, code in emitted_codes(planted)]
    assert codes and set(codes) <= {"voucher_gone", "look_closer"}
    assert all(c not in dc.REGISTRY for c in codes)


def test_the_scan_leaves_a_flag_or_an_accepting_finding_alone() -> None:
    source = 'Finding(Outcome.ACCEPT, "declaration_mismatch", "noted")\nFlag("dup_x")\n'
    assert emitted_codes(source) == []

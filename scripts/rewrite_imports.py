"""Rewrite imports of modules that moved (issue 12, folders by business capability).

    python scripts/rewrite_imports.py src tests bench

Run it on a branch that was made before the move, after merging main: every
``from giftcash.service import x`` and ``from giftcash.service.x import y`` of a moved
module is rewritten to the module's new home (``from giftcash.intake import submissions``),
with an alias where the module's name changed (``from giftcash.audit import log as audit``)
so the code that uses it reads as before. Only import statements change; then run
``ruff check --fix --select I`` to sort them. ``MOVES`` lists every move, oldest first; a
module split later maps to where its name went (the names that left it are listed in
``SPLIT`` and reported, not rewritten: the code that calls them is edited by hand).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

# old module -> new module
MOVES: dict[str, str] = {
    "giftcash.service.admin": "giftcash.catalogue.overrides",
    "giftcash.service.audit": "giftcash.audit.log",
    "giftcash.service.bank_accounts": "giftcash.identity.bank_accounts",
    "giftcash.service.blocks": "giftcash.identity.blocks",
    "giftcash.service.consents": "giftcash.identity.consents",
    "giftcash.service.notices": "giftcash.payouts.notices",
    "giftcash.service.sale_preview": "giftcash.intake.sale_preview",
    "giftcash.service.scans": "giftcash.intake.scans",
    # new_bank_tran_id(deps) is now deps.new_bank_tran_id() (the adapter's, handed in)
    "giftcash.service.bank_ids": "giftcash.adapters.banks.ids",
    "giftcash.service.bounds": "giftcash.abuse.bounds",
    "giftcash.service.cases": "giftcash.review.cases",
    "giftcash.service.catalogue": "giftcash.catalogue.live",
    "giftcash.service.console": "giftcash.reports.dashboard",
    "giftcash.service.customers": "giftcash.identity.customers",
    "giftcash.service.health": "giftcash.ops.health",
    "giftcash.service.keys": "giftcash.ops.keys",
    "giftcash.service.operators": "giftcash.identity.operators",
    "giftcash.service.ops": "giftcash.payouts.operations",
    "giftcash.service.payouts": "giftcash.payouts.reads",
    "giftcash.service.pipeline": "giftcash.redemption.steps",
    "giftcash.service.quoting": "giftcash.intake.quoting",
    "giftcash.service.receipts": "giftcash.payouts.receipts",
    "giftcash.service.reconcile": "giftcash.reconcile.matching",
    "giftcash.service.reports": "giftcash.reports.volume",
    "giftcash.service.screening": "giftcash.intake.screening",
    "giftcash.service.secrets": "giftcash.identity.secrets",
    "giftcash.service.sessions": "giftcash.identity.sessions",
    "giftcash.service.submissions": "giftcash.intake.submissions",
    "giftcash.service.webhooks": "giftcash.webhooks.delivery",
}

# module (new name) -> {name that left it in a later split: its new module, or
# "module:new_name" when it was renamed}. A ``from`` import of such a name is rewritten
# (a renamed one imported under its old name); ``module.name`` in code is reported, to
# edit by hand.
SPLIT: dict[str, dict[str, str]] = {
    "giftcash.reconcile.matching": {
        **dict.fromkeys(
            ("StatementInvalid", "StatementLine", "SettlementLine", "DIRECTIONS"),
            "giftcash.reconcile.lines",
        ),
        "parse_statement": "giftcash.adapters.banks.statements",
        "parse_settlement": "giftcash.adapters.issuers.settlements",
    },
    "giftcash.payouts.operations": {
        "ItemNotFound": "giftcash.ops.support",
        "ItemView": "giftcash.ops.support",
        "show_item": "giftcash.ops.support",
        "_public_payout": "giftcash.payouts.operations:public_payout",
    },
    "giftcash.reports.dashboard": {
        **dict.fromkeys(
            ("ReviewCase", "review_cases", "recent_decisions"), "giftcash.review.queue"
        ),
        **dict.fromkeys(
            (
                "CustomerNotFound",
                "CustomerSummary",
                "CustomerRecord",
                "Limits",
                "find_customers",
                "customer_record",
                "ITEM_TERMINAL",
                "MIN_PHONE_DIGITS",
                "MAX_RESULTS",
                "CUSTOMER_ITEMS",
                "CUSTOMER_PAYOUTS",
            ),
            "giftcash.identity.customer_lookup",
        ),
    },
    "giftcash.catalogue.overrides": {
        **dict.fromkeys(
            (
                "REVIEW_DECLINE_CODE",
                "REVIEW_DECLINE_MESSAGE",
                "MAX_REASON",
                "ItemNotFound",
                "ReviewEntry",
                "age_band",
                "review_queue",
                "send_to_review",
                "approve",
                "decline",
            ),
            "giftcash.review.queue",
        ),
        "_audited": "giftcash.audit.changes:audited",
        "AuditPage": "giftcash.audit.pages",
        "audit_page": "giftcash.audit.pages",
        "PayoutDetail": "giftcash.payouts.reads",
        "PAYOUT_STATUSES": "giftcash.payouts.reads",
        "list_payouts": "giftcash.payouts.reads:all_payouts",
        "get_payout": "giftcash.payouts.reads:payout_detail",
    },
    "giftcash.redemption.steps": {
        **dict.fromkeys(
            (
                "PayoutClaim",
                "PayoutOutcome",
                "create_payouts",
                "claim_payouts",
                "send_payout",
                "record_sends",
                "check_payout",
                "record_checks",
            ),
            "giftcash.payouts.sending",
        ),
        "backoff": "giftcash.service.backoff",
        "settle_verifications": "giftcash.identity.bank_accounts",
        "heartbeat": "giftcash.ops.health",
    },
}

FROM = re.compile(
    r"^(?P<indent>[ \t]*)from[ \t]+(?P<module>[\w.]+)[ \t]+import[ \t]+"
    r"(?P<names>\([^)]*\)|[^\n#]*(?:\\\n[^\n#]*)*)",
    re.MULTILINE,
)


def _names(text: str) -> list[tuple[str, str | None]]:
    text = text.strip().strip("()").replace("\\\n", " ")
    out = []
    for part in text.split(","):
        part = part.split("#", 1)[0].strip()
        if not part:
            continue
        name, _, alias = part.partition(" as ")
        out.append((name.strip(), alias.strip() or None))
    return out


def _line(indent: str, module: str, names: list[tuple[str, str | None]]) -> str:
    listed = ", ".join(f"{n} as {a}" if a else n for n, a in names)
    return f"{indent}from {module} import {listed}"


def _rewrite(match: re.Match[str]) -> str:
    indent, module, raw = match["indent"], match["module"], match["names"]
    names = _names(raw)
    moved = _moved_module(module)
    if moved is not None:
        return _split(indent, moved, names)
    lines = []
    kept = []
    for name, alias in names:
        target = MOVES.get(f"{module}.{name}")
        if target is None:
            kept.append((name, alias))
            continue
        package, _, base = target.rpartition(".")
        as_name = alias or name
        lines.append(_line(indent, package, [(base, None if base == as_name else as_name)]))
    if not lines:
        return match[0]
    if kept:
        lines.insert(0, _line(indent, module, kept))
    return "\n".join(lines)


def _split(indent: str, module: str, names: list[tuple[str, str | None]]) -> str:
    """``from module import names``, each name from where it went in a split."""
    homes: dict[str, list[tuple[str, str | None]]] = {}
    for name, alias in names:
        home, _, new_name = SPLIT.get(module, {}).get(name, module).partition(":")
        if new_name:
            name, alias = new_name, alias or name
        homes.setdefault(home, []).append((name, alias))
    return "\n".join(_line(indent, home, listed) for home, listed in homes.items())


def _moved_module(module: str) -> str | None:
    for old, new in MOVES.items():
        if module == old or module.startswith(old + "."):
            return new + module[len(old) :]
    return None


def _aliases(text: str, module: str) -> set[str]:
    """The names ``module`` goes by in ``text`` (``from pkg import mod [as alias]``)."""
    package, _, base = module.rpartition(".")
    found = re.findall(rf"from {re.escape(package)} import {base}(?: as (\w+))?", text)
    return {alias or base for alias in found}


def rewrite(text: str) -> str:
    return FROM.sub(_rewrite, text)


def main(roots: list[str]) -> int:
    changed = 0
    for root in roots:
        for path in sorted(Path(root).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            new = rewrite(text)
            if new != text:
                path.write_text(new, encoding="utf-8")
                changed += 1
            for module, names in SPLIT.items():
                aliases = _aliases(new, module)
                for name, home in names.items():
                    for short in aliases:
                        if re.search(rf"\b{short}\.{name}\b", new):
                            print(f"{path}: {short}.{name} is now {home}.{name}")
    print(f"{changed} files rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["src", "tests", "bench"]))

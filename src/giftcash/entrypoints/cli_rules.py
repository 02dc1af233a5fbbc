"""``giftcash rules list|set``: the rule set from the command line, through the same use
case as ``PATCH /v1/admin/rules/{id}`` (statutory rules refuse, and the attempt is
audited with the shell user as the actor)."""

from __future__ import annotations

import getpass
import json

import typer
from rich.markup import escape
from rich.table import Table

from giftcash.domain.errors import DomainError
from giftcash.entrypoints.cli import _DATABASE_URL_HELP, app, console, current_settings, fail

rules_app = typer.Typer(
    help="Policy rules: list them, switch or tighten them.", no_args_is_help=True
)
app.add_typer(rules_app, name="rules")


def _deps(database_url: str | None):
    from giftcash.bootstrap import build_deps

    return build_deps(current_settings(database_url))


@rules_app.command("list")
def rules_list(
    database_url: str | None = typer.Option(None, "--database-url", help=_DATABASE_URL_HELP),
) -> None:
    """Every rule: statutory or not, on or off, its description."""
    from giftcash.service import admin

    try:
        settings = admin.list_rules(_deps(database_url))
    except DomainError as e:
        raise fail(e) from None
    table = Table(title="Rules")
    for col in ("id", "statutory", "enabled", "description"):
        table.add_column(col)
    for r in settings:
        table.add_row(
            r.id, "yes" if r.statutory else "", "on" if r.enabled else "off", escape(r.description)
        )
    console.print(table)


@rules_app.command("set")
def rules_set(
    rule_id: str = typer.Argument(...),
    enabled: bool | None = typer.Option(None, "--enabled/--disabled", help="Switch it."),
    params: str | None = typer.Option(None, "--params", help="JSON, e.g. '{\"x\": 1}'"),
    database_url: str | None = typer.Option(None, "--database-url", help=_DATABASE_URL_HELP),
) -> None:
    """Switch a rule or change its thresholds (statutory rules refuse: exit 5)."""
    from giftcash.service import admin
    from giftcash.service.operators import Operator

    try:
        parsed = json.loads(params) if params else None
    except ValueError:
        console.print("--params must be a JSON object")
        raise typer.Exit(2) from None
    user = getpass.getuser()
    op = Operator(id=f"cli:{user}", username=f"cli-{user}", role="admin")
    try:
        r = admin.patch_rule(_deps(database_url), op, rule_id, enabled=enabled, params=parsed)
    except DomainError as e:
        raise fail(e) from None
    console.print(f"rule {escape(r.id)} is {'on' if r.enabled else 'off'}")

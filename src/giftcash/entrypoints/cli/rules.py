"""``giftcash rules list|set``: the rule set from the command line, through the same use
case as ``PATCH /v1/admin/rules/{id}`` (statutory rules refuse, and the attempt is
audited with the shell user as the actor)."""

from __future__ import annotations

import json

import typer
from rich.markup import escape
from rich.table import Table

from giftcash.entrypoints.cli.common import App, DatabaseUrl, cli_operator, console, deps_for

rules_app = App(help="Policy rules: list them, switch or tighten them.", no_args_is_help=True)


@rules_app.command("list")
def rules_list(database_url: str | None = DatabaseUrl) -> None:
    """Every rule: statutory or not, on or off, its description."""
    from giftcash.catalogue import overrides

    table = Table(title="Rules")
    for col in ("id", "statutory", "enabled", "description"):
        table.add_column(col)
    for r in overrides.list_rules(deps_for(database_url)):
        table.add_row(
            r.id, "yes" if r.statutory else "", "on" if r.enabled else "off", escape(r.description)
        )
    console.print(table)


@rules_app.command("set")
def rules_set(
    rule_id: str = typer.Argument(...),
    enabled: bool | None = typer.Option(None, "--enabled/--disabled", help="Switch it."),
    params: str | None = typer.Option(None, "--params", help="JSON, e.g. '{\"x\": 1}'"),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Switch a rule or change its thresholds (statutory rules refuse: exit 5)."""
    from giftcash.catalogue import overrides

    try:
        parsed = json.loads(params) if params else None
    except ValueError:
        console.print("--params must be a JSON object")
        raise typer.Exit(2) from None
    r = overrides.patch_rule(
        deps_for(database_url), cli_operator(), rule_id, enabled=enabled, params=parsed
    )
    console.print(f"rule {escape(r.id)} is {'on' if r.enabled else 'off'}")

"""``giftcash payouts inquire|retry`` and ``giftcash items show``: one payout or one item,
as the bank and our books see it."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from giftcash.entrypoints.cli.common import App, DatabaseUrl, actor, console, deps_for
from giftcash.entrypoints.cli.output import JsonOut, cell, detail, print_json, text

payouts_app = App(help="One payout: ask the bank about it, send it again now.")
items_app = App(help="One item with its history.")


@payouts_app.command("inquire")
def payouts_inquire(
    payout_id: str = typer.Argument(...),
    as_json: bool = JsonOut,
    database_url: str | None = DatabaseUrl,
) -> None:
    """Ask the bank what happened to a payout; changes nothing. Exit 1 if the bank and
    our books disagree."""
    from giftcash.payouts import operations as ops

    r = ops.inquire_payout(deps_for(database_url), payout_id)
    if as_json:
        print_json(
            {
                "payout": r.payout,
                "bank_outcome": r.bank_outcome,
                "bank_amount": r.bank_amount,
                "agrees": r.agrees,
                "advice": r.advice,
            }
        )
    else:
        table = Table(title=f"Payout {escape(payout_id)}", show_header=False)
        for k, v in r.payout.items():
            table.add_row(k.replace("_", " "), text(cell(v)))
        table.add_row("[bold]the bank says[/]", escape(r.bank_outcome))
        table.add_row("bank amount", cell(r.bank_amount))
        table.add_row("agrees", "[green]yes[/]" if r.agrees else "[red]no[/]")
        console.print(table)
        console.print(escape(r.advice))
    raise typer.Exit(0 if r.agrees else 1)


@payouts_app.command("retry")
def payouts_retry(
    payout_id: str = typer.Argument(...), database_url: str | None = DatabaseUrl
) -> None:
    """Make a waiting payout (pending, sending, unknown, sent) due now: the next worker
    pass inquires about it by its bank_tran_id and goes on; never a second transfer."""
    from giftcash.payouts import operations as ops

    p = ops.retry_payout(deps_for(database_url), payout_id, actor=actor())
    console.print(
        f"payout {escape(payout_id)} ({p['status']}, {p['amount']:,} {p['currency']}) is due "
        "now: the next worker pass takes it"
    )


@items_app.command("show")
def items_show(
    item_id: str = typer.Argument(...),
    as_json: bool = JsonOut,
    database_url: str | None = DatabaseUrl,
) -> None:
    """One item: its facts (the code masked), its history, its payout, its ledger entries."""
    from giftcash.ops import support

    v = support.show_item(deps_for(database_url), item_id)
    if as_json:
        print_json(
            {"item": v.item, "events": v.events, "payout": v.payout, "transfers": v.transfers}
        )
        return
    table = Table(title=f"Item {escape(item_id)}", show_header=False)
    item = dict(v.item)
    decision = item.pop("decision", None) or {}
    if decision:
        item["decision"] = " ".join(
            str(decision[k]) for k in ("outcome", "code", "rule_id") if decision.get(k)
        )
    for k, val in item.items():
        if val is not None and k not in ("id",):
            table.add_row(k.replace("_", " "), text(cell(val)))
    console.print(table)
    detail("History", v.events, ("at", "from_status", "to_status", "detail"))
    if v.payout:
        console.print(f"payout {escape(v.payout['id'])}")
        detail("Payout", [v.payout], ("bank_tran_id", "status", "amount", "attempts"))
    detail("Ledger", v.transfers, ("seq", "kind", "account", "amount"))

"""The ``giftcash`` command (Typer + Rich): the root app, which imports every command
module and adds its commands; commands are thin (parse, call one service function,
render) and their operating errors become exit statuses in ``common.maps_errors``."""

from __future__ import annotations

import typer

from giftcash import __version__
from giftcash.entrypoints.cli import (
    audit,
    books,
    cases,
    catalogue,
    evidence,
    keys,
    operators,
    payouts,
    privacy,
    reconcile,
    reports,
    rules,
    running,
    selftest,
    stops,
)
from giftcash.entrypoints.cli.common import App, console

app = App(help="giftcash: vouchers in, cash to your own bank account out.", no_args_is_help=True)


def _version(value: bool) -> None:
    if value:
        console.print(f"giftcash {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """giftcash command line."""


app.add_typer(catalogue.brands_app, name="brands")
app.command()(catalogue.quote)
app.add_typer(books.db_app, name="db")
app.add_typer(books.ledger_app, name="ledger")
app.add_typer(operators.admin_app, name="admin")
app.add_typer(audit.audit_app, name="audit")
app.add_typer(cases.cases_app, name="cases")
app.add_typer(stops.stops_app, name="stops")
app.add_typer(reconcile.reconcile_app, name="reconcile", no_args_is_help=True)
app.add_typer(reports.reports_app, name="reports", no_args_is_help=True)
app.add_typer(keys.keys_app, name="keys", no_args_is_help=True)
app.add_typer(payouts.payouts_app, name="payouts", no_args_is_help=True)
app.add_typer(payouts.items_app, name="items", no_args_is_help=True)
app.add_typer(rules.rules_app, name="rules")
app.add_typer(evidence.evidence_app, name="evidence", no_args_is_help=True)
app.add_typer(evidence.bank_hours_app, name="bank-hours", no_args_is_help=True)
app.add_typer(privacy.privacy_app, name="privacy", no_args_is_help=True)
for _command in (running.demo, running.serve, running.worker, running.simulator):
    app.command()(_command)
app.command()(selftest.selftest)


def run() -> None:
    """The console script. An operating error (a database that is not durable, say) ends
    as one line and its exit status, not a traceback: every command is wrapped in
    ``common.maps_errors``."""
    app()

"""``giftcash admin create-operator``: an operator of the admin API and console."""

from __future__ import annotations

import sys

import typer
from rich.markup import escape

from giftcash.entrypoints.cli.common import App, DatabaseUrl, actor, console, settings_for

admin_app = App(help="Operators of the admin API.", no_args_is_help=True)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@admin_app.command("create-operator")
def create_operator(
    username: str = typer.Argument(..., help="3-64 lower-case letters, digits, . _ -"),
    role: str = typer.Option(..., "--role", help="reviewer | finance | admin | stop_requester"),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from the first line of stdin."
    ),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Create an operator; prints the TOTP secret and its otpauth:// URI once."""
    from giftcash.adapters.db.migrate import require_current_schema
    from giftcash.bootstrap import build_deps
    from giftcash.identity import operators

    s = settings_for(database_url)
    password = _read_password(password_stdin)
    secret = operators.new_totp_secret()
    require_current_schema(s.resolved_database_url)
    operator_id = operators.create_operator(
        build_deps(s),
        username=username,
        password=password,
        role=role,
        totp_secret=secret,
        actor=actor(),
    )
    # Plain lines, never wrapped, so the secret and the URI can be copied or scripted.
    console.print(f"operator {escape(username)} ({escape(role)}) created: {operator_id}")
    console.print(f"TOTP secret: {secret}", soft_wrap=True)
    uri = operators.provisioning_uri(secret, username)
    console.print(f"otpauth URI: {escape(uri)}", soft_wrap=True, highlight=False)
    console.print("Add the secret to an authenticator app now: it is not shown again.")


@admin_app.command("api-key")
def api_key(
    username: str = typer.Argument(..., help="an operator of the stop_requester role"),
    days: int = typer.Option(365, "--days", help="How long the key lasts (1-400 days)."),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Issue an API key (a bearer token) for a partner bank's or an investigator's system
    filing payment stops at /v1/payment-stops; printed once."""
    from giftcash.adapters.db.migrate import require_current_schema
    from giftcash.bootstrap import build_deps
    from giftcash.identity import operators

    s = settings_for(database_url)
    require_current_schema(s.resolved_database_url)
    key = operators.issue_api_key(build_deps(s), username=username, days=days, actor=actor())
    console.print(f"API key for {escape(username)}: {key}", soft_wrap=True, highlight=False)
    console.print("Hand it over now: it is not shown again (Authorization: Bearer <key>).")

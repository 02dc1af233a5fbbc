"""``giftcash admin create-operator`` and ``giftcash audit verify``."""

from __future__ import annotations

import getpass
import sys

import typer
from rich.markup import escape
from rich.table import Table

from giftcash.domain.errors import DomainError
from giftcash.entrypoints.cli import (
    _DATABASE_URL_HELP,
    _settings,
    app,
    console,
    current_settings,
    err_console,
    fail,
)

admin_app = typer.Typer(help="Operators of the admin API.", no_args_is_help=True)
app.add_typer(admin_app, name="admin")
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@admin_app.command("create-operator")
def create_operator(
    username: str = typer.Argument(..., help="3-64 lower-case letters, digits, . _ -"),
    role: str = typer.Option(..., "--role", help="reviewer | finance | admin"),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from the first line of stdin."
    ),
    database_url: str | None = typer.Option(None, "--database-url", help=_DATABASE_URL_HELP),
) -> None:
    """Create an operator; prints the TOTP secret and its otpauth:// URI once."""
    from giftcash.adapters.db.migrate import require_current_schema
    from giftcash.bootstrap import build_deps
    from giftcash.service import operators

    settings = _settings(database_url)
    password = _read_password(password_stdin)
    secret = operators.new_totp_secret()
    try:
        require_current_schema(settings.resolved_database_url)
        deps = build_deps(settings)
        operator_id = operators.create_operator(
            deps,
            username=username,
            password=password,
            role=role,
            totp_secret=secret,
            actor=f"cli:{getpass.getuser()}",
        )
    except DomainError as e:
        raise fail(e) from None
    # Plain lines, never wrapped, so the secret and the URI can be copied or scripted.
    console.print(f"operator {escape(username)} ({escape(role)}) created: {operator_id}")
    console.print(f"TOTP secret: {secret}", soft_wrap=True)
    uri = operators.provisioning_uri(secret, username)
    console.print(f"otpauth URI: {escape(uri)}", soft_wrap=True, highlight=False)
    console.print("Add the secret to an authenticator app now: it is not shown again.")


@audit_app.command("verify")
def audit_verify(
    database_url: str | None = typer.Option(None, "--database-url", help=_DATABASE_URL_HELP),
) -> None:
    """Check the audit log's hash chain; exit 1 and list the broken records if it fails."""
    from giftcash.adapters.db.app_uow import AppUnitOfWork
    from giftcash.bootstrap import make_engine_from_settings
    from giftcash.service import audit

    engine = make_engine_from_settings(current_settings(database_url))
    try:
        with AppUnitOfWork(engine, read_only=True) as uow:
            problems = audit.verify(uow)
            head_seq, head_hash = uow.audit.head()
    finally:
        engine.dispose()
    if not problems:
        console.print(f"[bold green]audit log ok[/]: {head_seq:,} records, head {head_hash[:16]}…")
        return
    table = Table(title=f"Audit log broken ({len(problems)} problems)")
    for col in ("seq", "problem", "message"):
        table.add_column(col)
    for p in problems:
        table.add_row(str(p.seq), escape(p.rule), escape(p.message))
    err_console.print(table)
    raise typer.Exit(1)

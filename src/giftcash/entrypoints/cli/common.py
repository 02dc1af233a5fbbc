"""What every command of the ``giftcash`` CLI shares: the consoles, the settings and
dependencies of a command, progress bars, and the one place an operating error
(``DomainError``) becomes a line on stderr and an exit status.

The command modules import this one; none of them imports the root (``app.py``) or
another command module.
"""

from __future__ import annotations

import functools
import getpass
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from giftcash.domain.errors import DomainError

if TYPE_CHECKING:
    from giftcash.config import Settings
    from giftcash.identity.operators import Operator
    from giftcash.service.deps import Deps

console = Console()
err_console = Console(stderr=True)

# Exit statuses by the error's kind; ``exit_status`` is the only reader.
EXIT_BY_KIND = {
    "invalid": 2,
    "not_found": 3,
    "conflict": 4,
    "forbidden": 5,
    "unauthorized": 5,
    "rate_limited": 6,
    "unavailable": 7,
}

P = ParamSpec("P")
R = TypeVar("R")


def exit_status(error: DomainError) -> int:
    return EXIT_BY_KIND.get(error.kind, 1)


def maps_errors(command: Callable[P, R]) -> Callable[P, R]:
    """The command, with any ``DomainError`` it raises ended as one line
    (``error [code] message``) and the exit status of the error's kind."""

    @functools.wraps(command)
    def mapped(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except DomainError as e:
            err_console.print(f"[bold red]error[/] {escape(f'[{e.code}]')} {escape(e.message)}")
            raise typer.Exit(exit_status(e)) from None

    return mapped


class App(typer.Typer):
    """A Typer app whose every command is wrapped in ``maps_errors``: no command maps an
    error itself, and none can forget to."""

    def command(self, *args: Any, **kwargs: Any) -> Callable[[Callable[P, R]], Callable[P, R]]:
        register = super().command(*args, **kwargs)

        def decorator(f: Callable[P, R]) -> Callable[P, R]:
            register(maps_errors(f))
            return f

        return decorator


def usage_error(message: str) -> typer.Exit:
    """A bad option value that Typer cannot check by itself: one line, exit 2."""
    err_console.print(f"[bold red]error[/] {message}")
    return typer.Exit(2)


# -- settings and dependencies -----------------------------------------------------------------

DATABASE_URL_HELP = (
    "SQLAlchemy URL; default GIFTCASH_DATABASE_URL, else an SQLite file in GIFTCASH_DATA_DIR."
)
DatabaseUrl = typer.Option(None, "--database-url", help=DATABASE_URL_HELP)


def settings_for(database_url: str | None = None, **overrides: object) -> Settings:
    """``GIFTCASH_*`` settings, with the command line's options over them."""
    from giftcash.config import load_settings

    if database_url:
        overrides["database_url"] = database_url
    return load_settings(**{k: v for k, v in overrides.items() if v is not None})


def current_settings(database_url: str | None) -> Settings:
    """Settings whose database is at the head revision (``schema_outdated`` if not)."""
    from giftcash.adapters.db.migrate import require_current_schema

    s = settings_for(database_url)
    require_current_schema(s.resolved_database_url)
    return s


def deps_for(database_url: str | None) -> Deps:
    """The use cases' dependencies, once the schema is known to be current."""
    from giftcash.bootstrap import build_deps

    return build_deps(current_settings(database_url))


def actor() -> str:
    """Who the audit log names for a command typed at a shell."""
    return f"cli:{getpass.getuser()}"


def cli_operator() -> Operator:
    """The shell user as an admin operator, for use cases that take one."""
    from giftcash.identity.operators import Operator

    user = getpass.getuser()
    return Operator(id=f"cli:{user}", username=f"cli-{user}", role="admin")


def progress() -> Progress:
    """A bar on stderr, shown on a terminal only, gone when done."""
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )

"""``giftcash keys status|new|rotate``: the master keys that encrypt stored codes and
secrets."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from giftcash.entrypoints.cli.common import (
    App,
    DatabaseUrl,
    console,
    deps_for,
    err_console,
    progress,
    settings_for,
)
from giftcash.entrypoints.cli.output import JsonOut, print_json

keys_app = App(help="The master keys that encrypt stored codes and secrets.")


@keys_app.command("status")
def keys_status(as_json: bool = JsonOut, database_url: str | None = DatabaseUrl) -> None:
    """The key ring, the pinned hash key (checked on stored rows) and rows per key."""
    from giftcash.ops import keys

    deps = deps_for(database_url)
    st = keys.status(deps)
    checked = keys.check_hashes(deps)
    if as_json:
        print_json({**st.as_dict(), "hashes_checked": checked})
        return
    console.print(f"current key: {st.current}   hash key (pinned): {st.hmac_key_id}")
    console.print(f"keys in the ring: {', '.join(st.key_ids)}")
    table = Table(title="Encrypted rows per key")
    for col in ("table", "key", "rows"):
        table.add_column(col)
    for name, by_key in st.rows.items():
        for key_id, n in sorted(by_key.items()):
            mark = " (current)" if key_id == st.current else ""
            table.add_row(name, key_id + mark, f"{n:,}")
    console.print(table)
    console.print(f"stored hashes checked against the pinned key: {checked} ok")


@keys_app.command("new")
def keys_new() -> None:
    """Print a fresh master key (base64) and its id, for GIFTCASH_SECRET_KEY."""
    import base64
    import secrets

    from giftcash.adapters.crypto.vault import MASTER_KEY_BYTES, key_id_for

    key = secrets.token_bytes(MASTER_KEY_BYTES)
    err_console.print(f"key id {key_id_for(key)}; store the key below in your secret store")
    sys.stdout.write(base64.b64encode(key).decode() + "\n")


@keys_app.command("rotate")
def keys_rotate(
    batch: int = typer.Option(200, min=1, max=10_000, help="Rows per transaction."),
    finish: bool = typer.Option(
        False, "--finish", help="Make no new key: move what is left under older keys."
    ),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Re-encrypt every stored code, PIN, account number, TOTP and webhook secret under
    the current key, in batches, while the service runs.

    With the key file (no GIFTCASH_SECRET_KEY) a new key is made current in it first and
    running processes pick it up (--finish later moves rows they wrote meanwhile under the
    old key); with keys from the environment, set the new key as
    GIFTCASH_SECRET_KEY and the old ones in GIFTCASH_DECRYPT_KEYS (docs/deploy.md)."""
    from giftcash.adapters.crypto.vault import KEY_FILE_NAME, add_key_to_file
    from giftcash.ops import keys

    settings = settings_for(database_url)
    deps = deps_for(database_url)
    keys.check_hashes(deps)  # before anything is written
    before = keys.status(deps)
    if not settings.secret_key and not finish:
        ring = add_key_to_file(Path(settings.data_dir) / KEY_FILE_NAME)
        deps = deps_for(database_url)
        console.print(
            f"new key {ring.current} is current in {escape(str(settings.data_dir))}/"
            f"{KEY_FILE_NAME}; {len(ring.key_ids) - 1} older key(s) still decrypt"
        )
    elif before.not_current == 0:
        hint = (
            ""
            if finish or not settings.secret_key
            else ": to rotate, make a new key current (GIFTCASH_SECRET_KEY), keep the old "
            "in GIFTCASH_DECRYPT_KEYS, run again"
        )
        console.print(f"every row is already under {before.current}{hint}")
        return
    total = keys.status(deps).not_current
    with progress() as bar:
        task = bar.add_task("re-encrypting rows", total=total)
        result = keys.reencrypt(deps, batch=batch, progress=lambda _t, n: bar.advance(task, n))
    keys.check_hashes(deps)
    table = Table(title=f"Re-encrypted under {result.current}")
    table.add_column("table")
    table.add_column("rows")
    for name, n in sorted(result.rewritten.items()):
        table.add_row(name, f"{n:,}")
    console.print(table)
    if result.remaining:
        console.print(
            f"[yellow]{result.remaining:,} rows are still under an older key[/] (written by a "
            "process that has not seen the new key yet): run again later; old keys decrypt"
        )
        raise typer.Exit(1)
    console.print("[bold green]every row is under the current key[/]; hashes unchanged")

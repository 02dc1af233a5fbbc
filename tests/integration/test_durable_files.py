"""Files the money depends on (the key ring, demo.json, exports, backups) are synced
before their rename and their folder after it, so a power cut leaves the old file or the
whole new one. The syncs are observed by wrapping os.fsync and naming what each fd is."""

from __future__ import annotations

import base64
import os
import stat
import subprocess
from pathlib import Path

import pytest

from giftcash.adapters import files
from giftcash.adapters.crypto import vault


@pytest.fixture
def synced(monkeypatch):
    """Every path os.fsync is called on, in order, with what it held at that moment."""
    seen: list[tuple[str, str | None]] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        path = os.readlink(f"/proc/self/fd/{fd}")
        body = None if os.path.isdir(path) else Path(path).read_text(errors="replace")
        seen.append((path, body))
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return seen


def test_write_durably_syncs_the_data_then_the_folder(tmp_path, synced):
    target = tmp_path / "demo.json"
    target.write_text("old")
    files.write_durably(target, '{"new": true}\n')
    assert target.read_text() == '{"new": true}\n'
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    (data_path, data_body), (folder, _) = synced
    assert data_body == '{"new": true}\n' and data_path != str(target)  # before the rename
    assert folder == str(tmp_path)  # after it
    assert [p.name for p in tmp_path.iterdir()] == ["demo.json"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "export.beancount"
    target.write_text("old books\n")
    with pytest.raises(RuntimeError):
        with files.durable_writer(target) as out:
            out.write("half of the new")
            raise RuntimeError("the export failed midway")
    assert target.read_text() == "old books\n"
    assert [p.name for p in tmp_path.iterdir()] == ["export.beancount"]


def test_the_key_ring_is_created_and_rotated_durably(tmp_path, synced):
    key_file = tmp_path / "secret.key"
    first = vault.load_or_create_key_file(key_file)
    assert synced[-1][0] == str(tmp_path)  # the new link's folder, after the key's data
    created = [body for path, body in synced if body]
    assert created and created[0].strip().encode() == key_file.read_bytes().strip()
    assert base64.b64decode(created[0].strip()) == first
    synced.clear()
    vault.add_key_to_file(key_file)
    ring_syncs = [(p, b) for p, b in synced if b is not None and "giftcash master keys" in b]
    assert ring_syncs, synced
    assert synced[-1][0] == str(tmp_path)
    assert ring_syncs[-1][1] == key_file.read_text()


def test_backup_script_publishes_a_whole_file(tmp_path):
    """backup.sh writes beside the name and renames: no temporary is left behind, and the
    backup is a valid SQLite file of the live one."""
    import sqlite3

    live = tmp_path / "var" / "giftcash.db"
    live.parent.mkdir()
    with sqlite3.connect(live) as db:
        db.execute("CREATE TABLE t (x INTEGER)")
        db.execute("INSERT INTO t VALUES (42)")
    out = tmp_path / "backups" / "giftcash.db"
    out.parent.mkdir()
    script = Path(__file__).resolve().parents[2] / "deploy" / "backup.sh"
    env = {**os.environ, "GIFTCASH_DATA_DIR": str(live.parent)}
    env.pop("GIFTCASH_DATABASE_URL", None)
    subprocess.run(["bash", str(script), "backup", str(out)], check=True, env=env)
    assert [p.name for p in out.parent.iterdir()] == ["giftcash.db"]
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    with sqlite3.connect(out) as db:
        assert db.execute("SELECT x FROM t").fetchall() == [(42,)]

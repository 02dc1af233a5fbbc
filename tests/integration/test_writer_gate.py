"""SQLite writers queue at the WriterGate (a thread lock and an flock beside the file)
instead of sleeping in SQLite's busy handler; the turn is given back after every commit,
rollback or close, and readers never take it."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from giftcash.adapters.db.engine import SQLITE_BEGIN_OPTION, make_engine, writer_gate


def _engine(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'g.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE n (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)"))
        conn.execute(text("INSERT INTO n (id, v) VALUES (1, 0)"))
    return engine


def test_many_threads_write_in_turn_and_lose_nothing(tmp_path):
    engine = _engine(tmp_path)
    gate = writer_gate(engine)
    errors: list[BaseException] = []

    def bump(k: int) -> None:
        try:
            for _ in range(k):
                with engine.begin() as conn:  # read-modify-write: lost updates if not one at a time
                    v = conn.execute(text("SELECT v FROM n WHERE id = 1")).scalar_one()
                    conn.execute(text("UPDATE n SET v = :v WHERE id = 1"), {"v": v + 1})
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=bump, args=(40,)) for _ in range(12)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT v FROM n")).scalar_one() == 12 * 40
    assert gate is not None and gate.holder is None


def test_the_turn_is_given_back_on_rollback_and_close_and_readers_never_take_it(tmp_path):
    engine = _engine(tmp_path)
    gate = writer_gate(engine)
    assert gate is not None
    conn = engine.connect()
    conn.execute(text("UPDATE n SET v = 5"))
    assert gate.holder is not None  # a write transaction holds the turn
    conn.rollback()
    assert gate.holder is None
    conn.execute(text("UPDATE n SET v = 6"))
    assert gate.holder is not None
    conn.close()  # back to the pool without a commit: rolled back, turn given back
    assert gate.holder is None
    with engine.connect() as reader:
        reader.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"})
        assert reader.execute(text("SELECT v FROM n")).scalar_one() == 0
        assert gate.holder is None
        with engine.begin() as writer:  # a writer goes on while the reader is open
            writer.execute(text("UPDATE n SET v = 7"))
    assert gate.holder is None


CHILD = """
import sys
from sqlalchemy import text
from giftcash.adapters.db.engine import make_engine
engine = make_engine(sys.argv[1])
for _ in range(int(sys.argv[2])):
    with engine.begin() as conn:
        v = conn.execute(text("SELECT v FROM n WHERE id = 1")).scalar_one()
        conn.execute(text("UPDATE n SET v = :v WHERE id = 1"), {"v": v + 1})
"""


@pytest.mark.slow  # over 2 s on the loaded 2-core machine
def test_processes_take_turns_through_the_file_lock(tmp_path):
    engine = _engine(tmp_path)
    url = str(engine.url)
    procs = [
        subprocess.Popen([sys.executable, "-c", CHILD, url, "150"], stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT v FROM n")).scalar_one() == 450
    assert (tmp_path / "g.db-writer").exists()

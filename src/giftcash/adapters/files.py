"""Files that survive a power cut: written whole or not at all, and on disk when the call
returns. A rename alone is atomic against a crash of the process, not of the machine: the
new file's blocks and the folder's entry may still be in the page cache. So the data is
synced before the rename, and the folder after it (POSIX leaves the entry's durability to
an fsync of the directory)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


def fsync_dir(folder: Path) -> None:
    """Make the folder's entries (a rename, a link, a new file) durable."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _temporary_beside(path: Path) -> Path:
    return path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")


@contextmanager
def durable_writer(path: Path, *, mode: int = 0o600, text: bool = True) -> Iterator[IO]:
    """Write ``path`` through the yielded file: a private temporary file beside it,
    synced, renamed over ``path`` and the folder synced, only if the block ends without
    an error (otherwise the old ``path`` stays as it was and the temporary file goes)."""
    tmp = _temporary_beside(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    os.fchmod(fd, mode)  # whatever the umask
    try:
        with os.fdopen(fd, "w" if text else "wb", **({"encoding": "utf-8"} if text else {})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def write_durably(path: Path, data: bytes | str, *, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data``, durably (see :func:`durable_writer`)."""
    with durable_writer(path, mode=mode, text=isinstance(data, str)) as f:
        f.write(data)


def create_durably(path: Path, data: bytes, *, mode: int = 0o600) -> bool:
    """Create ``path`` with ``data`` unless it exists (two processes racing agree on the
    first one's file): a synced temporary file hard-linked into place, the folder synced.
    True if this call created it."""
    tmp = _temporary_beside(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(fd, mode)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)
        created = True
    except FileExistsError:
        created = False  # another process won the race: its file stands
    finally:
        tmp.unlink()
    fsync_dir(path.parent)
    return created

"""Files written so that a crash never leaves them torn."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

__all__ = ["atomic_write", "sync_folder"]


def atomic_write(path: Path, data: str | bytes) -> None:
    """Replace the file at ``path`` with ``data`` so that no crash can leave it torn.

    The data goes to a temporary file in the same folder, is flushed to the disk, and
    then renamed over ``path`` (a rename within a folder is atomic): a reader sees the
    old file or the new one, never a mix. The temporary file is removed on failure.
    Text is written as UTF-8. The folder is made if it does not exist.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        with temporary.open("xb") as file:
            file.write(payload)
            file.flush()
            os.fsync(file.fileno())
        temporary.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    sync_folder(path.parent)


def sync_folder(folder: Path) -> None:
    """Make the renames and removals in ``folder`` durable (where the system allows it).

    On POSIX a rename reaches the disk when its folder is flushed; Windows has no way
    to flush a folder, so there this does nothing.
    """
    if os.name != "posix":  # pragma: no cover - POSIX is what CI runs
        return
    with contextlib.suppress(OSError):
        handle = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)

"""Atomic outputs and free space: temp file + rename, a clear error on a full disk."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from crmclean.errors import SourceError

# ---------------------------------------------------------------- atomic outputs, free space (issue 17, item 6)
# Every file crmclean writes appears whole or not at all: a temp file in the same folder (created 0600 by
# mkstemp: outputs hold personal data), fsynced, then renamed over the target. A full disk is found before
# writing when the size is known, and is a source error (exit 3) saying "disk full", never a truncated file.

_FREE_MARGIN = 1 << 20  # keep 1 MiB spare


def ensure_free_space(folder: Path, needed: int, what: str) -> None:
    """SourceError (exit 3) when ``folder``'s file system has less than ``needed`` bytes (+1 MiB) free."""
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return  # cannot tell: the write itself will say
    if free < needed + _FREE_MARGIN:
        raise SourceError(f"disk full: {what} needs {needed / 2**20:,.1f} MiB, {free / 2**20:,.1f} MiB free",
                          path=str(folder), hint="free some space and run again")


def _disk_full(exc: OSError, path: Path) -> SourceError | None:
    import errno

    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return SourceError("disk full while writing; nothing was left half-written", path=str(path),
                           hint="free some space and run again")
    return None


@contextmanager
def replaced_atomically(path: Path) -> Iterator[str]:
    """A temp file (mode 0600) beside ``path`` for the caller to write; then fsynced and renamed over ``path``.
    On any failure the temp file is removed and ``path`` is untouched; a full disk is a SourceError saying so."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield tmp
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        full = _disk_full(exc, path)
        if full:
            raise full from None
        raise
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, payload: bytes) -> None:
    """Write ``payload`` to ``path`` atomically (temp + fsync + rename), mode 0600, free space checked."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ensure_free_space(path.parent, len(payload), f"writing {path.name}")
    with replaced_atomically(path) as tmp:
        Path(tmp).write_bytes(payload)


def atomic_write_text(path: Path, text: str, encoding: str = "utf-8") -> None:
    atomic_write_bytes(path, text.encode(encoding))


def atomic_copy(src: Path, dst: Path) -> None:
    """Copy ``src`` to ``dst`` (a backup) atomically, keeping its mode and times: never a truncated copy."""
    src, dst = Path(src), Path(dst)
    ensure_free_space(dst.parent, src.stat().st_size, f"the backup {dst.name}")
    with replaced_atomically(dst) as tmp:
        shutil.copy2(src, tmp)

"""Files and folders only the gateway's own user may read, whatever the process umask.

Private keys, the SQLite store (with its WAL and shared-memory files) and the data directory
hold secrets and documents: files are made ``0600`` and folders ``0700`` at creation (and an
existing file is tightened when rewritten), never left to a umask such as ``022``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) if needed; the folder itself ends ``0700``.

    Parents created on the way get the umask's usual mode: only the named folder is the
    gateway's own.
    """
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, PRIVATE_DIR)
    return path


def write_private(path: Path, data: bytes, *, sync: bool = False) -> Path:
    """Write ``data`` to ``path`` as a ``0600`` file (created so, never readable by others
    even for an instant; an existing file is tightened first); with ``sync``, ``fsync``-ed
    before it returns. Not atomic: a crash can leave part of ``data`` (see
    :func:`replace_private`)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)
        with os.fdopen(fd, "wb", closefd=False) as handle:
            handle.write(data)
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)
    return path


def replace_private(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` as a ``0600`` file, atomically and durably: a temp file
    beside it is written and ``fsync``-ed, renamed over ``path``, and the folder ``fsync``-ed.
    After a crash or a power cut at any point, ``path`` holds its old content or ``data``,
    never a part (a temp file ``.NAME.*.part`` may be left beside it)."""
    temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.part")
    try:
        write_private(temp, data, sync=True)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    fsync_path(path.parent)
    return path


def fsync_path(path: Path) -> None:
    """``fsync`` a file or a folder by its path (a folder: a file renamed or linked into it
    stays there after a power cut)."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def create_private(path: Path, data: bytes) -> bool:
    """Create ``path`` as a ``0600`` file holding ``data``, unless it exists: ``False`` then,
    and the file is left as it is. Whole and durable like :func:`replace_private` (a temp
    file, ``fsync``-ed, then linked in place, which fails when another process made ``path``
    first): two processes creating it at once agree on one content, and a crash leaves the
    file whole or absent."""
    temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.part")
    try:
        write_private(temp, data, sync=True)
        try:
            os.link(temp, path)
        except FileExistsError:
            return False
        except OSError:  # a file system without hard links (some network shares)
            return _create_exclusive(path, data)
    finally:
        temp.unlink(missing_ok=True)
    fsync_path(path.parent)
    return True


def _create_exclusive(path: Path, data: bytes) -> bool:
    """:func:`create_private` where files cannot be linked: created exclusively, written and
    ``fsync``-ed in place (made once; a crash in between can leave it short)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return False
    try:
        os.fchmod(fd, PRIVATE_FILE)
        with os.fdopen(fd, "wb", closefd=False) as handle:
            handle.write(data)
        os.fsync(fd)
    finally:
        os.close(fd)
    fsync_path(path.parent)
    return True


def touch_private(path: Path) -> Path:
    """Make sure ``path`` exists as a ``0600`` file (content untouched)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)
    return path

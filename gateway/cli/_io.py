"""Reading inputs and writing outputs the same way in every ``lingang`` command.

* An input ``-`` is standard input; a missing file, a folder or an unreadable file is a
  :class:`UsageError` (exit 2) naming it — never a traceback.
* An output is written only when the command succeeded, and atomically (a temp file in the
  target's folder, then a rename), so a failed run leaves no file and an old file intact.
  A missing folder or a folder given as the output is a :class:`UsageError`.

Exit codes shared by the commands (see :mod:`gateway.cli`): 0 success, 1 the input was
rejected or the document has fatal findings, 2 a usage error (bad option, unreadable input,
unwritable output).
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
import tempfile
from pathlib import Path

from gateway.ingest.source import read_input

STDIN = "-"
EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A mistake in how the command was called: printed as ``lingang CMD: message``, exit 2."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def positive_int(text: str) -> int:
    """An option's whole number of at least 1 (``--jobs``, ``--limit``): 0 or a negative
    one is refused by the parser (exit 2) naming the option, never taken as the default or
    clamped to 1 without a word."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return value


def read_source(name: str | Path) -> tuple[bytes, str]:
    """The bytes of ``name`` (``-``: standard input) and a name to show for it."""
    text = str(name)
    if text == STDIN:
        return sys.stdin.buffer.read(), "<stdin>"
    path = Path(text)
    if path.is_dir():
        raise UsageError(f"{path} is a folder, not a file")
    if not path.exists():
        raise UsageError(f"{path}: no such file")
    try:
        return read_input(path), path.name
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc


def check_output(path: Path | None) -> None:
    """Refuse, before any work, an output that cannot be written (exit 2)."""
    if path is None or str(path) == STDIN:
        return
    if path.is_dir():
        raise UsageError(f"-o {path} is a folder: give a file name")
    if _is_special(path):
        if not os.access(path, os.W_OK):
            raise UsageError(f"-o {path} is not writable")
        return
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(f"-o {path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise UsageError(f"-o {path}: the folder {folder} is not writable")


def write_output(path: Path | None, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (``None`` or ``-``: standard output; a device or
    a pipe such as ``/dev/null`` is written to, not replaced)."""
    if path is None or str(path) == STDIN:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    check_output(path)
    if _is_special(path):
        with path.open("wb") as stream:
            stream.write(data)
        return
    folder = path.parent if str(path.parent) else Path(".")
    fd, temp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temp, 0o666 & ~_umask())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _is_special(path: Path) -> bool:
    """Whether ``path`` is there and is no regular file (``/dev/null``, a pipe, a terminal):
    written in place, never replaced by a file of ours."""
    try:
        return not stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current

"""``-o``: a file is written atomically; a device or a pipe is written to, never replaced."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from gateway.cli._io import UsageError, check_output, write_output


def test_a_file_is_written_whole(tmp_path: Path) -> None:
    out = tmp_path / "out.xml"
    out.write_bytes(b"old")
    write_output(out, b"<new/>")
    assert out.read_bytes() == b"<new/>"
    assert [p.name for p in tmp_path.iterdir()] == ["out.xml"]


def test_a_pipe_stays_a_pipe(tmp_path: Path) -> None:
    """What ``-o /dev/null`` or ``-o /dev/stdout`` needs: the node is written through, not
    swapped for a regular file (as root, replacing ``/dev/null`` breaks the machine)."""
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_bytes()))
    reader.start()
    write_output(pipe, b"<through/>")
    reader.join(timeout=10)
    assert received == [b"<through/>"]
    assert stat.S_ISFIFO(pipe.stat().st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["pipe"]


def test_a_device_is_checked_for_itself_not_its_folder(tmp_path: Path) -> None:
    check_output(Path(os.devnull))
    with pytest.raises(UsageError, match="is a folder"):
        check_output(tmp_path)

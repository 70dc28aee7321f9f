"""A folder delivery killed half-way leaves no ``.part`` file once the adapter starts again.

Item 8 of the hardening issue: a SIGKILL during a folder delivery left ``.part`` files forever.
The writer here is a real child process killed with SIGKILL while its temp file is open.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from adapters.base import AdapterContext
from adapters.folder.adapter import STALE_PART_SECONDS, FolderAdapter

WRITER = """
import asyncio, os, sys, time
from pathlib import Path
from adapters.base import Envelope
from adapters.folder.adapter import FolderAdapter

def stuck(fd):
    print("writing", flush=True)
    time.sleep(600)

os.fsync = stuck
adapter = FolderAdapter("local", Path(sys.argv[1]))
asyncio.run(adapter.deliver(Envelope(message_id="msg-1", body=b"<Invoice/>" * 1000)))
"""


def _killed_mid_write(folder: Path) -> list[Path]:
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(folder)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "writing"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    return sorted(folder.glob(".*.part"))


def test_a_killed_writers_part_file_is_removed_on_start(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    leftovers = _killed_mid_write(folder)
    assert len(leftovers) == 1
    FolderAdapter.from_config("local", {"path": "out"}, AdapterContext(data_dir=tmp_path))
    assert list(folder.iterdir()) == []


def test_live_and_foreign_temp_files_are_kept_until_stale(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    foreign = folder / f".somehost-elsewhere.{os.getpid()}.abc.part"
    foreign.write_bytes(b"in progress on another host")
    adapter = FolderAdapter("local", folder)
    assert adapter.remove_leftovers() == []
    old = time.time() - STALE_PART_SECONDS - 60
    os.utime(foreign, (old, old))
    assert adapter.remove_leftovers() == [foreign]

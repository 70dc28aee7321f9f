"""Private files: ``replace_private`` leaves the old content or the new, never a part."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from gateway.private_files import replace_private


class Died(BaseException):
    """Stands for the process dying in the middle of the write."""


def test_a_replaced_file_is_private_and_whole(tmp_path: Path) -> None:
    target = tmp_path / "receipt.json"
    target.write_bytes(b"old")
    replace_private(target, b'{"new": true}')
    assert target.read_bytes() == b'{"new": true}'
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["receipt.json"]


def test_a_write_that_dies_half_way_leaves_the_old_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Written in place (``O_TRUNC``), a death before the data reached the disk would leave
    an empty or cut file under the real name: a kept receipt that is no JSON."""
    target = tmp_path / "receipt.json"
    target.write_bytes(b'{"old": true}')

    def die(fd: int) -> None:
        raise Died

    monkeypatch.setattr(os, "fsync", die)
    with pytest.raises(Died):
        replace_private(target, b'{"new": true}')
    assert target.read_bytes() == b'{"old": true}'
    assert [p.name for p in tmp_path.iterdir()] == ["receipt.json"]

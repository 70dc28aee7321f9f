"""Private files: ``replace_private`` leaves the old content or the new, never a part."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from gateway.private_files import create_private, replace_private


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


@pytest.mark.parametrize("links", [True, False])
def test_a_file_is_created_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, links: bool
) -> None:
    """The first creator wins, also on a file system without hard links (some network
    shares), where the file is made with an exclusive create instead."""
    if not links:

        def no_links(source: object, target: object) -> None:
            raise PermissionError("hard links not supported")

        monkeypatch.setattr(os, "link", no_links)
    target = tmp_path / "subject.key"
    assert create_private(target, b"first")
    assert not create_private(target, b"second")
    assert target.read_bytes() == b"first"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["subject.key"]

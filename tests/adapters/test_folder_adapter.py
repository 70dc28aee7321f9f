"""The folder adapter: atomic, idempotent per message id, and conformant."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from adapters.base import AdapterContext
from adapters.folder import FolderAdapter
from adapters.folder.adapter import safe_name
from adapters.testing import AdapterContract, make_envelope
from gateway.errors import PermanentDeliveryError, TransientDeliveryError
from gateway.settings import ConfigError


class TestFolderContract(AdapterContract):
    @pytest.fixture
    async def adapter(self, tmp_path: Path) -> AsyncIterator[FolderAdapter]:
        adapter = FolderAdapter.from_config(
            "drop", {"path": "out"}, AdapterContext(data_dir=tmp_path)
        )
        yield adapter
        await adapter.aclose()

    async def delivered_count(self, adapter: Any, message_id: str) -> int:
        return len(list(adapter.directory.glob(f"{safe_name(message_id)}.*")))


async def test_writes_whole_file_and_leaves_no_temp(tmp_path: Path) -> None:
    adapter = FolderAdapter("drop", tmp_path / "out")
    envelope = make_envelope("msg/../../evil")
    receipt = await adapter.deliver(envelope)
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files == [f"{safe_name('msg/../../evil')}.xml"]
    assert files[0].startswith("msg_.._.._evil-") and "/" not in files[0]
    assert (tmp_path / "out" / files[0]).read_bytes() == envelope.body
    assert receipt.details["path"].endswith(files[0])


async def test_unwritable_directory_is_transient(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    adapter = FolderAdapter("drop", blocker / "sub")
    with pytest.raises(TransientDeliveryError):
        await adapter.deliver(make_envelope())
    assert await adapter.ping() is False


def test_options_are_checked(tmp_path: Path) -> None:
    context = AdapterContext(data_dir=tmp_path)
    with pytest.raises(ConfigError, match="path is required"):
        FolderAdapter.from_config("drop", {}, context)
    with pytest.raises(ConfigError, match="unknown options"):
        FolderAdapter.from_config("drop", {"path": "x", "colour": "red"}, context)


def test_empty_message_id_is_permanent() -> None:
    with pytest.raises(PermanentDeliveryError):
        safe_name("")


def test_a_message_id_of_dots_gets_a_visible_name() -> None:
    name = safe_name("...")
    assert name and not name.startswith(".") and "/" not in name


async def test_message_ids_that_read_alike_never_share_a_file(tmp_path: Path) -> None:
    """``a/b`` and ``a_b``, or two long ids with the same start, are two documents: the second
    must be written, not answered as a duplicate of the first."""
    adapter = FolderAdapter("drop", tmp_path / "out")
    pairs = [("a/b@x", "a_b@x"), ("m" * 200 + "1", "m" * 200 + "2"), (".hidden", "hidden")]
    for first, second in pairs:
        one = await adapter.deliver(make_envelope(first, body=b"<one/>"))
        two = await adapter.deliver(make_envelope(second, body=b"<two/>"))
        assert not one.duplicate and not two.duplicate, (first, second)
        assert one.remote_id != two.remote_id
        assert (tmp_path / "out" / one.remote_id).read_bytes() == b"<one/>"
        assert (tmp_path / "out" / two.remote_id).read_bytes() == b"<two/>"
    assert all(len(p.name) < 255 for p in (tmp_path / "out").iterdir())
    assert safe_name("0123abc.erp@lingang") == "0123abc.erp@lingang"  # ordinary ids unchanged

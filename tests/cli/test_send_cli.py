"""``lingang send``: documents handed to a live gateway over its API, followed to their end.

A real server on 127.0.0.1 with a worker pool (validation and signing off, a folder adapter):
a fapiao is delivered and ``--wait`` says so; the same file again is the first submission,
and under another key refused as sent already unless ``--resend``;
an unknown buyer ends ``rejected`` with the gateway's reason; a hostile body is refused by
the API with its rule and nothing is stored; no key or no server is a usage error.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.cli.send import media_type
from tests.api.conftest import LiveApi, start_api

REPO = Path(__file__).resolve().parents[2]
SAMPLE = sorted((REPO / "gateway" / "samples").glob("*.xml"))[0]
PARTNERS = REPO / "tests" / "data" / "partners.toml"


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[LiveApi]:
    """The API on a real socket over a SQLite file store (no worker yet)."""
    async for live in start_api(tmp_path, f"sqlite:///{tmp_path}/gateway.db"):
        yield live


@pytest.fixture
async def working(api: LiveApi) -> AsyncIterator[object]:
    status, _, raw = await api.a.request(
        "PUT",
        "/v1/partners",
        data=PARTNERS.read_bytes(),
        headers={"Content-Type": "application/toml"},
    )
    assert status == 200, raw[:300]
    pool = api.services.worker_pool(1)
    pool.start()
    yield pool
    await pool.stop()


async def _send(*argv: str) -> int:
    return await asyncio.to_thread(main, ["send", *argv])


async def test_delivered_then_the_same_file_is_the_same_submission(
    api: LiveApi,
    working: object,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("LINGANG_API_KEY", api.key_a)
    assert await _send(str(SAMPLE), "--server", api.base, "--wait", "120", "--json") == 0
    first = json.loads(capsys.readouterr().out)
    assert first["status"] == "delivered" and first["http"] == 202
    assert await _send(str(SAMPLE), "--server", api.base, "--json") == 0
    again = json.loads(capsys.readouterr().out)
    assert again["id"] == first["id"] and again["replayed"] is True
    assert len(await api.store.list_submissions(api.tenant_a.id)) == 1


async def test_a_fapiao_sent_already_is_refused_and_resent_only_on_purpose(
    api: LiveApi,
    working: object,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Once the first key is forgotten (here: another key), the same fapiao is a new
    submission, which the gateway refuses as sent already, naming the first; ``--resend``
    sends it again."""
    monkeypatch.setenv("LINGANG_API_KEY", api.key_a)
    common = (str(SAMPLE), "--server", api.base, "--wait", "120", "--json")
    assert await _send(*common) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["status"] == "delivered"
    assert await _send(*common, "--idempotency-key", "a-week-later") == 1
    again = json.loads(capsys.readouterr().out)
    assert again["status"] == "refused" and again["id"] != first["id"]
    for words in (first["id"], "is delivered", "not sent", "--resend"):
        assert words in again["reason"], again["reason"]
    assert await _send(*common, "--resend") == 0
    resent = json.loads(capsys.readouterr().out)
    assert resent["status"] == "delivered" and resent["id"] not in (first["id"], again["id"])
    (sub,) = [s for s in await api.store.list_submissions(api.tenant_a.id) if s.id == resent["id"]]
    stored = await api.store.get_submission(api.tenant_a.id, sub.id)
    assert stored is not None and stored.metadata["resend"] == "true"


async def test_an_unknown_buyer_ends_rejected_with_the_reason(
    api: LiveApi,
    working: object,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    stranger = tmp_path / "stranger.xml"
    text = SAMPLE.read_text(encoding="utf-8")
    buyer = text.split("<BuyerName>", 1)[1].split("</BuyerName>", 1)[0]
    stranger.write_text(text.replace(buyer, "Nobody Known Ltd"), encoding="utf-8")
    monkeypatch.setenv("LINGANG_API_KEY", api.key_a)
    assert await _send(str(stranger), "--server", api.base, "--wait", "120") == 1
    err = capsys.readouterr().err
    assert f"{stranger}: rejected (" in err and "partners" in err, err


async def test_a_hostile_body_is_refused_by_the_api_and_nothing_is_stored(
    api: LiveApi,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    hostile = tmp_path / "xxe.xml"
    hostile.write_text(
        '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>',
        encoding="utf-8",
    )
    key_file = tmp_path / "key"
    key_file.write_text(api.key_a + "\n", encoding="utf-8")
    status = await _send(str(hostile), "--server", api.base, "--key-file", str(key_file))
    assert status == 1
    err = capsys.readouterr().err
    assert "refused-by-api" in err and "xml.no-dtd" in err
    assert await api.store.list_submissions(api.tenant_a.id) == []


async def test_metadata_the_api_refuses_is_named(
    api: LiveApi, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LINGANG_API_KEY", api.key_a)
    status = await _send(str(SAMPLE), "--server", api.base, "--profile", "no-such-profile")
    assert status == 1
    assert "[profile / enum]" in capsys.readouterr().err


async def test_a_wrong_key_is_refused(
    api: LiveApi, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LINGANG_API_KEY", "lgk_not-a-key")
    assert await _send(str(SAMPLE), "--server", api.base) == 1
    assert "refused-by-api" in capsys.readouterr().err


def test_no_key_or_a_bad_server_url_is_a_usage_error_an_unreachable_one_is_not(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exit 2 is for a mistake in the command line; a gateway that is down is 1, as every
    command answers a store or server it cannot use (``lingang --help``: exit codes)."""
    monkeypatch.delenv("LINGANG_API_KEY", raising=False)
    assert main(["send", str(SAMPLE)]) == 2
    assert "no API key" in capsys.readouterr().err
    monkeypatch.setenv("LINGANG_API_KEY", "lgk_x")
    assert main(["send", str(SAMPLE), "--server", "http://127.0.0.1:9"]) == 1
    assert "cannot reach the gateway" in capsys.readouterr().err
    assert main(["send", str(SAMPLE), "--server", "ftp://example"]) == 2
    assert main(["send", str(SAMPLE), str(SAMPLE), "--idempotency-key", "k"]) == 2


@pytest.mark.parametrize(
    ("name", "body", "expected"),
    [
        ("a.xml", b"{}", "application/xml"),
        ("a.OFD", b"PK\x03\x04", "application/ofd"),
        ("a", b"PK\x03\x04", "application/zip"),
        ("a", b"\xef\xbb\xbf <EInvoice/>", "application/xml"),
        ("a.txt", b'{"fphm": "1"}', "application/json"),
        ("a", b"hello", "application/octet-stream"),
    ],
)
def test_media_type(name: str, body: bytes, expected: str) -> None:
    assert media_type(Path(name), body) == expected


async def test_wait_ends_with_the_state_reached(
    api: LiveApi, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No worker runs: the document is still queued when ``--wait`` ends (exit 1, said)."""
    monkeypatch.setenv("LINGANG_API_KEY", api.key_a)
    assert await _send(str(SAMPLE), "--server", api.base, "--wait", "0.3") == 1
    err = capsys.readouterr().err
    assert ": received (" in err or ": queued (" in err, err
    assert "still going when --wait ended" in err

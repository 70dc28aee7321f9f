"""``lingang tenants``: revocation scoped to the named tenant, keys listed with their ids.

Item 4 of the hardening issue: ``rotate-key NAME --revoke KEY_ID`` revoked another tenant's
key, ``--revoke no-such-id`` reported success, and ``list`` showed no key ids.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.cli import main
from tests.api.test_api_cli_tenants import authenticate, issued


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/gateway.db"


def _create(url: str, name: str, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    assert main(["tenants", "create", name, "--database", url]) == 0
    return issued(capsys.readouterr().out)


def test_another_tenants_key_cannot_be_revoked(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _create(url, "acme", capsys)
    other_id, other_key = _create(url, "globex", capsys)
    status = main(["tenants", "rotate-key", "acme", "--revoke", other_id, "--database", url])
    assert status == 1
    err = capsys.readouterr().err
    assert f"tenant 'acme' has no API key '{other_id}'" in err
    assert authenticate(url, other_key) is not None
    assert main(["tenants", "list", "--json", "--database", url]) == 0
    acme = json.loads(capsys.readouterr().out.splitlines()[0])
    assert len(acme["keys"]) == 1, "a refused rotation makes no new key"


def test_unknown_and_revoked_ids_are_refused(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    first_id, _ = _create(url, "acme", capsys)
    assert main(["tenants", "rotate-key", "acme", "--revoke", "no-such-id", "--database", url]) == 1
    assert "no API key 'no-such-id'" in capsys.readouterr().err
    assert main(["tenants", "rotate-key", "acme", "--revoke", first_id, "--database", url]) == 0
    capsys.readouterr()
    assert main(["tenants", "rotate-key", "acme", "--revoke", first_id, "--database", url]) == 1
    assert "revoked already" in capsys.readouterr().err


def test_list_shows_key_ids_creation_and_state(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    first_id, first_key = _create(url, "acme", capsys)
    assert main(["tenants", "rotate-key", "acme", "--revoke", first_id, "--database", url]) == 0
    second_id, second_key = issued(capsys.readouterr().out)
    assert main(["tenants", "list", "--database", url]) == 0
    text = capsys.readouterr().out
    first_line = next(line for line in text.splitlines() if first_id in line)
    second_line = next(line for line in text.splitlines() if second_id in line)
    assert "revoked" in first_line and "initial" in first_line
    assert "active" in second_line and "rotated" in second_line
    assert first_key not in text and second_key not in text
    assert main(["tenants", "list", "--json", "--database", url]) == 0
    entry = json.loads(capsys.readouterr().out)
    keys = {k["id"]: k for k in entry["keys"]}
    assert keys[first_id]["revoked_at"] and keys[second_id]["revoked_at"] is None


def test_an_empty_store_says_so(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate", "--database", url]) == 0
    assert main(["tenants", "list", "--database", url]) == 0
    out = capsys.readouterr().out
    assert "no tenants in the store" in out and "lingang tenants create" in out

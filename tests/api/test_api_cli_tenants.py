"""``lingang tenants create / list / rotate-key`` on a real SQLite store file."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.store import Tenant, open_store


def authenticate(url: str, key: str) -> Tenant | None:
    async def check() -> Tenant | None:
        store = await open_store(url)
        try:
            return await store.authenticate(key)
        finally:
            await store.close()

    return asyncio.run(check())


def issued(output: str) -> tuple[str, str]:
    """The key id and the key printed by create / rotate-key."""
    key_id = re.search(r"key id ([0-9a-f]+)", output)
    assert key_id is not None, output
    key = output.strip().splitlines()[-1]
    assert key.startswith("lgk_")
    return key_id.group(1), key


def test_create_list_rotate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path}/gateway.db"
    assert main(["tenants", "create", "acme", "--database", url]) == 0
    first_id, first_key = issued(capsys.readouterr().out)
    tenant = authenticate(url, first_key)
    assert tenant is not None and tenant.name == "acme"

    assert main(["tenants", "create", "acme", "--database", url]) == 1
    assert "exists already" in capsys.readouterr().err
    for blank in ("", "  ", " acme"):
        assert main(["tenants", "create", blank, "--database", url]) == 1
        assert "tenant name must be non-empty" in capsys.readouterr().err

    assert main(["tenants", "list", "--database", url]) == 0
    listing = capsys.readouterr().out
    assert "acme" in listing and first_key not in listing

    assert main(["tenants", "rotate-key", "acme", "--revoke", first_id, "--database", url]) == 0
    _, second_key = issued(capsys.readouterr().out)
    assert second_key != first_key
    assert authenticate(url, first_key) is None
    rotated = authenticate(url, second_key)
    assert rotated is not None and rotated.id == tenant.id

    assert main(["tenants", "rotate-key", "nobody", "--database", url]) == 1
    assert "no tenant" in capsys.readouterr().err
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("gateway.db*"))
    assert first_key.encode() not in raw and second_key.encode() not in raw


def test_add_an_officer_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``add-key --role officer`` issues a compliance officer's key beside the tenant's
    others (which keep working); ``list`` shows each key's role."""
    url = f"sqlite:///{tmp_path}/gateway.db"
    assert main(["tenants", "create", "acme", "--database", url]) == 0
    _, submitter_key = issued(capsys.readouterr().out)
    argv = ["tenants", "add-key", "acme", "--role", "officer", "--label", "Li Wei, compliance"]
    assert main([*argv, "--database", url]) == 0
    out = capsys.readouterr().out
    assert "new officer API key id" in out
    officer_id, officer_key = issued(out)
    assert authenticate(url, submitter_key) is not None
    assert authenticate(url, officer_key) is not None
    assert main(["tenants", "list", "--database", url]) == 0
    listing = capsys.readouterr().out
    assert f"key {officer_id}" in listing and "officer  Li Wei, compliance" in listing
    assert "submitter  initial" in listing
    with pytest.raises(SystemExit):  # argparse: the roles are named in the usage
        main(["tenants", "add-key", "acme", "--role", "admin", "--database", url])
    assert "choose from 'submitter', 'officer'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "code"),
    [("acme\u202eevil", "U+202E"), ("acme\u2067x", "U+2067"), ("acme\x1b[31m", "U+001B")],
)
def test_a_tenant_name_with_a_direction_or_control_character_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, code: str
) -> None:
    """``lingang tenants list`` and every page print the name: U+202E reorders it, an
    escape sequence recolours the terminal (Unicode TR #36 2.1). Refused, naming it."""
    url = f"sqlite:///{tmp_path}/gateway.db"
    assert main(["tenants", "create", "first", "--database", url]) == 0
    capsys.readouterr()
    assert main(["tenants", "create", name, "--database", url]) == 1
    assert code in capsys.readouterr().err
    assert main(["tenants", "list", "--database", url]) == 0
    assert "acme" not in capsys.readouterr().out

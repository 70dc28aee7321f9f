"""Secrets and data are private to the gateway's user, whatever the umask.

Item 6 of the hardening issue: under umask 022, ``lingang keys test-pki`` wrote private keys
0644 and the SQLite database and its WAL were 0644.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.store import open_store


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def loose_umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_test_pki_private_keys_are_0600(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "pki"
    assert main(["keys", "test-pki", str(folder)]) == 0
    capsys.readouterr()
    keys = [*sorted(folder.glob("*.key.pem")), folder / "signer-rsa.p12"]
    assert len(keys) > 5
    assert {p.name: mode(p) for p in keys} == {p.name: 0o600 for p in keys}
    assert mode(folder) == 0o700
    assert mode(folder / "root.pem") == 0o644, "certificates are public"


async def test_the_sqlite_store_and_its_wal_are_0600(tmp_path: Path) -> None:
    home = tmp_path / "home"
    store = await open_store(f"sqlite:///{home}/gateway.db")
    try:
        await store.create_tenant("acme")
        files = sorted(home.glob("gateway.db*"))
        assert {p.name for p in files} >= {"gateway.db", "gateway.db-wal", "gateway.db-shm"}
        assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}
        assert mode(home) == 0o700
    finally:
        await store.close()


async def test_an_existing_loose_store_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    store = await open_store(f"sqlite:///{path}")
    await store.close()
    for file in tmp_path.glob("old.db*"):
        file.chmod(0o644)
    store = await open_store(f"sqlite:///{path}")
    try:
        assert {p.name: mode(p) for p in tmp_path.glob("old.db*")} == {
            p.name: 0o600 for p in tmp_path.glob("old.db*")
        }
    finally:
        await store.close()


def test_artefacts_import_makes_the_data_home_0700(
    tmp_path: Path,
    reference: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    home = tmp_path / "fresh-home"
    monkeypatch.setenv("LINGANG_HOME", str(home))
    assert main(["artefacts", "import", str(reference), "--set", "ubl-2.1"]) in {0, 1}
    capsys.readouterr()
    assert mode(home) == 0o700


def test_test_pki_says_the_p12_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Item 19: the PKCS#12 password was only in a docstring."""
    from cryptography.hazmat.primitives.serialization import pkcs12

    assert main(["keys", "test-pki", str(tmp_path / "a")]) == 0
    out = capsys.readouterr().out
    assert "signer-rsa.p12 password: test" in out
    pkcs12.load_key_and_certificates((tmp_path / "a/signer-rsa.p12").read_bytes(), b"test")

    monkeypatch.setenv("MY_P12_PASSWORD", "s3cret-pass")
    assert main(["keys", "test-pki", str(tmp_path / "b"), "--password-env", "MY_P12_PASSWORD"]) == 0
    out = capsys.readouterr().out
    assert "$MY_P12_PASSWORD" in out and "s3cret-pass" not in out
    p12 = (tmp_path / "b/signer-rsa.p12").read_bytes()
    pkcs12.load_key_and_certificates(p12, b"s3cret-pass")

    assert main(["keys", "test-pki", str(tmp_path / "c"), "--password-env", "UNSET_VAR_X"]) == 2
    assert "UNSET_VAR_X is not set" in capsys.readouterr().err

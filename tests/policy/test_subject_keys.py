"""The subject key's providers: a key file (made owner-only when missing), an environment
variable, a key derived from another secret, and a key inside a PKCS#11 token (SoftHSM2,
the MAC computed on the token); each has an id that tells keys apart without revealing them,
and the hashes a provider makes are those of the same key held as bytes."""

from __future__ import annotations

import hashlib
import hmac
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.errors import ConfigError
from gateway.policy.keys import (
    KeyProvider,
    Pkcs11KeyProvider,
    StaticKeyProvider,
    key_derived_from,
    key_from_env,
    key_from_file,
)
from gateway.policy.subjects import key_id_of, subject_hashes
from tests.conftest import in_ci

SUBJECTS = {"id:110101199003071234": True, "contact:Tan@SG": False}
SOFTHSM = Path("/usr/lib/softhsm/libsofthsm2.so")


def test_a_key_file_is_made_owner_only_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "subject.key"
    first = key_from_file(path)
    assert path.stat().st_mode & 0o077 == 0 and len(path.read_bytes()) == 32
    again = key_from_file(path)
    assert first.key_id == again.key_id and first.key_id.startswith("sha256:")
    assert subject_hashes(SUBJECTS, first, "E") == subject_hashes(SUBJECTS, path.read_bytes(), "E")
    assert key_from_file(path, key_id="2026-a").key_id == "2026-a"
    path.write_bytes(b"short")
    with pytest.raises(ConfigError, match="at least 16"):
        key_from_file(path)
    with pytest.raises(ConfigError, match="does not exist"):
        key_from_file(tmp_path / "none.key", create=False)


def test_a_key_file_made_by_two_processes_at_once_is_one_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``lingang serve`` and ``lingang worker`` started together on a new data directory both
    find no key file. The one that comes second must take the key the first one wrote, not
    write its own over it: the processes would hash the same individual under two keys and
    the yearly counts count them twice."""
    import secrets

    path = tmp_path / "keys" / "subject.key"
    theirs = bytes(range(32))
    drawn = secrets.token_bytes

    def the_other_process_wins(count: int) -> bytes:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(theirs)  # the other process created the file meanwhile
        return drawn(count)

    monkeypatch.setattr(secrets, "token_bytes", the_other_process_wins)
    mine = key_from_file(path)
    assert path.read_bytes() == theirs
    assert mine.key_id == StaticKeyProvider(theirs).key_id
    assert [p.name for p in path.parent.iterdir()] == ["subject.key"]


class Died(BaseException):
    """Stands for the process dying while it writes the new key."""


def test_a_key_file_is_never_left_half_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process that dies while it writes a new key leaves no key file (a cut one would
    stop every later start: 'has 0 bytes'), and the next start makes a whole key."""
    import os

    path = tmp_path / "keys" / "subject.key"
    fsync = os.fsync

    def die(fd: int) -> None:
        raise Died

    monkeypatch.setattr(os, "fsync", die)
    with pytest.raises(Died):
        key_from_file(path)
    assert not path.exists()
    monkeypatch.setattr(os, "fsync", fsync)
    key_from_file(path)
    assert len(path.read_bytes()) == 32


def test_a_key_from_the_environment() -> None:
    secret = bytes(range(32))
    provider = key_from_env("SUBJECT_HEX", environ={"SUBJECT_HEX": secret.hex()})
    assert provider.key_id == StaticKeyProvider(secret).key_id
    with pytest.raises(ConfigError, match="SUBJECT_HEX is not set"):
        key_from_env("SUBJECT_HEX", environ={})
    with pytest.raises(ConfigError, match="not hex"):
        key_from_env("SUBJECT_HEX", environ={"SUBJECT_HEX": "zz"})


def test_rotation_changes_the_id_and_the_hashes() -> None:
    old, new = key_derived_from(b"signing key 1"), key_derived_from(b"signing key 2")
    assert old.key_id != new.key_id
    assert subject_hashes(SUBJECTS, old, "E") != subject_hashes(SUBJECTS, new, "E")
    assert key_id_of(old) == old.key_id and key_id_of(b"raw bytes") == ""
    assert isinstance(old, KeyProvider)


@pytest.fixture(scope="module")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One SoftHSM2 token ``gate`` (user PIN 1234) for the module: the library reads its
    configuration once per process."""
    if not SOFTHSM.exists() or shutil.which("softhsm2-util") is None:
        if in_ci():
            pytest.fail("SoftHSM2 (Debian softhsm2) is missing: tests/run.sh installs it")
        pytest.skip("SoftHSM2 is not installed here")
    folder = tmp_path_factory.mktemp("softhsm")
    (folder / "tokens").mkdir()
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOFTHSM2_CONF", str(conf))
        subprocess.run(
            ["softhsm2-util", "--init-token", "--free", "--label", "gate",
             "--pin", "1234", "--so-pin", "5678"],
            check=True, capture_output=True,
        )  # fmt: skip
        yield conf


def session(rw: bool = True) -> Any:
    """A session on the token, logged in (login is per process and token)."""
    import pkcs11

    token = pkcs11.lib(str(SOFTHSM)).get_token(token_label="gate")
    try:
        return token.open(user_pin="1234", rw=rw)
    except pkcs11.UserAlreadyLoggedIn:
        return token.open(rw=rw)


def test_a_key_inside_a_pkcs11_token(softhsm: Path) -> None:
    from pkcs11 import Attribute, KeyType, ObjectClass

    secret = hashlib.sha256(b"hsm subject key").digest()
    with session() as opened:
        opened.create_object({
            Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.KEY_TYPE: KeyType.GENERIC_SECRET,
            Attribute.VALUE: secret, Attribute.LABEL: "subject", Attribute.TOKEN: True,
            Attribute.SIGN: True, Attribute.EXTRACTABLE: False, Attribute.SENSITIVE: True,
        })  # fmt: skip
    provider = Pkcs11KeyProvider(SOFTHSM, "gate", "subject", "1234", key_id="hsm-1")
    provider.check()
    assert provider.mac(b"m") == hmac.new(secret, b"m", hashlib.sha256).digest()
    assert subject_hashes(SUBJECTS, provider, "E") == subject_hashes(SUBJECTS, secret, "E")
    assert provider.key_id == "hsm-1"
    assert Pkcs11KeyProvider(SOFTHSM, "gate", "subject", "1234").key_id == (
        StaticKeyProvider(secret).key_id
    )
    with pytest.raises(ConfigError, match="'missing'"):
        Pkcs11KeyProvider(SOFTHSM, "gate", "missing", "1234").check()


def test_the_service_takes_the_token_from_the_settings(
    softhsm: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pkcs11 import KeyType, MechanismFlag

    from gateway.flows.tools import ToolsSpec, load_subject_key

    with session() as opened:
        opened.generate_key(
            KeyType.GENERIC_SECRET, 256, label="made-on-token", store=True,
            capabilities=MechanismFlag.SIGN,
        )  # fmt: skip
    monkeypatch.setenv("LINGANG_SUBJECT_KEY_PIN", "1234")
    spec = ToolsSpec(subject_key_pkcs11=(SOFTHSM, "gate", "made-on-token"), subject_key_id="k2")
    provider = load_subject_key(spec)
    assert isinstance(provider, Pkcs11KeyProvider) and provider.key_id == "k2"
    assert len(subject_hashes(SUBJECTS, provider, "E")) == 2
    with pytest.raises(ConfigError, match="made-elsewhere"):
        load_subject_key(ToolsSpec(subject_key_pkcs11=(SOFTHSM, "gate", "made-elsewhere")))

"""``lingang ledger verify`` / ``report`` / ``checkpoint`` and ``lingang policy check`` on a
real SQLite store, with checkpoints signed by a real key (JWS) and checked against the
configured certificate."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import sqlite3
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.service import checkpoint_signer
from gateway.settings import Settings, SigningSettings, StoreSettings
from gateway.signing.testpki import make_test_pki
from gateway.store.ledger import LedgerStore
from gateway.store.sqlite import SqliteStore
from tests.store.ledger_support import Clock, Stores, drop_guards_sqlite, export


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pki")
    make_test_pki(folder)
    return folder


async def exported(db: Path, count: int, *, one_sensitive: bool) -> Stores:
    """A SQLite store at ``db`` with ``count`` exports of one individual each (the second
    one's data sensitive when ``one_sensitive``)."""
    clock = Clock()
    store = await SqliteStore.open(f"sqlite:///{db}", clock=clock)
    await store.migrate()
    await store.create_tenant("T", tenant_id="t")
    stores = Stores(store, LedgerStore(store.connector, clock=clock), clock, "sqlite", str(db))
    for n in range(count):
        await export(stores, [(f"s{n}", one_sensitive and n == 1)], number=f"DOC-{n}")
    return stores


async def ledger_with_entries(tmp_path: Path, pki: Path, count: int = 4) -> tuple[str, Path]:
    """A store with ``count`` exports and a checkpoint signed by the PKI's EC signer; the
    configuration file naming key and certificate."""
    db = tmp_path / "gateway.db"
    stores = await exported(db, count, one_sensitive=True)
    store = stores.store
    settings = Settings(
        data_dir=tmp_path,
        store=StoreSettings(f"sqlite:///{db}"),
        signing=SigningSettings(key=pki / "signer-ec.key.pem", cert=pki / "signer-ec.pem"),
    )
    sign = checkpoint_signer(settings)
    assert sign is not None
    mark = await stores.ledger.checkpoint(sign)
    assert mark is not None and mark["seq"] == count
    await store.close()
    config = tmp_path / "lingang.toml"
    config.write_text(
        f'[store]\nurl = "sqlite:///{db}"\n[policy]\nledger_anchor = "{tmp_path}/ledger/anchor.jsonl"\n'
        f'[signing]\nkey = "{pki / "signer-ec.key.pem"}"\n'
        f'cert = "{pki / "signer-ec.pem"}"\n',
        encoding="utf-8",
    )
    return str(db), config


def test_verify_accepts_the_signed_ledger_and_names_tampering(tmp_path: Path, pki: Path) -> None:
    db, config = asyncio.run(ledger_with_entries(tmp_path, pki))
    code, out, _ = cli("ledger", "verify", "--config", str(config))
    assert code == 0 and "ledger ok: 4 entries, 1 signed checkpoints" in out
    code, out, _ = cli(
        "ledger", "verify", "--config", str(config), "--cert", str(pki / "signer-rsa.pem")
    )
    assert code == 1 and "checkpoint at entry 4 has a bad signature" in out
    with sqlite3.connect(db) as conn:
        drop_guards_sqlite(conn)
        conn.execute("UPDATE export_ledger SET basis = 'none' WHERE seq = 2")
    code, out, _ = cli("ledger", "verify", "--config", str(config), "--json")
    report = json.loads(out)
    assert code == 1 and report["seq"] == 2 and "entry 2 was edited" in report["problem"]


async def ledger_without_checkpoint(tmp_path: Path, count: int = 3) -> str:
    """A store with ``count`` exports and no checkpoint yet; its URL."""
    db = tmp_path / "gateway.db"
    await (await exported(db, count, one_sensitive=False)).store.close()
    return f"sqlite:///{db}"


def test_a_pkcs12_signing_key_signs_and_verifies_checkpoints_without_a_cert_setting(
    tmp_path: Path, pki: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``[signing] key`` a .p12 and no ``cert``: ``ledger checkpoint`` signs with the file's
    key and ``ledger verify`` trusts the file's certificate (both opened with
    ``LINGANG_SIGNING_PASSWORD``); before, verify found no trusted certificate."""
    url = asyncio.run(ledger_without_checkpoint(tmp_path))
    config = tmp_path / "lingang.toml"
    config.write_text(
        f'[store]\nurl = "{url}"\n[policy]\nledger_anchor = "{tmp_path}/ledger/anchor.jsonl"\n'
        f'[signing]\nkey = "{pki / "signer-rsa.p12"}"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("LINGANG_SIGNING_PASSWORD", "test")
    code, out, _ = cli("ledger", "checkpoint", "--config", str(config))
    assert code == 0 and "checkpoint signed at entry 3" in out
    code, out, _ = cli("ledger", "verify", "--config", str(config))
    assert code == 0 and "ledger ok: 3 entries, 1 signed checkpoints" in out, out
    code, out, _ = cli(
        "ledger", "verify", "--config", str(config), "--cert", str(pki / "signer-ec.pem")
    )
    assert code == 1 and "checkpoint at entry 3 has a bad signature" in out
    monkeypatch.delenv("LINGANG_SIGNING_PASSWORD")
    code, _, err = cli("ledger", "verify", "--config", str(config))
    assert code != 0 and "LINGANG_SIGNING_PASSWORD" in err and "--cert" in err, err


def test_checkpoint_command_and_report(tmp_path: Path, pki: Path) -> None:
    db, config = asyncio.run(ledger_with_entries(tmp_path, pki, count=2))
    code, out, _ = cli("ledger", "checkpoint", "--config", str(config))
    assert code == 0 and "checkpoint signed at entry 2" in out
    code, out, _ = cli("ledger", "report", "--year", "2026", "--database", f"sqlite:///{db}")
    report = json.loads(out)
    (exporters,) = report["tenants"].values()
    (exporter,) = exporters.values()
    assert exporter["individuals"] == 2 and exporter["sensitive_individuals"] == 1
    assert exporter["documents"] == 2 and exporter["by_destination"] == {"SG": 2}
    assert exporter["by_category"] == {"business": 2, "personal": 2}
    code, out, _ = cli("ledger", "report", "--year", "2025", "--format", "csv",
                       "--database", f"sqlite:///{db}")  # fmt: skip
    assert code == 0 and out == "year,tenant,tenant_name,exporter,dimension,key,value\n"


def test_the_report_names_each_tenant_beside_its_id(tmp_path: Path, pki: Path) -> None:
    """The report was keyed by tenant id alone ("t"), where an operator knows tenants by
    the name ``lingang tenants list`` shows ("T"): JSON now has ``tenant_names`` and CSV a
    ``tenant_name`` column beside the id."""
    db, _ = asyncio.run(ledger_with_entries(tmp_path, pki, count=2))
    url = f"sqlite:///{db}"
    code, out, _ = cli("ledger", "report", "--year", "2026", "--database", url)
    assert code == 0 and json.loads(out)["tenant_names"] == {"t": "T"}
    code, out, _ = cli("ledger", "report", "--year", "2026", "--format", "csv", "--database", url)
    header, first, *_ = out.splitlines()
    assert header == "year,tenant,tenant_name,exporter,dimension,key,value"
    assert first.startswith("2026,t,T,91310115MA1FL8K22H,total,")


def test_the_report_of_one_tenant_names_it_by_id_or_name_and_refuses_an_unknown_one(
    tmp_path: Path, pki: Path
) -> None:
    """``--tenant`` took only an id, and any other text gave a report of nothing, exit 0: a
    compliance officer asking for "T" (the name ``lingang tenants list`` prints, and what
    ``lingang partners --tenant`` takes) read that the tenant exported nothing. The tenant is
    now found by id or name, and one that does not exist is an error naming ``--tenant``."""
    db, _ = asyncio.run(ledger_with_entries(tmp_path, pki, count=2))
    url = f"sqlite:///{db}"
    for given in ("t", "T"):
        code, out, err = cli("ledger", "report", "--year", "2026", "--tenant", given,
                             "--database", url)  # fmt: skip
        assert code == 0, err
        assert json.loads(out)["tenants"]["t"]["91310115MA1FL8K22H"]["documents"] == 2, given
    code, out, err = cli("ledger", "report", "--year", "2026", "--tenant", "Acme",
                         "--database", url)  # fmt: skip
    assert code == 1 and out == ""
    assert "no tenant 'Acme'" in err and "tenant" in err and "lingang tenants list" in err


def test_a_year_the_report_cannot_bound_is_a_usage_error(tmp_path: Path) -> None:
    """``--year 99999`` (or 0, or 9999, whose next 1 January does not exist) ended in a
    ValueError traceback from the date arithmetic."""
    db = f"sqlite:///{tmp_path / 'gate.db'}"
    assert cli("migrate", "--database", db)[0] == 0
    for year in ("99999", "9999", "0", "1", "-5", "\uff12\uff10\uff12\uff16"):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), pytest.raises(SystemExit) as caught:
            main(["ledger", "report", "--year", year, "--database", db])
        assert caught.value.code == 2, year
        assert "not a year from 1000 to 9998" in err.getvalue(), err.getvalue()
    for year in ("1000", "9998"):
        code, out, err = cli("ledger", "report", "--year", year, "--database", db)
        assert code == 0 and json.loads(out)["year"] == int(year), (year, err)


def test_policy_check_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "policy.toml"
    bad.write_text('version = "1"\n\n[[positive]]\nid = "x"\n', encoding="utf-8")
    code, _, err = cli("policy", "check", str(bad))
    assert code == 1 and "line 3" in err and "basis" in err
    bad.write_text('version = "1"\n', encoding="utf-8")
    code, out, _ = cli("policy", "check", str(bad))
    assert code == 0 and json.loads(out)["version"] == "1"


def test_checkpoint_signatures_verify_with_an_independent_jose_library(
    tmp_path: Path, pki: Path
) -> None:
    """An auditor checks a checkpoint with standard tools: jwcrypto verifies the detached
    JWS over the checkpoint payload with the gateway's certificate."""
    from jwcrypto import jwk, jws

    from gateway.store.ledger_chain import checkpoint_payload

    db, _ = asyncio.run(ledger_with_entries(tmp_path, pki, count=3))
    with sqlite3.connect(db) as conn:
        seq, head_hash, at, signature, certificate = conn.execute(
            "SELECT seq, head_hash, at, signature, certificate FROM export_checkpoints"
        ).fetchone()
    assert certificate == (pki / "signer-ec.pem").read_text(encoding="ascii")
    key = jwk.JWK.from_pem((pki / "signer-ec.pem").read_bytes())
    token = jws.JWS()
    token.deserialize(signature)
    token.verify(key, detached_payload=checkpoint_payload(seq, head_hash, at))
    assert token.jose_header["alg"] == "ES256"
    forged = jws.JWS()
    forged.deserialize(signature)
    with pytest.raises(jws.InvalidJWSSignature):
        forged.verify(key, detached_payload=checkpoint_payload(seq, "0" * 64, at))


def test_checkpoints_signed_before_a_key_rotation_still_verify(tmp_path: Path, pki: Path) -> None:
    """The signing key is rotated (its certificate expires, at the latest): checkpoints the
    old key signed stay in the ledger, so verification trusts the previous certificates
    too (``[signing] previous_certs``, or ``--cert`` repeated); before, every old checkpoint
    was 'a bad signature' and the ledger 'broken' from the first rotation on."""
    db, _ = asyncio.run(ledger_with_entries(tmp_path, pki, count=2))
    ec, rsa = pki / "signer-ec.pem", pki / "signer-rsa.pem"
    rotated = tmp_path / "rotated.toml"
    rotated.write_text(
        f'[store]\nurl = "sqlite:///{db}"\n[policy]\nledger_anchor = "{tmp_path}/anchor.jsonl"\n'
        f'[signing]\nkey = "{pki / "signer-rsa.key.pem"}"\ncert = "{rsa}"\n',
        encoding="utf-8",
    )
    asyncio.run(_more_exports(db, 2))
    code, out, _ = cli("ledger", "checkpoint", "--config", str(rotated))
    assert code == 0 and "checkpoint signed at entry 3" in out
    code, out, _ = cli("ledger", "verify", "--config", str(rotated))
    assert code == 1 and "checkpoint at entry 2 has a bad signature" in out
    code, out, _ = cli("ledger", "verify", "--config", str(rotated), "--cert", str(rsa),
                       "--cert", str(ec))  # fmt: skip
    assert code == 0 and "ledger ok: 3 entries, 2 signed checkpoints" in out, out
    with rotated.open("a", encoding="utf-8") as file:
        file.write(f'previous_certs = ["{ec}"]\n')
    code, out, _ = cli("ledger", "verify", "--config", str(rotated))
    assert code == 0 and "ledger ok: 3 entries, 2 signed checkpoints" in out, out


async def _more_exports(db: str, number: int) -> None:
    clock = Clock()
    store = await SqliteStore.open(f"sqlite:///{db}", clock=clock)
    stores = Stores(store, LedgerStore(store.connector, clock=clock), clock, "sqlite", db)
    try:
        await export(stores, [("later", False)], number=f"DOC-{number}")
    finally:
        await store.close()

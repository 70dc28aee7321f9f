"""The gateway's own key from a PKCS#12 file or an encrypted PEM key (DESIGN, "Signing and
trust": "Keys: PEM / PKCS#12 files ..., loaded once").

``[signing] key`` may name a ``.p12`` (its certificate and chain come from the file, so
``[signing] cert`` may be left unset) or an encrypted PEM key; the password comes only from
``LINGANG_SIGNING_PASSWORD``. A live server signs with it in a stage process (which gets the
password from the environment it inherits, not from the pickled spec): xmlsec1 verifies the
XAdES signature over the delivered bytes, and the export ledger's checkpoint verifies against
the certificate. A missing or wrong password stops the start naming the setting and the
variable, never the password.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from gateway.cli._ledger_verify import signature_checker
from gateway.errors import ConfigError
from gateway.flows import load_tools
from gateway.service import (
    checkpoint_signer,
    load_body_signer,
    open_services,
    tools_spec,
)
from gateway.settings import PipelineSettings, Settings, SigningSettings
from gateway.signing.jws import verify_detached
from gateway.signing.testpki import TestPki, make_test_pki
from gateway.store.ledger_chain import checkpoint_payload, verify_chain
from tests.api.conftest import FullStages, start_api
from tests.api.test_api_flow import deliver_one
from tests.conftest import require_tool

PASSWORD = "Harbour-Pass-71"
"""Distinctive, so a test can see it is nowhere it must not be."""


def xmlsec1_verifies(pki: TestPki, signature: bytes, name: str, data: bytes, folder: Path) -> bool:
    """xmlsec1 checks the detached XAdES signature over ``data`` saved as ``name``."""
    require_tool("xmlsec1")
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(data)
    (folder / "signature.xml").write_bytes(signature)
    run = subprocess.run(
        [
            "xmlsec1",
            "--verify",
            "--trusted-pem",
            str(pki.path("root.pem")),
            "--untrusted-pem",
            str(pki.path("intermediate.pem")),
            "--id-attr:Id",
            "http://uri.etsi.org/01903/v1.3.2#:SignedProperties",
            "signature.xml",
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return run.returncode == 0


def reference_name(signature: bytes) -> str:
    """The URI of the detached signature's document reference."""
    from lxml import etree

    root = etree.fromstring(signature)
    ns = {"ds": "http://www.w3.org/2000/09/xmldsig#"}
    uris = [str(u) for u in root.xpath("//ds:Reference/@URI", namespaces=ns)]
    return next(u for u in uris if u and not u.startswith("#"))


def with_key(
    signing: SigningSettings, *, stage_processes: int = 0
) -> Callable[[Settings], Settings]:
    """Sign with ``signing``, validation off, a checkpoint after every ledger entry."""

    def adjust(settings: Settings) -> Settings:
        pipeline = PipelineSettings(validate=False, stage_processes=stage_processes)
        settings = settings.with_section("policy", checkpoint_every=1)
        return replace(settings, signing=signing, pipeline=pipeline)

    return adjust


def encrypted_pem(pki: TestPki, name: str = "signer-ec.key.pem") -> Path:
    """The test PKI's EC key, re-written as an encrypted PKCS#8 PEM."""
    key = serialization.load_pem_private_key(pki.path(name).read_bytes(), None)
    target = pki.path("signer-ec.enc.key.pem")
    target.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(PASSWORD.encode()),
        )
    )
    return target


async def test_a_live_server_signs_with_a_pkcs12_key_in_a_stage_process(
    tmp_path: Path, artefacts_home: Path, fapiao_xml: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    pki = make_test_pki(tmp_path / "pki", password=PASSWORD.encode())
    monkeypatch.setenv("LINGANG_SIGNING_PASSWORD", PASSWORD)
    signing = SigningSettings(key=pki.path("signer-rsa.p12"))
    full = FullStages(artefacts_home, pki)
    url = f"sqlite:///{tmp_path}/gateway.db"
    adjust = with_key(signing, stage_processes=1)
    async for live in start_api(tmp_path, url, full=full, adjust=adjust):
        spec = tools_spec(live.services.settings)
        assert PASSWORD.encode() not in pickle.dumps(spec)
        body = await deliver_one(live, fapiao_xml, rounds=2400)
        assert body["status"] == "delivered", body["history"]
        assert body["signed"] == "detached"
        base = f"/v1/documents/{body['id']}/output"
        _, _, delivered = await live.a.request("GET", f"{base}?kind=signed")
        _, _, signature = await live.a.request("GET", f"{base}?kind=signature")
        name = reference_name(signature)
        assert xmlsec1_verifies(pki, signature, name, delivered, tmp_path / "x")
        assert not xmlsec1_verifies(pki, signature, name, delivered + b" ", tmp_path / "y")

        assert live.services.ledger is not None
        entries, head, marks = await live.services.ledger.chain_state()
        assert marks, "checkpoint_every = 1 signs a checkpoint after the first entry"
        assert head is not None
        trusted = x509.load_pem_x509_certificate(pki.path("signer-rsa.pem").read_bytes())
        report = verify_chain(entries, head, marks, signature_checker([trusted]))
        assert report.ok and report.checkpoints == len(marks), report
        other = x509.load_pem_x509_certificate(pki.path("signer-ec.pem").read_bytes())
        assert not verify_chain(entries, head, marks, signature_checker([other])).ok


def test_an_encrypted_pem_key_signs_documents_bodies_and_checkpoints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pki = make_test_pki(tmp_path / "pki")
    monkeypatch.setenv("LINGANG_SIGNING_PASSWORD", PASSWORD)
    settings = Settings.for_data_dir(
        tmp_path,
        signing=SigningSettings(
            key=encrypted_pem(pki), cert=pki.path("signer-ec.pem"), chain=(pki.path("chain.pem"),)
        ),
        pipeline=PipelineSettings(validate=False),
    )
    tools = load_tools(tools_spec(settings))
    assert tools.signer is not None
    data = b'{"transportDocumentReference": "LGW-BL-0001"}'
    signed = tools.signer.sign_detached(data, name="ebl.json")
    assert xmlsec1_verifies(pki, signed, "ebl.json", data, tmp_path / "x")

    public = x509.load_pem_x509_certificate(pki.path("signer-ec.pem").read_bytes()).public_key()
    body_signer = load_body_signer(settings)
    assert body_signer is not None
    assert verify_detached(body_signer.sign_detached(b"{}"), b"{}", public)["alg"] == "ES256"
    sign = checkpoint_signer(settings)
    assert sign is not None
    payload = checkpoint_payload(1, "0" * 64, "2026-12-05T23:00:00Z")
    jws, certificate = sign(payload)
    verify_detached(jws, payload, public)
    assert certificate == pki.path("signer-ec.pem").read_text(encoding="ascii")


@pytest.mark.parametrize("password", [None, "not-the-password"])
@pytest.mark.parametrize("kind", ["p12", "pem"])
async def test_a_missing_or_wrong_password_refuses_to_start_naming_setting_and_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, password: str | None, kind: str
) -> None:
    pki = make_test_pki(tmp_path / "pki", password=PASSWORD.encode())
    if kind == "p12":
        signing = SigningSettings(key=pki.path("signer-rsa.p12"))
    else:
        signing = SigningSettings(key=encrypted_pem(pki), cert=pki.path("signer-ec.pem"))
    if password is None:
        monkeypatch.delenv("LINGANG_SIGNING_PASSWORD", raising=False)
    else:
        monkeypatch.setenv("LINGANG_SIGNING_PASSWORD", password)
    settings = Settings.for_data_dir(
        tmp_path, signing=signing, pipeline=PipelineSettings(validate=False)
    )
    with pytest.raises(ConfigError) as caught:
        await open_services(settings)
    message = caught.value.message
    assert caught.value.field == "signing.key"
    assert "[signing] key" in message and "LINGANG_SIGNING_PASSWORD" in message
    assert ("not set" in message) == (password is None), message
    assert password is None or password not in message


def test_serve_with_a_wrong_password_exits_1_without_a_traceback(tmp_path: Path) -> None:
    pki = make_test_pki(tmp_path / "pki", password=PASSWORD.encode())
    config = tmp_path / "lingang.toml"
    config.write_text(
        f'data_dir = "{tmp_path}"\n[server]\nport = 0\n[pipeline]\nvalidate = false\n'
        f'[signing]\nkey = "{pki.path("signer-rsa.p12")}"\n'
        '[adapters.drop]\ntype = "folder"\npath = "out"\n',
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k != "LINGANG_CONFIG"}
    env["LINGANG_SIGNING_PASSWORD"] = "Wrong-Pass-22"
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "serve", "--no-worker", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "[signing] key" in done.stderr and "LINGANG_SIGNING_PASSWORD" in done.stderr
    assert "Traceback" not in done.stderr
    assert "Wrong-Pass-22" not in done.stdout + done.stderr


def test_the_subject_key_derived_from_a_pkcs12_key_is_its_private_key_not_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Derived from the ciphertext, anyone reading the .p12 (without its password) could
    compute the subject key, and a new password would change it (and the yearly counts)."""
    from gateway.flows.tools import load_subject_key
    from gateway.policy.keys import StaticKeyProvider, key_derived_from

    pki = make_test_pki(tmp_path / "pki", password=PASSWORD.encode())
    p12 = pki.path("signer-rsa.p12")
    settings = Settings.for_data_dir(tmp_path, signing=SigningSettings(key=p12))
    monkeypatch.setenv("LINGANG_SIGNING_PASSWORD", PASSWORD)
    first = load_subject_key(tools_spec(settings))
    assert isinstance(first, StaticKeyProvider)
    assert first.secret != key_derived_from(p12.read_bytes()).secret

    bundle = pkcs12.load_pkcs12(p12.read_bytes(), PASSWORD.encode())
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"gateway",
            bundle.key,  # type: ignore[arg-type]
            bundle.cert.certificate if bundle.cert else None,
            None,
            serialization.BestAvailableEncryption(b"Another-Pass-5"),
        )
    )
    monkeypatch.setenv("LINGANG_SIGNING_PASSWORD", "Another-Pass-5")
    second = load_subject_key(tools_spec(settings))
    assert isinstance(second, StaticKeyProvider) and second.secret == first.secret


def test_a_password_for_a_plain_pem_key_is_refused_as_a_mistake(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The operator meant a protected key: say so rather than sign with another one."""
    pki = make_test_pki(tmp_path / "pki")
    monkeypatch.setenv("LINGANG_SIGNING_PASSWORD", PASSWORD)
    for cert in (pki.path("signer-ec.pem"), None):
        settings = Settings.for_data_dir(
            tmp_path,
            signing=SigningSettings(key=pki.path("signer-ec.key.pem"), cert=cert),
            pipeline=PipelineSettings(validate=False, sign=False),
        )
        with pytest.raises(ConfigError) as caught:
            load_body_signer(settings)
        assert "LINGANG_SIGNING_PASSWORD is set but the PEM key is not encrypted" in (
            caught.value.message
        )
        assert PASSWORD not in caught.value.message

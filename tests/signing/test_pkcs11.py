"""Signing keys inside an HSM: XAdES through :class:`gateway.signing.pkcs11.Pkcs11Backend`
with keys made on a SoftHSM2 token (RSA and P-256), verified by ours and by xmlsec1; a key or
token that is not there is a SigningError naming it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.signing import Verifier
from gateway.signing.testpki import TestPki
from tests.conftest import in_ci, require_tool

from .signing_support import BILL_OF_LADING

SOFTHSM = Path("/usr/lib/softhsm/libsofthsm2.so")
SIGNER = Path(__file__).with_name("hsm_signer.py")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def signed_on_token(offline_pki: TestPki, tmp_path: Path) -> Path:
    """The output folder of ``hsm_signer.py`` run against a fresh SoftHSM2 token."""
    if not SOFTHSM.exists() or shutil.which("softhsm2-util") is None:
        if in_ci():
            pytest.fail("SoftHSM2 (Debian softhsm2) is missing: tests/run.sh installs it")
        pytest.skip("SoftHSM2 is not installed here")
    (tmp_path / "tokens").mkdir()
    conf = tmp_path / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tmp_path / 'tokens'}\nobjectstore.backend = file\n")
    env = {**os.environ, "SOFTHSM2_CONF": str(conf), "PYTHONPATH": str(ROOT)}
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", "lingang",
         "--pin", "1234", "--so-pin", "5678"],
        check=True, capture_output=True, env=env,
    )  # fmt: skip
    document = tmp_path / "bill-of-lading.xml"
    document.write_bytes(BILL_OF_LADING)
    out = tmp_path / "out"
    out.mkdir()
    run = subprocess.run(
        [sys.executable, str(SIGNER), str(SOFTHSM), str(offline_pki.folder), str(document), str(out)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    return out


def test_signatures_made_inside_the_token_verify(
    signed_on_token: Path, offline_pki: TestPki
) -> None:
    xmlsec1 = require_tool("xmlsec1")
    verifier = Verifier(
        trust=[offline_pki.root.cert],
        crls=[offline_pki.intermediate_crl, offline_pki.root_crl],
        ocsp=False,
        fetch_crls=False,
    )
    for label in ("rsa", "ec"):
        signed = (signed_on_token / f"{label}.xml").read_bytes()
        result = verifier.verify(signed)
        assert result.signer_certificate.subject.rfc4514_string() == f"CN=HSM signer {label}"
        assert "revocation" in result.checks
        run = subprocess.run(
            [xmlsec1, "--verify", "--trusted-pem", str(offline_pki.path("root.pem")),
             "--id-attr:Id", "http://uri.etsi.org/01903/v1.3.2#:SignedProperties",
             str(signed_on_token / f"{label}.xml")],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr


def test_what_is_not_on_the_token_is_named(signed_on_token: Path) -> None:
    errors = json.loads((signed_on_token / "errors.json").read_text())
    assert "'nobody'" in errors["missing key"] and "'lingang'" in errors["missing key"]
    assert "'nowhere'" in errors["unknown token"]

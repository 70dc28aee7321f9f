"""The gateway's own key inside an HSM (DESIGN, "Signing and trust": "Keys: PEM / PKCS#12
files (and a provider interface for HSM/KMS)").

``[signing] pkcs11`` names a PKCS#11 library, ``pkcs11_token`` and ``pkcs11_label`` the token
and the key on it, ``cert`` its certificate; the user PIN comes only from
``LINGANG_SIGNING_PIN``. A live gateway (``hsm_gateway.py``, a process of its own because
SoftHSM2 reads its configuration once per process) signs a delivered document's detached
XAdES in a stage process, a transport-body JWS and the export ledger's checkpoints with a key
that never leaves a SoftHSM2 token: xmlsec1 verifies the XAdES, our JWS verifier the body
signature, the ledger verifier the checkpoints. Each misconfiguration stops the start naming
the setting.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509

from gateway.signing.jws import verify_detached
from tests.api.test_api_signing_key import reference_name
from tests.conftest import in_ci, require_tool

SOFTHSM = Path("/usr/lib/softhsm/libsofthsm2.so")
SCRIPT = Path(__file__).with_name("hsm_gateway.py")
ROOT = Path(__file__).resolve().parents[2]
PIN = "Token-Pin-4417"


def run_gateway(tmp_path: Path, artefacts: Path, fapiao: Path, kind: str) -> Path:
    """The work folder of ``hsm_gateway.py`` run against a fresh SoftHSM2 token."""
    if not SOFTHSM.exists() or shutil.which("softhsm2-util") is None:
        if in_ci():
            pytest.fail("SoftHSM2 (Debian softhsm2) is missing: tests/run.sh installs it")
        pytest.skip("SoftHSM2 is not installed here")
    (tmp_path / "tokens").mkdir()
    conf = tmp_path / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tmp_path / 'tokens'}\nobjectstore.backend = file\n")
    env = {
        **os.environ,
        "SOFTHSM2_CONF": str(conf),
        "PYTHONPATH": str(ROOT),
        "LINGANG_SIGNING_PIN": PIN,
    }
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", "lingang",
         "--pin", PIN, "--so-pin", "5678"],
        check=True, capture_output=True, env=env,
    )  # fmt: skip
    work = tmp_path / "work"
    work.mkdir()
    run = subprocess.run(
        [sys.executable, str(SCRIPT), str(SOFTHSM), str(artefacts), str(work), str(fapiao), kind],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert PIN not in run.stdout + run.stderr
    return work


def xmlsec1_verifies(work: Path, signature: bytes, data: bytes, folder: Path) -> None:
    """xmlsec1 verifies the detached XAdES ``signature`` over ``data`` to the root of the
    PKI ``hsm_gateway.py`` made in ``work``."""
    xmlsec1 = require_tool("xmlsec1")
    folder.mkdir()
    (folder / reference_name(signature)).write_bytes(data)
    (folder / "signature.xml").write_bytes(signature)
    checked = subprocess.run(
        [xmlsec1, "--verify", "--trusted-pem", str(work / "pki/root.pem"),
         "--untrusted-pem", str(work / "pki/intermediate.pem"),
         "--id-attr:Id", "http://uri.etsi.org/01903/v1.3.2#:SignedProperties", "signature.xml"],
        cwd=folder, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr


@pytest.mark.parametrize("kind", ["rsa", "ec"])
def test_a_live_gateway_signs_with_a_key_that_stays_in_the_token(
    tmp_path: Path, artefacts_home: Path, reference: Path, kind: str
) -> None:
    fapiao = reference / "fapiao/samples/xml/invoice-precheck_official-gd-special.xml"
    work = run_gateway(tmp_path, artefacts_home, fapiao, kind)
    delivered = (work / "delivered.xml").read_bytes()
    xmlsec1_verifies(work, (work / "signature.xml").read_bytes(), delivered, tmp_path / "check")

    public = x509.load_pem_x509_certificate((work / "signer.pem").read_bytes()).public_key()
    header = verify_detached((work / "body.jws").read_text(), b"{}", public)
    assert header["alg"] == ("RS256" if kind == "rsa" else "ES256")
    assert "x5t#S256" in header

    checkpoints = json.loads((work / "checkpoints.json").read_text())
    assert checkpoints["marks"] >= 1 and checkpoints["ok"], checkpoints
    assert checkpoints["verified"] == checkpoints["marks"]


def test_each_misconfigured_token_key_is_named_at_start(
    tmp_path: Path, artefacts_home: Path, reference: Path
) -> None:
    fapiao = reference / "fapiao/samples/xml/invoice-precheck_official-gd-special.xml"
    errors = json.loads(
        (run_gateway(tmp_path, artefacts_home, fapiao, "refusals") / "errors.json").read_text()
    )
    assert set(errors) == {
        "missing key",
        "another key's certificate",
        "no certificate",
        "key file as well",
        "no PIN",
    }, errors
    assert (
        errors["missing key"].startswith("signing.pkcs11: ") and "'nobody'" in errors["missing key"]
    )
    assert "does not match the certificate" in errors["another key's certificate"]
    assert errors["no certificate"].startswith("signing.cert: ")
    assert errors["key file as well"].startswith("signing.key: ")
    assert (
        errors["no PIN"].startswith("signing.pkcs11: ")
        and "LINGANG_SIGNING_PIN" in errors["no PIN"]
    )


def test_lingang_sign_signs_with_a_key_that_stays_in_the_token(
    tmp_path: Path, artefacts_home: Path, reference: Path
) -> None:
    fapiao = reference / "fapiao/samples/xml/invoice-precheck_official-gd-special.xml"
    work = run_gateway(tmp_path, artefacts_home, fapiao, "cli")
    exits = json.loads((work / "exits.json").read_text())
    assert exits == {"signed": 0, "another key's certificate": 1, "no PIN": 1}, exits
    assert not (work / "refused.xml").exists()
    signature = (work / "cli-signature.xml").read_bytes()
    xmlsec1_verifies(work, signature, fapiao.read_bytes(), tmp_path / "check")

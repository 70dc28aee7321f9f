"""``lingang ebl validate`` and ``lingang ebl convert``: exit codes 0/1/2, output written only
when valid, findings naming the path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from gateway.cli import main
from gateway.signing import Verifier
from gateway.signing.ecdsa_sd import verify_base_proof
from gateway.signing.gateway_key import PASSWORD_ENV
from gateway.signing.jsonld_loader import static_loader
from gateway.signing.testpki import make_test_pki

REGULAR = "EBL_v3.0.3.transport-document.GET.200.regular.json"


@pytest.fixture
def regular(tmp_path: Path, ebl_inputs: dict[str, bytes], artefacts_home: Path) -> Path:
    path = tmp_path / "td.json"
    path.write_bytes(ebl_inputs[REGULAR])
    return path


def test_validate_ok_and_json(regular: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ebl", "validate", str(regular)]) == 0
    assert "valid (TransportDocument)" in capsys.readouterr().out
    assert main(["ebl", "validate", str(regular), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["valid"] is True


def test_validate_rejects_with_path(
    tmp_path: Path,
    ebl_inputs: dict[str, bytes],
    artefacts_home: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    doc = json.loads(ebl_inputs[REGULAR])
    doc["receiptTypeAtOrigin"] = "XX"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    assert main(["ebl", "validate", str(bad)]) == 1
    assert "json-schema.enum at /receiptTypeAtOrigin" in capsys.readouterr().err


def test_validate_usage(tmp_path: Path) -> None:
    assert main(["ebl", "validate", str(tmp_path / "missing.json")]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["ebl", "convert", str(tmp_path / "x.json"), "--to", "pdf"])
    assert exc.value.code == 2


@pytest.mark.parametrize("target", ["dcsa", "ubl", "uncefact", "tradetrust-oa"])
def test_convert_writes_each_output(regular: Path, tmp_path: Path, target: str) -> None:
    out = tmp_path / f"out.{target}"
    assert main(["ebl", "convert", str(regular), "--to", target, "-o", str(out)]) == 0
    assert out.stat().st_size > 0
    assert main(["ebl", "validate", str(out)]) == (0 if target in ("dcsa", "ubl") else 1)


def test_convert_rejected_writes_nothing(
    tmp_path: Path, ebl_inputs: dict[str, bytes], artefacts_home: Path
) -> None:
    doc = json.loads(ebl_inputs[REGULAR])
    doc["transportDocumentTypeCode"] = "SWB"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    out = tmp_path / "out.xml"
    assert main(["ebl", "convert", str(bad), "--to", "ubl", "-o", str(out)]) == 1
    assert not out.exists()


def test_convert_json_summary_lists_warnings(
    regular: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "un.json"
    assert main(["ebl", "convert", str(regular), "--to", "uncefact", "-o", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert "/isToOrder: not carried by UN/CEFACT D23B" in summary["warnings"]


def test_convert_signed_ubl(regular: Path, tmp_path: Path) -> None:
    pki = make_test_pki(tmp_path / "pki")
    out = tmp_path / "signed.xml"
    args = ["ebl", "convert", str(regular), "--to", "ubl", "-o", str(out)]
    args += ["--sign-key", str(pki.path("signer-rsa.key.pem"))]
    args += [
        "--sign-cert",
        str(pki.path("signer-rsa.pem")),
        "--sign-chain",
        str(pki.path("chain.pem")),
    ]
    assert main(args) == 0
    signed = out.read_bytes()
    assert main(["ebl", "validate", str(out)]) == 0
    crls = [pki.path("intermediate.crl.pem"), pki.path("root.crl.pem")]
    result = Verifier(trust=[pki.path("root.pem")], crls=crls).verify(signed)
    assert b"BillOfLading" in result.signed_xml


def test_convert_signs_with_a_protected_key(
    regular: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``--sign-key`` takes an encrypted PEM key or a PKCS#12 file as ``[signing] key`` does:
    the password only from LINGANG_SIGNING_PASSWORD. It took no password at all, so neither
    could be used."""
    pki = make_test_pki(tmp_path / "pki", password=b"p12 secret")
    encrypted = tmp_path / "signer.key.pem"
    encrypted.write_bytes(
        pki.signer_rsa.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"pem secret"),
        )
    )
    cert = ["--sign-cert", str(pki.path("signer-rsa.pem"))]
    chain = ["--sign-chain", str(pki.path("chain.pem"))]
    base = ["ebl", "convert", str(regular), "--to", "ubl"]
    verifier = Verifier(trust=[pki.path("root.pem")], check_revocation=False)
    cases = [
        ("pem secret", ["--sign-key", str(encrypted), *cert, *chain]),
        ("p12 secret", ["--sign-key", str(pki.path("signer-rsa.p12"))]),
    ]
    for password, key in cases:
        out = tmp_path / f"signed-{password.split()[0]}.xml"
        monkeypatch.delenv(PASSWORD_ENV, raising=False)
        assert main([*base, "-o", str(out), *key]) == 2
        err = capsys.readouterr().err
        assert "--sign-key" in err and f"{PASSWORD_ENV} is not set" in err
        assert not out.exists()
        monkeypatch.setenv(PASSWORD_ENV, "wrong")
        assert main([*base, "-o", str(out), *key]) == 2
        assert f"the password in {PASSWORD_ENV} does not open" in capsys.readouterr().err
        monkeypatch.setenv(PASSWORD_ENV, password)
        assert main([*base, "-o", str(out), *key]) == 0
        result = verifier.verify(out.read_bytes())
        assert result.signer_certificate == pki.signer_rsa.cert
        assert password not in capsys.readouterr().err


def test_convert_signing_usage(
    regular: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pki = make_test_pki(tmp_path / "pki")
    base = ["ebl", "convert", str(regular), "--to", "ubl", "-o", str(tmp_path / "out.xml")]
    assert main([*base, "--sign-key", str(pki.path("signer-rsa.key.pem"))]) == 2
    assert "a PEM key needs its certificate: give --sign-cert" in capsys.readouterr().err
    other = ["--sign-cert", str(pki.path("signer-ec.pem"))]
    assert main([*base, "--sign-key", str(pki.path("signer-rsa.key.pem")), *other]) == 2
    assert "does not belong to the certificate" in capsys.readouterr().err


def test_convert_tradetrust_vc_with_a_did_web_key(
    regular: Path, tmp_path: Path, artefacts_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = tmp_path / "issuer"
    assert main(["keys", "did-web", "carrier.example", str(keys), "--port", "8443"]) == 0
    printed = capsys.readouterr().out
    assert "https://carrier.example:8443/.well-known/did.json" in printed
    assert (keys / "vc-key.pem").stat().st_mode & 0o077 == 0
    did_doc = json.loads((keys / "did.json").read_text())
    assert did_doc["id"] == "did:web:carrier.example%3A8443"
    out = tmp_path / "bl.vc.json"
    args = ["ebl", "convert", str(regular), "--to", "tradetrust-vc", "-o", str(out)]
    assert main([*args, "--vc-key", str(keys / "vc-key.pem"), "--did", did_doc["id"]]) == 0
    signed = json.loads(out.read_text())
    assert signed["proof"]["verificationMethod"] == did_doc["id"] + "#keys-1"
    loader = static_loader(artefacts_home)
    assert verify_base_proof(signed, did_doc, loader) == []
    signed["credentialSubject"]["vessel"] = "ANOTHER SHIP"
    assert verify_base_proof(signed, did_doc, loader)
    # refusing to overwrite a key; a usage error without the key
    assert main(["keys", "did-web", "carrier.example", str(keys)]) == 2
    assert main(args) == 2
    assert "--vc-key" in capsys.readouterr().err
    assert main([*args, "--vc-key", str(keys / "did.json"), "--did", did_doc["id"]]) == 2

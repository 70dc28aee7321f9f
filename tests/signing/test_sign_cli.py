"""``lingang keys test-pki``, ``lingang sign`` and ``lingang verify`` end to end."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.errors import VerificationError
from gateway.signing import Verifier
from gateway.signing.algorithms import DS_NS
from tests.conftest import require_tool


@pytest.fixture(scope="module")
def cli_pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli") / "pki"
    assert main(["keys", "test-pki", str(folder)]) == 0
    return folder


def test_sign_then_verify(
    cli_pki: Path, tmp_path: Path, bis_invoice: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "invoice.xml"
    source.write_bytes(bis_invoice)
    signed = tmp_path / "signed.xml"
    sign_args = ["sign", str(source), "--force", "--key", str(cli_pki / "signer-ec.key.pem")]
    sign_args += ["--cert", str(cli_pki / "signer-ec.pem"), "--chain", str(cli_pki / "chain.pem")]
    assert main([*sign_args, "-o", str(signed)]) == 0
    crls = ["--crl", str(cli_pki / "intermediate.crl.pem"), "--crl", str(cli_pki / "root.crl.pem")]
    content = tmp_path / "content.xml"
    verify_args = ["verify", str(signed), "--trust", str(cli_pki / "root.pem"), *crls]
    capsys.readouterr()
    assert main([*verify_args, "--json", "-o", str(content)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["valid"] and summary["checks"][-1] == "revocation"
    assert b"<ds:Signature" not in content.read_bytes()


def test_verify_reports_the_failed_check(
    cli_pki: Path, tmp_path: Path, bis_invoice: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "invoice.xml"
    source.write_bytes(bis_invoice)
    signed = tmp_path / "signed.xml"
    key, cert = cli_pki / "revoked.key.pem", cli_pki / "revoked.pem"
    assert (
        main(
            [
                "sign",
                str(source),
                "--force",
                "--key",
                str(key),
                "--cert",
                str(cert),
                "-o",
                str(signed),
            ]
        )
        == 0
    )
    trust = ["--trust", str(cli_pki / "root.pem"), "--intermediate", str(cli_pki / "chain.pem")]
    crls = ["--crl", str(cli_pki / "intermediate.crl.pem"), "--crl", str(cli_pki / "root.crl.pem")]
    assert main(["verify", str(signed), *trust, *crls]) == 1
    assert "INVALID (revoked)" in capsys.readouterr().err
    assert main(["verify", str(signed), *trust]) == 1
    assert "revocation-unknown" in capsys.readouterr().err
    assert main(["verify", str(signed), *trust, "--soft-fail"]) == 0


def test_detached_and_pkcs12(
    cli_pki: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = tmp_path / "ebl.json"
    data.write_bytes(b'{"transportDocumentReference": "LGW-1"}')
    signature = tmp_path / "ebl.json.xades.xml"
    monkeypatch.setenv("P12_PASSWORD", "test")
    p12 = ["--key", str(cli_pki / "signer-rsa.p12"), "--password-env", "P12_PASSWORD"]
    assert main(["sign", str(data), *p12, "--detached", "-o", str(signature)]) == 0
    trust = ["--trust", str(cli_pki / "root.pem"), "--no-revocation"]
    assert main(["verify", str(signature), "--data", str(data), *trust]) == 0
    capsys.readouterr()
    assert main(["verify", str(signature), *trust]) == 2  # a usage error: --data left out
    assert f"{signature} is a detached signature: name the data it covers with --data FILE" in (
        capsys.readouterr().err
    )
    data.write_bytes(b'{"transportDocumentReference": "LGW-2"}')
    assert main(["verify", str(signature), "--data", str(data), *trust]) == 1


def test_usage_errors(cli_pki: Path, tmp_path: Path) -> None:
    missing = tmp_path / "missing.xml"
    key = ["--key", str(cli_pki / "signer-ec.key.pem"), "--cert", str(cli_pki / "signer-ec.pem")]
    assert main(["sign", str(missing), *key]) == 2
    assert main(["verify", str(missing), "--trust", str(cli_pki / "root.pem")]) == 2
    with pytest.raises(SystemExit) as caught:
        main(["verify", str(missing)])
    assert caught.value.code == 2


ENVELOPING_TEMPLATE = b"""<Signature xmlns="http://www.w3.org/2000/09/xmldsig#">
  <SignedInfo>
    <CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>
    <SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>
    <Reference URI="#order">
      <DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
      <DigestValue/>
    </Reference>
  </SignedInfo>
  <SignatureValue/>
  <KeyInfo><X509Data/></KeyInfo>
  <Object Id="order"><order xmlns=""><n>1</n></order></Object>
</Signature>
"""
"""An enveloping signature for xmlsec1 to sign: the signed data inside its ds:Object."""


def test_verify_names_the_signature_forms(
    cli_pki: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """XML-DSig 1.1 section 2: enveloped (inside the document), enveloping (the data inside
    the signature's ds:Object), detached (apart). An enveloping signature was called
    "detached" and the user told to give --data; the valid result did not say which form
    was verified."""
    xmlsec1 = require_tool("xmlsec1")
    (tmp_path / "template.xml").write_bytes(ENVELOPING_TEMPLATE)
    enveloping = tmp_path / "enveloping.xml"
    keys = f"{cli_pki / 'signer-rsa.key.pem'},{cli_pki / 'signer-rsa.pem'}"
    command = [xmlsec1, "--sign", "--privkey-pem", keys, "--id-attr:Id", f"{DS_NS}:Object"]
    subprocess.run(
        [*command, "--output", str(enveloping), str(tmp_path / "template.xml")],
        check=True,
        capture_output=True,
    )
    trust = ["--trust", str(cli_pki / "root.pem"), "--no-revocation"]
    for extra in ([], ["--data", str(tmp_path / "template.xml")]):
        assert main(["verify", str(enveloping), *trust, *extra]) == 2
        err = capsys.readouterr().err
        assert f"{enveloping} is an enveloping signature" in err
        assert "detached signature" not in err
    with pytest.raises(VerificationError, match="enveloping signature") as caught:
        Verifier(trust=[cli_pki / "root.pem"], check_revocation=False).verify(
            enveloping.read_bytes()
        )
    assert caught.value.check == "structure"

    source, signed = tmp_path / "order.xml", tmp_path / "order.signed.xml"
    source.write_bytes(b"<order><n>1</n></order>")
    key = ["--key", str(cli_pki / "signer-ec.key.pem"), "--cert", str(cli_pki / "signer-ec.pem")]
    key += ["--chain", str(cli_pki / "chain.pem")]
    assert main(["sign", str(source), *key, "-o", str(signed)]) == 0
    capsys.readouterr()
    assert main(["verify", str(signed), *trust]) == 0
    assert capsys.readouterr().out.startswith("VALID: enveloped signature by CN=Lingang")
    assert main(["verify", str(signed), *trust, "--data", str(source)]) == 2
    assert f"{signed} is an enveloped signature" in capsys.readouterr().err

    detached = tmp_path / "order.xml.xades.xml"
    assert main(["sign", str(source), *key, "--detached", "-o", str(detached)]) == 0
    capsys.readouterr()
    assert main(["verify", str(detached), *trust, "--data", str(source), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["form"] == "detached"


@pytest.mark.parametrize(
    ("choice", "said"),
    [
        ([], "give the key: --key FILE, or --pkcs11"),
        (["--key", "k.pem", "--pkcs11", "lib.so", "--token", "t", "--key-label", "k"], "not both"),
        (["--token", "t", "--key-label", "k", "--key", "k.pem"], "give --pkcs11 too"),
        (["--pkcs11", "lib.so", "--key-label", "k"], "--pkcs11 needs --token"),
        (["--pkcs11", "lib.so", "--token", "t", "--key-label", "k"], "needs --cert"),
        (["--pkcs11", "nowhere.so", "--token", "t", "--key-label", "k", "--cert", "c.pem"],
         "nowhere.so, which does not exist"),
    ],
)  # fmt: skip
def test_sign_names_a_missing_or_doubled_key_as_a_usage_error(
    tmp_path: Path,
    bis_invoice: bytes,
    capsys: pytest.CaptureFixture[str],
    choice: list[str],
    said: str,
) -> None:
    source = tmp_path / "invoice.xml"
    source.write_bytes(bis_invoice)
    (tmp_path / "lib.so").write_bytes(b"")
    words = [w if not w.endswith(".so") or w == "nowhere.so" else str(tmp_path / w) for w in choice]
    assert main(["sign", str(source), "--detached", *words]) == 2
    assert said in capsys.readouterr().err

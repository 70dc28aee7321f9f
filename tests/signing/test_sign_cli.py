"""``lingang keys test-pki``, ``lingang sign`` and ``lingang verify`` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.cli import main


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

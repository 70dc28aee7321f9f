"""Run as a process by ``test_api_signing_token.py``: a live gateway whose ``[signing]`` key
stays inside a SoftHSM2 token.

SoftHSM2 reads ``SOFTHSM2_CONF`` once per process, when the library is first loaded, so this
runs in a process of its own. Arguments: the SoftHSM2 library, the installed artefacts, a
work folder, the fapiao to send, the key type (``rsa`` or ``ec``). Makes a test PKI in
``pki/`` of the work folder and a key pair of each type on the token ``lingang`` (PIN in
``LINGANG_SIGNING_PIN``), certifies them with the PKI's intermediate, serves the API with ``[signing] pkcs11`` and one stage process
(which opens its own session on the token), sends the fapiao and writes into the work
folder: the delivered bytes (``delivered.xml``), their detached XAdES (``signature.xml``),
a transport-body JWS over ``{}`` (``body.jws``), the ledger's checkpoints verified against
the certificate (``checkpoints.json``) and the certificate (``signer.pem``); with the key type
``refusals`` instead, what each misconfiguration says at start (``errors.json``); with ``cli``,
what ``lingang sign`` does with the token's key (``exits.json``, ``cli-signature.xml``).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import pkcs11
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pkcs11 import Attribute, KeyType
from pkcs11.util.ec import encode_named_curve_parameters

from gateway.cli._ledger_verify import signature_checker
from gateway.errors import ConfigError
from gateway.service import load_body_signer, open_services
from gateway.settings import PipelineSettings, Settings, SigningSettings
from gateway.signing.pkcs11 import Pkcs11Backend
from gateway.signing.testpki import make_test_pki
from gateway.store.ledger_chain import verify_chain
from tests.api.conftest import FullStages, start_api
from tests.api.test_api_flow import deliver_one
from tests.signing.hsm_signer import certificate as certificate_for

TOKEN = "lingang"


def make_key(library: Path, kind: str) -> None:
    """A key pair labelled ``kind`` on the token (RSA 2048 or P-256), private part kept in."""
    token = pkcs11.lib(str(library)).get_token(token_label=TOKEN)
    with token.open(user_pin=os.environ["LINGANG_SIGNING_PIN"], rw=True) as session:
        if kind == "rsa":
            session.generate_keypair(KeyType.RSA, 2048, label=kind, store=True)
        else:
            curve = {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")}
            session.create_domain_parameters(KeyType.EC, curve, local=True).generate_keypair(
                label=kind, store=True
            )


def signing(library: Path, cert: Path, label: str, **more: object) -> SigningSettings:
    """``[signing]`` with the key ``label`` on the token."""
    return SigningSettings(
        pkcs11=library,
        pkcs11_token=TOKEN,
        pkcs11_label=label,
        cert=cert,
        **more,  # type: ignore[arg-type]
    )


async def refusals(work: Path, library: Path, cert: Path, other_cert: Path) -> dict[str, str]:
    """What starting with each misconfiguration says (field and message)."""
    cases = {
        "missing key": signing(library, cert, "nobody"),
        "another key's certificate": signing(library, other_cert, "ec"),
        "no certificate": SigningSettings(pkcs11=library, pkcs11_token=TOKEN, pkcs11_label="ec"),
        "key file as well": signing(library, cert, "ec", key=cert),
    }
    said = {}
    for case, settings in cases.items():
        configured = Settings.for_data_dir(
            work / "refused", signing=settings, pipeline=PipelineSettings(validate=False)
        )
        try:
            await open_services(configured)
        except ConfigError as exc:
            said[case] = f"{exc.field}: {exc.message}"
    pin = os.environ.pop("LINGANG_SIGNING_PIN")
    try:
        load_body_signer(
            Settings.for_data_dir(work / "refused", signing=signing(library, cert, "ec"))
        )
    except ConfigError as exc:
        said["no PIN"] = f"{exc.field}: {exc.message}"
    finally:
        os.environ["LINGANG_SIGNING_PIN"] = pin
    return said


def sign_on_the_command_line(library: Path, work: Path, fapiao: Path) -> dict[str, int]:
    """``lingang sign --detached`` with the ``rsa`` key on the token (the signature in
    ``cli-signature.xml``), then with another key's certificate and with no PIN: the exit
    code of each."""
    from gateway.cli import main as lingang

    def sign(cert: str, output: str) -> int:
        return lingang(
            ["sign", str(fapiao), "--detached", "--pkcs11", str(library), "--token", TOKEN,
             "--key-label", "rsa", "--cert", str(work / cert),
             "--chain", str(work / "pki/chain.pem"), "-o", str(work / output)]
        )  # fmt: skip

    exits = {"signed": sign("rsa.pem", "cli-signature.xml")}
    exits["another key's certificate"] = sign("ec.pem", "refused.xml")
    pin = os.environ.pop("LINGANG_SIGNING_PIN")
    try:
        exits["no PIN"] = sign("rsa.pem", "refused.xml")
    finally:
        os.environ["LINGANG_SIGNING_PIN"] = pin
    return exits


async def main(library: Path, artefacts: Path, work: Path, fapiao: Path, mode: str) -> None:
    """``mode``: the key type to serve with (``rsa``, ``ec``), or ``refusals`` (start with
    each misconfiguration instead and write what it says)."""
    pki = make_test_pki(work / "pki")
    kind = {"refusals": "ec", "cli": "rsa"}.get(mode, mode)
    other = "rsa" if kind == "ec" else "ec"
    make_key(library, kind)
    make_key(library, other)
    backend = Pkcs11Backend(library, TOKEN, os.environ["LINGANG_SIGNING_PIN"])
    certificates = {}
    for label in (kind, other):
        certificate = certificate_for(pki.folder, backend.public_key(label), f"HSM gateway {label}")
        certificates[label] = work / f"{label}.pem"
        certificates[label].write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    cert = certificates[kind]
    if mode == "refusals":
        said = await refusals(work, library, cert, certificates[other])
        (work / "errors.json").write_text(json.dumps(said))
        return
    if mode == "cli":
        (work / "exits.json").write_text(
            json.dumps(sign_on_the_command_line(library, work, fapiao))
        )
        return
    shutil.copy(cert, work / "signer.pem")

    def adjust(settings: Settings) -> Settings:
        settings = settings.with_section("policy", checkpoint_every=1)
        return replace(
            settings,
            signing=signing(library, cert, kind, chain=(pki.path("chain.pem"),)),
            pipeline=PipelineSettings(validate=False, stage_processes=1),
        )

    full = FullStages(artefacts, pki)
    url = f"sqlite:///{work}/gateway.db"
    async for live in start_api(work / "api", url, full=full, adjust=adjust):
        body = await deliver_one(live, fapiao.read_bytes(), rounds=2400)
        assert body["status"] == "delivered", body["history"]
        base = f"/v1/documents/{body['id']}/output"
        _, _, delivered = await live.a.request("GET", f"{base}?kind=signed")
        _, _, signature = await live.a.request("GET", f"{base}?kind=signature")
        (work / "delivered.xml").write_bytes(delivered)
        (work / "signature.xml").write_bytes(signature)
        body_signer = load_body_signer(live.services.settings)
        assert body_signer is not None
        (work / "body.jws").write_text(body_signer.sign_detached(b"{}"))
        assert live.services.ledger is not None
        entries, head, marks = await live.services.ledger.chain_state()
        assert head is not None
        trusted = x509.load_pem_x509_certificate(cert.read_bytes())
        report = verify_chain(entries, head, marks, signature_checker([trusted]))
        (work / "checkpoints.json").write_text(
            json.dumps({"marks": len(marks), "ok": report.ok, "verified": report.checkpoints})
        )


if __name__ == "__main__":
    library, artefacts, work, fapiao = (Path(a) for a in sys.argv[1:5])
    asyncio.run(main(library, artefacts, work, fapiao, sys.argv[5]))

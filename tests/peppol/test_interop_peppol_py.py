"""Interoperability with code we did not write: ``peppol-py`` (PyPI), a Peppol AS4 sender.

peppol-py builds the SBDH, the ebMS UserMessage, the WS-Security signature (python-xmlsec)
and the encryption of the gzipped payload (the ``xmlsec1`` command, version 1.3 or later,
for AES-128-GCM with RSA-OAEP MGF1-SHA256) itself, and posts the message with ``requests``;
it accepts only an HTTP 200 carrying an ebMS Receipt. Its messages go, over TLS on
127.0.0.1, to a receiving gateway (corner 3), which must answer with its signed receipt, store
the document once (a repeat is a duplicate) and hand it to the local system.

Debian's ``xmlsec1`` is 1.2, which lacks MGF1-SHA256, so the command peppol-py runs is a
faithful stand-in for ``xmlsec1 --encrypt``: the same libxmlsec1 (1.3, bundled with
python-xmlsec) encrypting into peppol-py's own template. Everything else is peppol-py's code.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from pathlib import Path

import pytest
from lxml import etree
from peppol_py.as4_sender import (
    get_headers_and_body_for_posting_as4_document,
    post_edelivery_as4_document,
)
from peppol_py.exception import SendPeppolError
from peppol_py.sender import (
    get_document_type_from_ubl,
    wrap_ubl_in_peppol_standard_business_document_header,
)

from adapters.peppol.identifiers import PINT_PROCESS, profile_document_type
from gateway.signing.peppol_pki import PeppolTestPki
from gateway.testing.tls import TlsFiles
from tests.peppol.as4_gateway import LOCAL, GatewayAp
from tests.peppol.conftest import with_endpoint

EXAMPLES = "openpeppol-peppol-bis-invoice-3/rules/examples"
XMLSEC_ENCRYPT = '''#!{python}
"""``xmlsec1 --encrypt --pubkey-cert-pem CERT --session-key aes-128 --binary-data /dev/stdin
--lax-key-search TEMPLATE`` as peppol-py calls it, by libxmlsec1 1.3 (python-xmlsec)."""
import sys

import xmlsec
from lxml import etree

args = sys.argv[1:]
assert args[0] == "--encrypt" and "--session-key" in args, args
certificate = args[args.index("--pubkey-cert-pem") + 1]
manager = xmlsec.KeysManager()
manager.add_key(xmlsec.Key.from_file(certificate, xmlsec.constants.KeyDataFormatCertPem, None))
context = xmlsec.EncryptionContext(manager)
context.key = xmlsec.Key.generate(
    xmlsec.constants.KeyDataAes, 128, xmlsec.constants.KeyDataTypeSession
)
template = etree.parse(args[-1]).getroot()
encrypted = context.encrypt_binary(template, sys.stdin.buffer.read())
sys.stdout.buffer.write(etree.tostring(encrypted))
'''


@pytest.fixture
def xmlsec_command(tmp_path: Path) -> Path:
    path = tmp_path / "xmlsec1"
    path.write_text(XMLSEC_ENCRYPT.format(python=sys.executable), encoding="utf-8")
    path.chmod(0o755)
    return path


def peppol_py_message(
    pki: PeppolTestPki,
    ubl: bytes,
    xmlsec_command: Path,
    *,
    document_type: str | None = None,
    process: str | None = None,
) -> tuple[bytes, dict[str, str]]:
    """The request peppol-py's ``send_peppol_document`` makes for ``ubl`` to our AP (its SMP
    look-up and Peppol-root certificate check left out: the receiver is given); the document
    type and process in the SBDH and the AS4 header are the document's own unless given."""
    document = etree.fromstring(ubl)
    endpoint = document.find("./{*}AccountingSupplierParty/{*}Party/{*}EndpointID")
    assert endpoint is not None
    sender_id = f"{endpoint.get('schemeID')}:{endpoint.text}"
    country = document.findtext(
        "./{*}AccountingSupplierParty/{*}Party/{*}PostalAddress/{*}Country/{*}IdentificationCode"
    )
    document_type = document_type or get_document_type_from_ubl(
        document, document_type_version="2.1"
    )
    process = process or document.findtext("./{*}ProfileID")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    content, wrapped = wrap_ubl_in_peppol_standard_business_document_header(
        document, now, document_type, process, sender_id, country, LOCAL.value
    )
    body, headers = get_headers_and_body_for_posting_as4_document(
        content,
        wrapped,
        now,
        document_type,
        process,
        sender_id,
        LOCAL.value,
        "PSG000002",
        str(xmlsec_command),
        str(pki.path("ap-sender.key.pem")),
        None,
        pki.path("ap-sender.pem").read_bytes(),
        pki.path("ap-receiver.pem").read_bytes(),
        "PSG000001",
    )
    return body, headers


async def _post(url: str, body: bytes, headers: dict[str, str]) -> None:
    """peppol-py's own POST: raises unless the answer is a 200 with an ebMS Receipt."""
    await asyncio.to_thread(post_edelivery_as4_document, url, body, headers, 60, "peppol-py")


@pytest.mark.parametrize("name", ["base-example.xml", "base-creditnote-correction.xml"])
async def test_peppol_py_sends_and_accepts_our_receipt_once(
    ap: GatewayAp,
    pki: PeppolTestPki,
    tls: TlsFiles,
    reference: Path,
    xmlsec_command: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls.ca))
    ubl = with_endpoint(
        (reference / EXAMPLES / name).read_bytes(), "AccountingCustomerParty", LOCAL
    )
    body, headers = peppol_py_message(pki, ubl, xmlsec_command)
    await _post(ap.url, body, headers)
    await _post(ap.url, body, headers)  # the same message again: the first receipt again
    (stored,) = await ap.services.store.list_inbound()
    assert stored.metadata["peppol"]["c1_country"] == etree.fromstring(ubl).findtext(
        ".//{*}AccountingSupplierParty//{*}Country/{*}IdentificationCode"
    )
    await ap.drain()
    delivered = [p for p in ap.received.iterdir() if p.suffix == ".xml"]
    assert len(delivered) == 1
    assert etree.fromstring(delivered[0].read_bytes()).findtext("{*}ID") == etree.fromstring(
        ubl
    ).findtext("{*}ID")


async def test_peppol_py_reads_our_error_for_a_message_we_cannot_decrypt(
    ap: GatewayAp,
    pki: PeppolTestPki,
    tls: TlsFiles,
    reference: Path,
    tmp_path: Path,
    xmlsec_command: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Encrypted for another AP's key: our signed ebMS error, which peppol-py reports with
    its detail, and nothing stored."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls.ca))
    ubl = with_endpoint(
        (reference / EXAMPLES / "base-example.xml").read_bytes(), "AccountingCustomerParty", LOCAL
    )
    wrong = tmp_path / "pki"
    wrong.mkdir()
    (wrong / "ap-receiver.pem").write_bytes(pki.path("ap-sender.pem").read_bytes())
    (wrong / "ap-sender.pem").write_bytes(pki.path("ap-sender.pem").read_bytes())
    (wrong / "ap-sender.key.pem").write_bytes(pki.path("ap-sender.key.pem").read_bytes())
    misdirected = _Paths(wrong)
    body, headers = peppol_py_message(misdirected, ubl, xmlsec_command)  # type: ignore[arg-type]
    with pytest.raises(SendPeppolError, match="Endpoint error") as caught:
        await _post(ap.url, body, headers)
    endpoint = caught.value.endpoint  # type: ignore[attr-defined]
    assert endpoint["status_code"] == 200 and 'errorCode="EBMS:0102"' in endpoint["error_xml"]
    assert await ap.services.store.list_inbound() == []


async def test_peppol_py_gets_our_error_for_an_envelope_naming_another_document_type(
    ap: GatewayAp,
    pki: PeppolTestPki,
    tls: TlsFiles,
    reference: Path,
    xmlsec_command: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A BIS 3 invoice enveloped by peppol-py as a PINT invoice (a document type and process
    this AP serves, the SBDH and the AS4 Action/Service agreeing with each other): the
    envelope lies about its payload, so our signed ``EBMS:0004`` error names the SBDH's
    DOCUMENTID and the payload's CustomizationID, and nothing is stored."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls.ca))
    ubl = with_endpoint(
        (reference / EXAMPLES / "base-example.xml").read_bytes(), "AccountingCustomerParty", LOCAL
    )
    pint = profile_document_type("pint", credit_note=False).value
    body, headers = peppol_py_message(
        pki, ubl, xmlsec_command, document_type=pint, process=PINT_PROCESS.value
    )
    with pytest.raises(SendPeppolError, match="Endpoint error") as caught:
        await _post(ap.url, body, headers)
    endpoint = caught.value.endpoint  # type: ignore[attr-defined]
    assert endpoint["status_code"] == 200 and 'errorCode="EBMS:0004"' in endpoint["error_xml"]
    bis3 = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
    assert bis3 in endpoint["error_xml"]
    assert await ap.services.store.list_inbound() == []


class _Paths:
    """The file names :func:`peppol_py_message` reads, from another folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, name: str) -> Path:
        return self.folder / name

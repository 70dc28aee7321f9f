"""Our AS4 WS-Security signatures verified by code we did not write: the JDK's XML-DSig
implementation (JSR 105) for the UserMessage (its ``eb:Messaging`` and ``S12:Body``
references, and the payload's ``cid:`` reference with the SwA Attachment-Content-Signature
Transform over the compressed payload, as the receiver has it after decrypting), and for
the signed Receipt and Error signals; python-xmlsec (libxmlsec1) for the signals as well.
peppol-py, the other independent AS4 stack in the tests, does not verify what it receives.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import xmlsec
from lxml import etree

from adapters.peppol import as4, mime, ns, signals
from adapters.peppol.errors import EbmsError
from gateway.signing.peppol_pki import PeppolTestPki
from gateway.signing.truststore import TrustStore
from tests.peppol.conftest import credentials
from tests.peppol.test_as4_codec import header
from tests.signing.jdk_xmldsig import compile_checker, jdk_verdict

PAYLOAD = b"<StandardBusinessDocument>hello</StandardBusinessDocument>"
WSU_ID = ((ns.WSU, "Id"),)


@pytest.fixture(scope="module")
def jdk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compile_checker(tmp_path_factory.mktemp("jdk"))


@pytest.mark.parametrize("encrypted", [True, False])
def test_the_jdk_verifies_our_user_message(
    jdk: Path, pki: PeppolTestPki, tmp_path: Path, encrypted: bool
) -> None:
    receiver = pki.receiver.cert if encrypted else None
    sent = as4.build_user_message(PAYLOAD, header(), credentials(pki.sender), receiver)
    soap, _ = mime.split_message(sent.content_type, sent.body)
    (cid,) = [r.uri for r in sent.signed_references if r.uri.startswith("cid:")]
    attachment = {cid: as4.compress(PAYLOAD)}
    verdict = jdk_verdict(jdk, bytes(soap), pki.sender.cert, tmp_path, ids=WSU_ID, data=attachment)
    assert verdict == "VALID"
    changed = {cid: as4.compress(PAYLOAD.replace(b"hello", b"HELLO"))}
    verdict = jdk_verdict(jdk, bytes(soap), pki.sender.cert, tmp_path, ids=WSU_ID, data=changed)
    assert verdict.startswith("INVALID: signature value ok") and f"{cid} fails" in verdict


def _signals(pki: PeppolTestPki, ap_trust: TrustStore) -> list[bytes]:
    sent = as4.build_user_message(PAYLOAD, header(), credentials(pki.sender), pki.receiver.cert)
    incoming = as4.parse_user_message(
        sent.content_type,
        sent.body,
        credentials=credentials(pki.receiver),
        check_signer=ap_trust.check,
    )
    error = EbmsError("EBMS:0004", "failure", description="something went wrong")
    return [
        signals.build_receipt(incoming, credentials(pki.receiver)),
        signals.build_error("m-1@lingang", [error], credentials(pki.receiver)),
    ]


def test_the_jdk_verifies_our_signals(
    jdk: Path, pki: PeppolTestPki, ap_trust: TrustStore, tmp_path: Path
) -> None:
    for signal in _signals(pki, ap_trust):
        assert jdk_verdict(jdk, signal, pki.receiver.cert, tmp_path, ids=WSU_ID) == "VALID"


def test_python_xmlsec_verifies_our_signals(
    pki: PeppolTestPki, ap_trust: TrustStore, tmp_path: Path
) -> None:
    (tmp_path / "receiver.pem").write_bytes(pki.path("ap-receiver.pem").read_bytes())
    for signal in _signals(pki, ap_trust):
        root = etree.fromstring(signal)
        for element in root.iter():
            if element.get(f"{{{ns.WSU}}}Id"):
                xmlsec.tree.add_ids(element, ["Id"])
        context = xmlsec.SignatureContext()
        context.key = xmlsec.Key.from_file(
            str(tmp_path / "receiver.pem"), xmlsec.constants.KeyDataFormatCertPem
        )
        context.verify(next(root.iter(f"{{{ns.DS}}}Signature")))
        signal_message = next(root.iter(f"{{{ns.EB}}}SignalMessage"))
        signal_message.append(etree.Element(f"{{{ns.EB}}}Extra"))
        with pytest.raises(xmlsec.Error):
            context.verify(next(root.iter(f"{{{ns.DS}}}Signature")))

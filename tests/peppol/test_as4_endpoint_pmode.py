"""The Peppol P-Mode at the AS4 endpoint: a signed, encrypted message whose header breaks a
value the Peppol AS4 profile 2.0.3 fixes is refused with the ebMS error for it, over TLS on
127.0.0.1, and nothing is stored.

Profile text (``openpeppol-edec-as4/docs/specification``): MPC is the default MPC
(``peppol/08-mpc.adoc``); One-Way/Push only, so no RefToMessageId
(``01-exchange-patterns.adoc``); From / To carry one PartyId of type
``urn:fdc:peppol.eu:2017:identifiers:ap`` with the initiator / responder role
(``05-party-identification.adoc``); AgreementRef has neither ``type`` nor ``pmode``
(``03-agreement.adoc``); ``trackingIdentifier`` MUST NOT be used; Service carries its type and
Action is «scheme id»::«document type id value» (``06-service-action-role.adoc``); every payload
is a gzip-compressed MIME attachment (``10-message-packaging.adoc``; AS4 compression: the
CompressionType and MimeType part properties)."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from adapters.peppol import as4, ns
from adapters.peppol.ns import q
from adapters.peppol.receiver import ANSWERED
from gateway.signing.peppol_pki import PeppolTestPki
from gateway.signing.truststore import TrustStore
from gateway.testing.tls import TlsFiles
from tests.peppol.as4_gateway import INVOICE, GatewayAp, post, probe_message

Edit = Callable[[etree._Element], None]
USER = "eb:UserMessage"
FROM = f"{USER}/eb:PartyInfo/eb:From"
TO = f"{USER}/eb:PartyInfo/eb:To"
COLLABORATION = f"{USER}/eb:CollaborationInfo"
PART = f"{USER}/eb:PayloadInfo/eb:PartInfo"


def _at(messaging: etree._Element, path: str) -> etree._Element:
    found = messaging.find(path, ns.NSMAP)
    assert found is not None, path
    return found


def _set(path: str, name: str, value: str) -> Edit:
    return lambda messaging: _at(messaging, path).set(name, value)


def _drop(path: str, name: str) -> Edit:
    def edit(messaging: etree._Element) -> None:
        del _at(messaging, path).attrib[name]

    return edit


def _text(path: str, value: str) -> Edit:
    def edit(messaging: etree._Element) -> None:
        _at(messaging, path).text = value

    return edit


def _property(name: str, value: str) -> Edit:
    def edit(messaging: etree._Element) -> None:
        props = _at(messaging, f"{USER}/eb:MessageProperties")
        etree.SubElement(props, q("eb", "Property"), name=name).text = value

    return edit


def _part_property(name: str, value: str | None) -> Edit:
    """Set (``None``: remove) the PartInfo's part property ``name``."""

    def edit(messaging: etree._Element) -> None:
        for prop in _at(messaging, f"{PART}/eb:PartProperties"):
            if prop.get("name") == name:
                if value is None:
                    prop.getparent().remove(prop)  # type: ignore[union-attr]
                else:
                    prop.text = value

    return edit


def _ref_to(messaging: etree._Element) -> None:
    message_id = _at(messaging, f"{USER}/eb:MessageInfo/eb:MessageId")
    message_id.addnext(etree.Element(q("eb", "RefToMessageId")))
    _at(messaging, f"{USER}/eb:MessageInfo/eb:RefToMessageId").text = "earlier@example"


def _second_user_message(messaging: etree._Element) -> None:
    messaging.append(copy.deepcopy(_at(messaging, USER)))


def _second_party_id(messaging: etree._Element) -> None:
    party_id = _at(messaging, f"{FROM}/eb:PartyId")
    extra = copy.deepcopy(party_id)
    extra.text = "PSG000077"
    party_id.addnext(extra)


def _message(
    pki: PeppolTestPki, document: bytes, edit: Edit, *, body_content: bool = False
) -> tuple[bytes, str]:
    """The invoice as a signed and encrypted UserMessage, its ``eb:Messaging`` edited (and,
    with ``body_content``, an element put in the SOAP Body) before signing, so only the edit
    is wrong."""
    return probe_message(pki, document, "probe", edit_messaging=edit, body_content=body_content)


CASES: dict[str, tuple[Edit, str, str]] = {
    "a RefToMessageId (Two-Way)": (_ref_to, "EBMS:0010", "as4.pmode.one-way"),
    "two UserMessages": (_second_user_message, "EBMS:0003", "as4.header.one-message"),
    "another MPC": (_set(USER, "mpc", "http://example.org/mpc"), "EBMS:0010", "as4.pmode.mpc"),
    "From Role responder": (_text(f"{FROM}/eb:Role", ns.ROLE_RESPONDER), "EBMS:0010", "as4.pmode.role"),
    "To Role initiator": (_text(f"{TO}/eb:Role", ns.ROLE_INITIATOR), "EBMS:0010", "as4.pmode.role"),
    "From PartyId without type": (_drop(f"{FROM}/eb:PartyId", "type"), "EBMS:0010", "as4.pmode.party-type"),
    "To PartyId of another type": (
        _set(f"{TO}/eb:PartyId", "type", "urn:oasis:names:tc:ebcore:partyid-type:unregistered"),
        "EBMS:0010", "as4.pmode.party-type"),
    "two From PartyIds": (_second_party_id, "EBMS:0003", "as4.pmode.party-id"),
    "AgreementRef with type": (
        _set(f"{COLLABORATION}/eb:AgreementRef", "type", "x"), "EBMS:0010", "as4.pmode.agreement"),
    "AgreementRef with pmode": (
        _set(f"{COLLABORATION}/eb:AgreementRef", "pmode", "x"), "EBMS:0010", "as4.pmode.agreement"),
    "Service without type": (
        _drop(f"{COLLABORATION}/eb:Service", "type"), "EBMS:0010", "as4.pmode.service-type"),
    "Action without its scheme": (
        lambda m: _text(f"{COLLABORATION}/eb:Action",
                        (_at(m, f"{COLLABORATION}/eb:Action").text or "").split("::", 1)[1])(m),
        "EBMS:0009", "as4.header.Action"),
    "trackingIdentifier": (_property("trackingIdentifier", "t-1"), "EBMS:0010", "as4.pmode.tracking-identifier"),
    "originalSender of another type": (
        _set(f"{USER}/eb:MessageProperties/eb:Property[@name='originalSender']", "type", "urn:other"),
        "EBMS:0003", "as4.header.originalSender-type"),
    "finalRecipient twice": (
        _property("finalRecipient", "0195:SGUEN209999999Z"), "EBMS:0003", "as4.header.finalRecipient-repeated"),
    "no CompressionType": (_part_property("CompressionType", None), "EBMS:0010", "as4.pmode.compression"),
    "CompressionType not gzip": (
        _part_property("CompressionType", "application/x-bzip2"), "EBMS:0003", "as4.compression-type"),
    "no MimeType": (_part_property("MimeType", None), "EBMS:0003", "as4.part-mime-type"),
    "PartInfo naming no attachment": (
        _set(PART, "href", "cid:missing@example"), "EBMS:0011", "as4.part-missing"),
    "external payload": (_set(PART, "href", "https://example.org/invoice.xml"), "EBMS:0011", "as4.external-payload"),
    "payload in the Body": (_drop(PART, "href"), "EBMS:0003", "as4.payload-in-body"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
async def test_a_header_off_the_peppol_pmode_is_refused_and_nothing_stored(
    ap: GatewayAp,
    pki: PeppolTestPki,
    tls: TlsFiles,
    ap_trust: TrustStore,
    reference: Path,
    caplog: pytest.LogCaptureFixture,
    case: str,
) -> None:
    caplog.set_level(logging.INFO)
    edit, code, rule = CASES[case]
    body, content_type = _message(pki, (reference / INVOICE).read_bytes(), edit)
    answer = await post(ap.url, body, content_type, tls.client_context())
    assert answer.status == ANSWERED, answer.body[:400]
    signal = answer.signal(ap_trust)
    assert signal.receipt is None
    assert [e.code for e in signal.errors] == [code]
    assert signal.errors[0].severity == "failure"
    assert await ap.services.store.list_inbound() == []
    assert any(
        f"'rule': '{rule}'" in repr(r.__dict__)
        for r in caplog.records
        if r.getMessage() == "AS4 message refused"
    )


async def test_content_in_the_soap_body_is_refused_not_dropped(
    ap: GatewayAp, pki: PeppolTestPki, tls: TlsFiles, ap_trust: TrustStore, reference: Path
) -> None:
    """A signed SOAP Body with content (the profile: every payload is a MIME attachment)."""
    body, content_type = _message(
        pki, (reference / INVOICE).read_bytes(), lambda _: None, body_content=True
    )
    answer = await post(ap.url, body, content_type, tls.client_context())
    assert answer.status == ANSWERED
    assert answer.error_codes(ap_trust) == [("EBMS:0003", "")]
    assert "SOAP Body" in answer.signal(ap_trust).errors[0].description
    assert await ap.services.store.list_inbound() == []


async def test_a_compression_type_in_capitals_is_gzip(
    ap: GatewayAp, pki: PeppolTestPki, tls: TlsFiles, ap_trust: TrustStore, reference: Path
) -> None:
    """MIME types compare case-insensitively (RFC 2045 §5.1)."""
    edit = _part_property("CompressionType", "Application/GZIP")
    body, content_type = _message(pki, (reference / INVOICE).read_bytes(), edit)
    answer = await post(ap.url, body, content_type, tls.client_context())
    assert answer.status == 200 and answer.signal(ap_trust).receipt is not None


async def test_the_participant_scheme_is_case_insensitive(
    ap: GatewayAp, pki: PeppolTestPki, tls: TlsFiles, ap_trust: TrustStore, reference: Path
) -> None:
    """Peppol identifier schemes compare case-insensitively (as ``ParticipantId.parse``
    reads an ``ISO6523-ACTORID-UPIS::`` prefix)."""
    edit = _set(
        f"{USER}/eb:MessageProperties/eb:Property[@name='finalRecipient']",
        "type",
        "ISO6523-ACTORID-UPIS",
    )
    body, content_type = _message(pki, (reference / INVOICE).read_bytes(), edit)
    answer = await post(ap.url, body, content_type, tls.client_context())
    assert answer.status == 200 and answer.signal(ap_trust).receipt is not None


@pytest.mark.parametrize("mpc", [None, ns.DEFAULT_MPC])
async def test_the_default_mpc_named_or_left_out_is_received(
    ap: GatewayAp,
    pki: PeppolTestPki,
    tls: TlsFiles,
    ap_trust: TrustStore,
    reference: Path,
    mpc: str | None,
) -> None:
    def edit(messaging: etree._Element) -> None:
        if mpc is not None:
            _at(messaging, USER).set("mpc", mpc)

    body, content_type = _message(pki, (reference / INVOICE).read_bytes(), edit)
    answer = await post(ap.url, body, content_type, tls.client_context())
    assert answer.status == 200
    assert answer.signal(ap_trust).receipt is not None


def test_two_messaging_headers_are_an_invalid_header(reference: Path) -> None:
    root = as4.parse_soap(
        (reference / "phax-phase4-examples/usermessage/test-2023-03-15.xml").read_bytes()
    )
    soap_header = root.find("S12:Header", ns.NSMAP)
    assert soap_header is not None
    soap_header.append(copy.deepcopy(_at(soap_header, "eb:Messaging")))
    with pytest.raises(as4.As4Invalid) as caught:
        as4.parse_user_message(
            "application/soap+xml",
            etree.tostring(root),
            credentials=None,
            check_signer=lambda _: None,
        )
    assert (caught.value.ebms_code, caught.value.rule) == (
        "EBMS:0009",
        "as4.header.Messaging-repeated",
    )


def test_a_pull_request_is_feature_not_supported() -> None:
    """One-Way/Pull SHALL NOT be used in Peppol (``01-exchange-patterns.adoc``)."""
    pull = (
        f'<S12:Envelope xmlns:S12="{ns.SOAP12}" xmlns:eb="{ns.EB}"><S12:Header>'
        '<eb:Messaging S12:mustUnderstand="true"><eb:SignalMessage><eb:MessageInfo>'
        "<eb:Timestamp>2026-12-05T08:00:00Z</eb:Timestamp><eb:MessageId>pull-1@example"
        f'</eb:MessageId></eb:MessageInfo><eb:PullRequest mpc="{ns.DEFAULT_MPC}"/>'
        "</eb:SignalMessage></eb:Messaging></S12:Header><S12:Body/></S12:Envelope>"
    )
    with pytest.raises(as4.As4Invalid) as caught:
        as4.parse_user_message(
            "application/soap+xml", pull.encode(), credentials=None, check_signer=lambda _: None
        )
    assert (caught.value.ebms_code, caught.value.rule) == ("EBMS:0008", "as4.pull-not-supported")

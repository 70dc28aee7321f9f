"""The SBDH's Sender and Receiver are the document's own parties where the Peppol enveloping
rules say so (BIS Billing 3.0 BR-SBDH-1..4, PINT's enveloping compliance): refused before
anything is sent when they would differ, and answered ``EBMS:0004`` by the receiving access
point — over AS4 on TLS — for UBL invoices and credit notes and for BIS 3 CII invoices alike.
Reports and MLS, which the rules do not cover, keep the parties they are given."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path

import pytest
from lxml import etree

from adapters.peppol.document_facts import (
    CII_ENDPOINTS,
    UBL_ENDPOINTS,
    document_facts,
    payload_facts,
)
from adapters.peppol.envelope_parties import c1_country, enveloped_parties
from adapters.peppol.identifiers import (
    BIS3_CII_INVOICE,
    BIS3_INVOICE,
    BIS3_PROCESS,
    PINT_SG_CREDIT_NOTE,
    ParticipantId,
)
from adapters.peppol.sbdh import build_sbdh, header_for_document, parse_sbdh
from gateway.errors import FieldError
from gateway.signing.peppol_pki import PeppolTestPki
from gateway.signing.truststore import TrustStore
from gateway.testing.tls import TlsFiles
from tests.peppol.as4_gateway import (
    CREDIT_NOTE,
    LOCAL,
    SUPPLIER,
    Side,
    document_message,
    post,
    running_gateway,
    sbdh_header,
)
from tests.peppol.conftest import with_endpoint

BIS3 = "openpeppol-peppol-bis-invoice-3/rules/examples/base-example.xml"
SELF_BILLING = (
    "phax-phive-rules/openpeppol-billing-3.0.21-2026.5/examples/selfbilling/SB-base-example.xml"
)
SELF_BILLED_CREDIT_NOTE = (
    "phax-phive-rules/openpeppol-billing-3.0.21-2026.5/examples/selfbilling/"
    "SB-base-creditnote-correction.xml"
)
PINT_SG_INVOICE_EXAMPLE = (
    "openpeppol-pint-sg-1.4.1/trn-invoice/example/PINT-SG INV example 02 - full valid invoice 1.xml"
)
TSR = "phax-peppol-reporting/testfiles/tsr/good"
MLS = "openpeppol-mls-1.1.0/trn-mls/example/MessageLevelStatus_Example_AP.xml"
BIS3_SELLER = ParticipantId("0088:9482348239847239874")
BIS3_BUYER = ParticipantId("0002:FR23342")
CII_SELLER = ParticipantId("0199:5493001KJTIIGC8Y1S09")
CII_BUYER = ParticipantId("0195:SGUEN199912345A")
"""The parties of ``exempt-services.xml`` converted to BIS 3 CII (``tests/data/partners.toml``)."""
OTHER = ParticipantId("0195:SGUEN209999999Z")
BIS3_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
BILLING = b"urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"


def _cii_invoice() -> bytes:
    from gateway.convert import convert
    from gateway.partners import PartnerDirectory
    from tests.service.test_real_flow import PARTNERS, SAMPLES

    fapiao = (SAMPLES / "exempt-services.xml").read_bytes()
    return convert(fapiao, "bis3-cii", PartnerDirectory.load(PARTNERS)).xml


def _bis3(reference: Path, profile: bytes = BILLING, customization: bytes = b"") -> bytes:
    data = (reference / BIS3).read_bytes().replace(BILLING, profile)
    return data.replace(BIS3_ID.encode(), customization) if customization else data


@pytest.mark.parametrize(
    ("case", "covered"),
    [
        ("BIS 3 billing", ("BR-SBDH-2", "seller", "BR-SBDH-1", "buyer")),
        ("BIS 3 billing with response", ("BR-SBDH-2", "seller", "BR-SBDH-1", "buyer")),
        ("BIS 3 self-billing", ("BR-SBDH-4", "buyer", "BR-SBDH-3", "seller")),
        ("PINT SG", ("PINT enveloping compliance", "seller", "PINT enveloping compliance", "buyer")),
        ("PINT self-billing", ("PINT self-billing enveloping compliance", "buyer",
                               "PINT self-billing enveloping compliance", "seller")),
        ("BIS 3 CII", ("BR-SBDH-2", "seller", "BR-SBDH-1", "buyer")),
        ("BIS 3 with a France process", None),
        ("EN 16931 UBL, not BIS 3", None),
        ("TSR", None),
        ("MLS", None),
    ],
)  # fmt: skip
def test_which_documents_the_rules_hold_to_which_parties(
    reference: Path, case: str, covered: tuple[str, str, str, str] | None
) -> None:
    """BR-SBDH-1/2 cover the BIS 3 billing processes only (not France's), BR-SBDH-3/4
    self-billing the other way round; PINT says the same of every PINT specification."""
    pint_sg = (reference / PINT_SG_INVOICE_EXAMPLE).read_bytes()
    payload = {
        "BIS 3 billing": lambda: _bis3(reference),
        "BIS 3 billing with response": lambda: _bis3(
            reference, b"urn:peppol:bis:billing_with_response"
        ),
        "BIS 3 self-billing": lambda: (reference / SELF_BILLING).read_bytes(),
        "PINT SG": lambda: pint_sg,
        "PINT self-billing": lambda: pint_sg.replace(
            b"urn:peppol:pint:billing-1@sg-1", b"urn:peppol:pint:selfbilling-1@sg-1"
        ),
        "BIS 3 CII": _cii_invoice,
        "BIS 3 with a France process": lambda: _bis3(
            reference, b"urn:peppol:france:billing:regulated"
        ),
        "EN 16931 UBL, not BIS 3": lambda: _bis3(
            reference, customization=b"urn:cen.eu:en16931:2017"
        ),
        "TSR": lambda: next((reference / TSR).glob("*.xml")).read_bytes(),
        "MLS": lambda: (reference / MLS).read_bytes(),
    }[case]()
    facts = document_facts(payload)
    parties = enveloped_parties(facts)
    if covered is None:
        assert parties is None
        return
    assert parties is not None
    sender, receiver = parties
    assert (sender.source, sender.role, receiver.source, receiver.role) == covered
    endpoints = CII_ENDPOINTS if facts.is_cii else UBL_ENDPOINTS
    seller_path, buyer_path = endpoints.values()
    assert sender.path == (seller_path if sender.role == "seller" else buyer_path)
    assert (sender.participant, receiver.participant) == (
        (facts.supplier, facts.customer)
        if sender.role == "seller"
        else (facts.customer, facts.supplier)
    )


def test_our_header_is_the_documents_parties_and_an_other_one_is_refused(
    reference: Path,
) -> None:
    """Before anything is sent: a sender or receiver given must be the document's (named by
    the rule and the document's element); the same participant spelt in another case is
    the same participant; a configured default sender never replaces the document's."""
    facts = document_facts(_bis3(reference))
    header = header_for_document(facts, default_sender=OTHER)
    assert (header.sender, header.receiver) == (BIS3_SELLER, BIS3_BUYER)
    for given, rule, field in (
        ({"sender": OTHER}, "peppol.sbdh.sender-endpoint", UBL_ENDPOINTS["AccountingSupplierParty"]),
        ({"receiver": OTHER}, "peppol.sbdh.receiver-endpoint", UBL_ENDPOINTS["AccountingCustomerParty"]),
    ):  # fmt: skip
        with pytest.raises(FieldError) as caught:
            header_for_document(facts, **given)  # type: ignore[arg-type]
        assert (caught.value.rule, caught.value.field) == (rule, field)
        assert "BR-SBDH" in caught.value.message and str(OTHER) in caught.value.message
    same = header_for_document(facts, receiver=ParticipantId("0002:fr23342"))
    assert same.receiver == BIS3_BUYER  # written as the document writes it
    self_billed = header_for_document(document_facts((reference / SELF_BILLING).read_bytes()))
    assert (self_billed.sender, self_billed.receiver) == (BIS3_BUYER, BIS3_SELLER)
    cii = document_facts(_cii_invoice())
    with pytest.raises(FieldError) as other_buyer:
        header_for_document(cii, receiver=LOCAL)
    assert (other_buyer.value.rule, other_buyer.value.field) == (
        "peppol.sbdh.receiver-endpoint",
        CII_ENDPOINTS["BuyerTradeParty"],
    )
    france = document_facts(_bis3(reference, b"urn:peppol:france:billing:regulated"))
    assert header_for_document(france, sender=OTHER).sender == OTHER  # not covered


def test_a_report_or_an_mls_keeps_the_parties_it_is_given(reference: Path) -> None:
    """No endpoint in a TSR, SPIS ids in an MLS: neither is an invoice the rules cover, so the
    SBDH names who it is given (the reporting AP and OpenPeppol; C3 and C2) and reads back."""
    tsr = next((reference / TSR).glob("*.xml")).read_bytes()
    header = header_for_document(
        document_facts(tsr), sender=ParticipantId("0242:000360"),
        receiver=ParticipantId("9925:be0848934496"), country_c1="SG",
    )  # fmt: skip
    assert parse_sbdh(build_sbdh(tsr, header)).header.sender == ParticipantId("0242:000360")
    mls = (reference / MLS).read_bytes()
    facts = document_facts(mls)
    header = header_for_document(
        facts, sender=ParticipantId("0242:123456"), receiver=ParticipantId("0242:234567"),
        country_c1="SG",
    )  # fmt: skip
    back = parse_sbdh(build_sbdh(mls, replace(header, receiver=OTHER))).header
    assert back.receiver == OTHER  # the MLS rules say nothing of its SBDH's parties


@pytest.mark.parametrize(
    ("document", "kind"),
    [("UBL", "Sender"), ("UBL", "Receiver"), ("CII", "Sender"), ("CII", "Receiver")],
)
def test_a_received_sbdh_naming_other_parties_is_refused(
    reference: Path, document: str, kind: str
) -> None:
    payload = _bis3(reference) if document == "UBL" else _cii_invoice()
    header = header_for_document(document_facts(payload))
    parse_sbdh(build_sbdh(payload, header))
    lower = replace(header, receiver=ParticipantId(header.receiver.value.lower()))
    parse_sbdh(build_sbdh(payload, lower))  # participant values compare case-insensitively
    other = replace(header, **{kind.lower(): OTHER})
    with pytest.raises(FieldError) as caught:
        parse_sbdh(build_sbdh(payload, other))
    assert caught.value.field == f"StandardBusinessDocumentHeader/{kind}/Identifier"
    assert caught.value.rule == f"peppol.sbdh.{kind.lower()}-endpoint"
    assert ("BR-SBDH-2" if kind == "Sender" else "BR-SBDH-1") in caught.value.message


def test_an_address_that_is_no_participant_id_matches_no_sbdh_party(reference: Path) -> None:
    """An ``EM`` (e-mail) buyer address is an electronic address EN 16931 allows but no
    Peppol participant: a BIS 3 invoice's SBDH cannot match it (BR-SBDH-1, refused); a
    document the rules do not cover is received without a look at it."""
    e_mail = b'<cbc:EndpointID schemeID="EM">buyer@example.com</cbc:EndpointID>'
    buyer = b'<cbc:EndpointID schemeID="0002">FR23342</cbc:EndpointID>'
    for payload, refused in (
        (_bis3(reference), True),
        (_bis3(reference, customization=b"urn:cen.eu:en16931:2017"), False),
    ):
        header = header_for_document(document_facts(payload), profile="bis3")
        built = build_sbdh(payload.replace(buyer, e_mail), header)
        if not refused:
            parse_sbdh(built)
            continue
        with pytest.raises(FieldError) as caught:
            parse_sbdh(built)
        assert caught.value.rule == "peppol.sbdh.receiver-endpoint"
        assert "EM:buyer@example.com" in caught.value.message


@pytest.mark.parametrize(
    ("document", "kind"),
    [
        ("credit note", "Sender"),
        ("credit note", "Receiver"),
        ("CII", "Sender"),
        ("CII", "Receiver"),
    ],
)
async def test_the_receiving_ap_answers_other_parties_with_ebms_0004(
    tmp_path: Path,
    pki: PeppolTestPki,
    tls: TlsFiles,
    artefacts_home: Path,
    ap_trust: TrustStore,
    reference: Path,
    caplog: pytest.LogCaptureFixture,
    document: str,
    kind: str,
) -> None:
    """Over AS4 on TLS: the AS4 originalSender / finalRecipient agree with the SBDH and the
    SBDH Receiver is a participant this gateway serves, so what refuses the message is only
    that the SBDH names another party than the payload: ``EBMS:0004``, logged with the rule,
    nothing stored. The same document enveloped with its own parties is received."""
    caplog.set_level(logging.INFO)
    if document == "CII":
        body = _cii_invoice()
        right = sbdh_header(
            BIS3_CII_INVOICE, receiver=CII_BUYER, process=BIS3_PROCESS, sender=CII_SELLER,
            country_c1="CN",
        )  # fmt: skip
        wrong = replace(right, sender=OTHER) if kind == "Sender" else replace(right, receiver=LOCAL)
    else:
        body = (reference / CREDIT_NOTE).read_bytes()
        right = sbdh_header(PINT_SG_CREDIT_NOTE)
        assert (right.sender, right.receiver) == (SUPPLIER, LOCAL)
        wrong = replace(right, sender=OTHER)
    wrong_body = body
    if kind == "Receiver" and document == "credit note":
        # the SBDH names LOCAL, served here; the credit note's buyer is another one
        wrong_body = with_endpoint(body, "AccountingCustomerParty", OTHER)
        wrong = right
    side = Side(local=(f"importer={LOCAL.value}", f"buyer={CII_BUYER.value}"))
    async with running_gateway(
        tmp_path / "c3", pki=pki, tls=tls, artefacts_home=artefacts_home, side=side
    ) as ap:
        message = document_message(pki, wrong_body, wrong)
        answer = await post(ap.url, message.body, message.content_type, tls.client_context())
        assert answer.error_codes(ap_trust) == [("EBMS:0004", "")], answer.body[:400]
        assert kind in answer.signal(ap_trust).errors[0].description
        assert await ap.services.store.list_inbound() == []
        rule = f"'rule': 'peppol.sbdh.{kind.lower()}-endpoint'"
        assert any(rule in repr(r.__dict__) for r in caplog.records)
        message = document_message(pki, body, right)
        answer = await post(ap.url, message.body, message.content_type, tls.client_context())
        assert answer.signal(ap_trust).receipt is not None, answer.body[:400]
        assert len(await ap.services.store.list_inbound()) == 1


SELF_BILLING_ID = b"urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:selfbilling:3.0"
SELF_BILLING_PROCESS = b"urn:fdc:peppol.eu:2017:poacc:selfbilling:01:1.0"
_SB_BUYER_COUNTRY = b"<cbc:IdentificationCode>SE</cbc:IdentificationCode>"


def _c1_case(reference: Path, case: str) -> bytes:
    pint_sg = (reference / PINT_SG_INVOICE_EXAMPLE).read_bytes()
    buyer_sg = b"<cbc:IdentificationCode>SG</cbc:IdentificationCode> <!-- BT-55 -->"
    assert buyer_sg in pint_sg
    return {
        "BIS 3 invoice": lambda: _bis3(reference),
        "BIS 3 self-billed invoice": lambda: (reference / SELF_BILLING).read_bytes(),
        "BIS 3 self-billed credit note": lambda: (reference / SELF_BILLED_CREDIT_NOTE).read_bytes(),
        "PINT SG invoice": lambda: pint_sg,
        "PINT self-billed invoice": lambda: pint_sg.replace(
            b"urn:peppol:pint:billing-1@sg-1", b"urn:peppol:pint:selfbilling-1@sg-1"
        ).replace(buyer_sg, buyer_sg.replace(b"SG", b"MY")),
        "BIS 3 CII invoice": _cii_invoice,
        "BIS 3 CII self-billed invoice": lambda: (
            _cii_invoice()
            .replace(BIS3_ID.encode(), SELF_BILLING_ID)
            .replace(BILLING, SELF_BILLING_PROCESS)
        ),
        "EN 16931 UBL, not BIS 3": lambda: _bis3(
            reference, customization=b"urn:cen.eu:en16931:2017"
        ),
    }[case]()


@pytest.mark.parametrize(
    ("case", "c1"),
    [
        ("BIS 3 invoice", "GB"),
        ("BIS 3 self-billed invoice", "SE"),
        ("BIS 3 self-billed credit note", "SE"),
        ("PINT SG invoice", "SG"),
        ("PINT self-billed invoice", "MY"),
        ("BIS 3 CII invoice", "CN"),
        ("BIS 3 CII self-billed invoice", "SG"),
        ("EN 16931 UBL, not BIS 3", "GB"),
    ],
)
def test_country_c1_is_the_country_of_the_sending_party(
    reference: Path, case: str, c1: str
) -> None:
    """COUNTRY_C1 is the country of C1, the sending end user (Peppol Business Message Envelope
    2.0): the seller's of an invoice or credit note, the buyer's of a self-billed one (BIS 3
    BR-SBDH-4, PINT self-billing), whom the SBDH names as Sender — the document's country
    wins over the configured one. A document the enveloping rules do not cover keeps its
    seller's. The SBDH built reads back with it, and a received payload gives the same
    countries as the document sent."""
    payload = _c1_case(reference, case)
    facts = document_facts(payload)
    assert c1_country(facts) == c1
    header = header_for_document(facts, country_c1="ZW", profile="bis3")
    assert header.country_c1 == c1
    parties = enveloped_parties(facts)
    if parties is not None:
        sender = facts.customer if "self-billed" in case else facts.supplier
        assert header.sender == sender == parties[0].participant
    received = parse_sbdh(build_sbdh(payload, header))
    assert received.header.country_c1 == c1
    payload_side = payload_facts(etree.fromstring(payload))
    assert payload_side is not None
    assert (payload_side.seller_country, payload_side.buyer_country) == (
        facts.seller_country,
        facts.buyer_country,
    )


def test_a_self_billed_document_naming_no_buyer_country_takes_the_configured_one(
    reference: Path,
) -> None:
    """C1 of a self-billed invoice is the buyer: when the document names no buyer country the
    configured ``country_c1`` stands in, never the seller's (``GB``)."""
    payload = (reference / SELF_BILLING).read_bytes()
    assert payload.count(_SB_BUYER_COUNTRY) == 2  # the buyer's address and the delivery's
    no_buyer_country = payload.replace(_SB_BUYER_COUNTRY, b"", 1)
    facts = document_facts(no_buyer_country)
    assert (facts.seller_country, facts.buyer_country) == ("GB", "")
    assert header_for_document(facts, country_c1="ZW").country_c1 == "ZW"


async def test_a_self_billed_invoice_is_received_with_its_buyers_country_as_c1(
    tmp_path: Path,
    pki: PeppolTestPki,
    tls: TlsFiles,
    artefacts_home: Path,
    ap_trust: TrustStore,
    reference: Path,
) -> None:
    """Over AS4 on TLS, the receiving side: a self-billed BIS 3 invoice from its buyer (C1,
    ``SE``) to its seller, served here, is received and recorded with the SBDH's COUNTRY_C1
    (what the Peppol reports count); a normal BIS 3 invoice with its seller's (``GB``). The
    receiver takes COUNTRY_C1 as the SBDH says (an assigned code, checked): no Peppol rule
    binds it to the payload's addresses, so one that differs is not refused."""
    bis3 = _bis3(reference)
    self_billed = (reference / SELF_BILLING).read_bytes()
    self_billed_type = header_for_document(document_facts(self_billed)).document_type
    served = json.dumps([BIS3_INVOICE.value, self_billed_type.value])
    side = Side(local=(f"importer={BIS3_SELLER.value}", f"buyer={BIS3_BUYER.value}"))
    async with running_gateway(
        tmp_path / "c3", pki=pki, tls=tls, artefacts_home=artefacts_home, side=side,
        adapter=f'revocation = "off"\nreceive_document_types = {served}',
    ) as ap:  # fmt: skip
        for body, expected in ((self_billed, "SE"), (bis3, "GB")):
            header = header_for_document(document_facts(body))
            assert header.country_c1 == expected
            message = document_message(pki, body, header)
            answer = await post(ap.url, message.body, message.content_type, tls.client_context())
            assert answer.signal(ap_trust).receipt is not None, answer.body[:400]
        stored = await ap.services.store.list_inbound()
        assert sorted(m.metadata["peppol"]["c1_country"] for m in stored) == ["GB", "SE"]
        header = header_for_document(document_facts(self_billed))
        other = replace(header, country_c1="GB")  # the seller's: wrong, but not refused
        message = document_message(pki, self_billed, other)
        answer = await post(ap.url, message.body, message.content_type, tls.client_context())
        assert answer.signal(ap_trust).receipt is not None, answer.body[:400]

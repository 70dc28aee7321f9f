"""SBDH build and read, checked against the official SBDH 1.3 XSD."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from lxml import etree

from adapters.peppol.document_facts import document_facts
from adapters.peppol.envelope_parties import enveloped_parties
from adapters.peppol.identifiers import (
    CII_NAMESPACE,
    EUSR_NAMESPACE,
    PINT_PROCESS,
    PINT_SG_CREDIT_NOTE,
    PINT_SG_INVOICE,
    TSR_NAMESPACE,
    DocumentTypeId,
    ParticipantId,
    profile_document_type,
    syntax_version,
)
from adapters.peppol.sbdh import (
    MLS_TYPES,
    build_sbdh,
    header_for_document,
    parse_sbdh,
)
from gateway.errors import FieldError

PINT_SG = "openpeppol-pint-sg-1.4.1"
INVOICE = f"{PINT_SG}/trn-invoice/example/PINT-SG INV example 07 - Foreign buyer.xml"
CREDIT_NOTE = f"{PINT_SG}/trn-invoice/example/PINT-SG CN example 01 - Credit Note.xml"


@pytest.fixture(scope="module")
def sbdh_schema(reference: Path) -> etree.XMLSchema:
    return etree.XMLSchema(
        etree.parse(str(reference / "unece-sbdh-1.3/xsd/StandardBusinessDocumentHeader.xsd"))
    )


@pytest.mark.parametrize(
    ("rel", "doctype"), [(INVOICE, PINT_SG_INVOICE), (CREDIT_NOTE, PINT_SG_CREDIT_NOTE)]
)
def test_pint_sg_document_in_sbdh_is_schema_valid_and_reads_back(
    reference: Path, sbdh_schema: etree.XMLSchema, rel: str, doctype: object
) -> None:
    payload = (reference / rel).read_bytes()
    facts = document_facts(payload)
    header = header_for_document(facts, country_c1="CN")
    assert header.document_type == doctype
    assert header.process == PINT_PROCESS
    built = build_sbdh(payload, header)
    sbdh_schema.assertValid(etree.fromstring(built))
    back = parse_sbdh(built)
    assert back.header.sender == header.sender and back.header.receiver == header.receiver
    assert back.header.document_type == doctype
    assert back.header.country_c1 == "SG"  # the seller's country in the document wins
    assert back.header.instance_id == header.instance_id
    assert etree.tostring(etree.fromstring(back.payload), method="c14n") == etree.tostring(
        etree.fromstring(payload), method="c14n"
    )


def test_mls_scopes_and_official_snippets(reference: Path, sbdh_schema: etree.XMLSchema) -> None:
    snippets = sorted(
        (reference / "openpeppol-mls-1.1.0/trn-mls/example").glob("snippet-sbdh-*.xml")
    )
    assert snippets
    for snippet in snippets:
        parsed = parse_sbdh(snippet.read_bytes())
        assert parsed.header.country_c1 == "NL"
        assert parsed.header.mls_type in (None, *MLS_TYPES)
    payload = (reference / INVOICE).read_bytes()
    header = header_for_document(document_facts(payload), country_c1="CN")
    with_mls = replace(header, mls_to=ParticipantId("0242:987654"), mls_type="ALWAYS_SEND")
    built = build_sbdh(payload, with_mls)
    sbdh_schema.assertValid(etree.fromstring(built))
    back = parse_sbdh(built).header
    assert back.mls_to == ParticipantId("0242:987654") and back.mls_type == "ALWAYS_SEND"


def test_country_c1_is_required_and_checked(reference: Path) -> None:
    payload = (reference / INVOICE).read_bytes()
    facts = document_facts(payload)
    header = header_for_document(facts, country_c1="CN")
    with pytest.raises(FieldError) as caught:
        build_sbdh(payload, replace(header, country_c1="China"))
    assert caught.value.rule == "peppol.sbdh.country-c1"
    built = build_sbdh(payload, header)
    scope = b"<Scope><Type>COUNTRY_C1</Type><InstanceIdentifier>SG</InstanceIdentifier></Scope>"
    assert scope in built
    without = built.replace(scope, b"")
    with pytest.raises(FieldError) as missing:
        parse_sbdh(without)
    assert missing.value.rule == "peppol.sbdh.scopes"


def test_wrong_authority_and_two_payloads_refused(reference: Path) -> None:
    payload = (reference / INVOICE).read_bytes()
    built = build_sbdh(
        payload,
        header_for_document(document_facts(payload), country_c1="CN"),
    )
    with pytest.raises(FieldError, match="Authority"):
        parse_sbdh(built.replace(b'Authority="iso6523-actorid-upis"', b'Authority="GLN"', 1))
    doubled = built.replace(
        b"</StandardBusinessDocument>", b"<x:Extra xmlns:x='urn:x'/></StandardBusinessDocument>"
    )
    with pytest.raises(FieldError, match="exactly one payload"):
        parse_sbdh(doubled)


def test_document_without_identifiers_needs_a_profile() -> None:
    ubl = b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">x</Invoice>'
    facts = document_facts(ubl)
    with pytest.raises(FieldError):
        header_for_document(
            facts, country_c1="CN", sender=ParticipantId("0088:1"), receiver=ParticipantId("0195:X")
        )
    header = header_for_document(
        facts,
        country_c1="CN",
        sender=ParticipantId("0088:1"),
        receiver=ParticipantId("0195:X"),
        profile="pint-sg",
    )
    assert header.document_type == PINT_SG_INVOICE
    assert header.country_c1 == "CN"  # no seller country in the document: the configured one
    # a root that is not the profile's document type's: its SBDH would contradict itself
    other = document_facts(b'<Invoice xmlns="urn:example">x</Invoice>')
    with pytest.raises(FieldError) as caught:
        header_for_document(
            other, country_c1="CN", sender=ParticipantId("0088:1"),
            receiver=ParticipantId("0195:X"), profile="pint-sg",
        )  # fmt: skip
    assert caught.value.rule == "peppol.sbdh.documentid"


def test_document_facts_refuse_hostile_or_broken_input() -> None:
    from gateway.errors import InputError, UnsafeInputError

    with pytest.raises(UnsafeInputError):
        document_facts(b'<!DOCTYPE x [<!ENTITY a "b">]><Invoice>&a;</Invoice>')
    with pytest.raises(InputError):
        document_facts(b"<Invoice><cbc:ID xmlns:cbc='x'>")
    with pytest.raises(InputError):
        document_facts(b"<a>" * 300 + b"</a>" * 300)  # deeper than the parser allows
    facts = document_facts(b'<Invoice xmlns="urn:example">x</Invoice>')
    assert (facts.local_name, facts.customization_id, facts.supplier) == ("Invoice", "", None)


def test_syntax_version_follows_the_root_namespace() -> None:
    """The document type's last ``::`` part and the SBDH TypeVersion: UBL 2.1, TSR 1.0, EUSR
    1.1, CII D16B (code lists v9.7) — the same facts the gateway's own flows name."""
    from gateway.flows.peppol_out import PEPPOL_IDENTIFIERS

    ubl = "urn:oasis:names:specification:ubl:schema:xsd:ApplicationResponse-2"
    assert syntax_version(ubl) == "2.1"
    assert syntax_version(TSR_NAMESPACE) == "1.0"
    assert syntax_version(EUSR_NAMESPACE) == "1.1"
    assert syntax_version(CII_NAMESPACE) == "D16B"
    assert profile_document_type("bis3-cii", credit_note=False).version == "D16B"
    for ids in PEPPOL_IDENTIFIERS.values():
        doctype = DocumentTypeId.parse(ids.document_type)
        assert syntax_version(doctype.root_namespace) == doctype.version == ids.type_version
    with pytest.raises(FieldError) as caught:
        syntax_version("urn:example")
    assert caught.value.rule == "peppol.doctype-syntax-version"


@pytest.mark.parametrize("kind", ["tsr", "eusr"])
def test_reports_get_their_own_document_type_and_type_version(kind: str) -> None:
    from gateway.render.peppol_reports import (
        EUSR_DOCUMENT_TYPE,
        REPORTING_PROFILE,
        TSR_DOCUMENT_TYPE,
        ReportPeriod,
        render_eusr,
        render_tsr,
    )

    render, doctype, version = {
        "tsr": (render_tsr, TSR_DOCUMENT_TYPE, "1.0"),
        "eusr": (render_eusr, EUSR_DOCUMENT_TYPE, "1.1"),
    }[kind]
    report = render(ReportPeriod.of_month("2026-11"), "POP000360", [])
    facts = document_facts(report)
    assert facts.profile_id == REPORTING_PROFILE and facts.customization_id
    header = header_for_document(
        facts, country_c1="SG", sender=ParticipantId("0242:000360"),
        receiver=ParticipantId("9925:be0848934496"),
    )  # fmt: skip
    assert header.document_type == DocumentTypeId(doctype, "busdox-docid-qns")
    assert header.type_version == version
    built = build_sbdh(report, header)
    assert f"<TypeVersion>{version}</TypeVersion>".encode() in built
    assert parse_sbdh(built).header.type_version == version


def _built_invoice(reference: Path) -> bytes:
    payload = (reference / INVOICE).read_bytes()
    header = header_for_document(document_facts(payload), country_c1="CN")
    return build_sbdh(payload, replace(header, mls_type="FAILURE_ONLY"))


_DOCID = b"<InstanceIdentifier>urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##"
_SCOPES = b"<BusinessScope>"
_DOCUMENTID_SCOPE = (
    b"<Scope><Type>DOCUMENTID</Type><InstanceIdentifier>urn:oasis:names:specification:ubl:"
    b"schema:xsd:Invoice-2::Invoice##urn:peppol:pint:billing-1@sg-1::2.1</InstanceIdentifier>"
    b"<Identifier>peppol-doctype-wildcard</Identifier></Scope>"
)
SBDH_EDITS = {
    "HeaderVersion not 1.0": (
        b"<HeaderVersion>1.0<", b"<HeaderVersion>2.0<", "peppol.sbdh.header-version",
        "StandardBusinessDocumentHeader/HeaderVersion"),
    "Standard not the payload's namespace": (
        b"<Standard>urn:oasis:names:specification:ubl:schema:xsd:Invoice-2<",
        b"<Standard>urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2<",
        "peppol.sbdh.standard", "StandardBusinessDocumentHeader/DocumentIdentification/Standard"),
    "Type not the payload's root": (
        b"<Type>Invoice<", b"<Type>CreditNote<", "peppol.sbdh.type",
        "StandardBusinessDocumentHeader/DocumentIdentification/Type"),
    "DOCUMENTID of another root": (
        _DOCID, _DOCID.replace(b"Invoice-2::Invoice", b"CreditNote-2::CreditNote"),
        "peppol.sbdh.documentid",
        "StandardBusinessDocumentHeader/BusinessScope/Scope[Type=DOCUMENTID]"),
    "TypeVersion not the DOCUMENTID's version": (
        b"<TypeVersion>2.1<", b"<TypeVersion>2.2<", "peppol.sbdh.type-version",
        "StandardBusinessDocumentHeader/DocumentIdentification/TypeVersion"),
    "MLS_TYPE not a known one": (
        b">FAILURE_ONLY<", b">SOMETIMES<", "peppol.sbdh.mls-type",
        "StandardBusinessDocumentHeader/BusinessScope/Scope[Type=MLS_TYPE]"),
    "DOCUMENTID scope repeated": (
        _SCOPES, _SCOPES + _DOCUMENTID_SCOPE.replace(b"sg-1::2.1", b"sg-1::2.2"),
        "peppol.sbdh.scope-repeated",
        "StandardBusinessDocumentHeader/BusinessScope/Scope[Type=DOCUMENTID]"),
    "COUNTRY_C1 not assigned": (
        b"<InstanceIdentifier>SG</InstanceIdentifier></Scope>",
        b"<InstanceIdentifier>AA</InstanceIdentifier></Scope>", "peppol.sbdh.country-c1",
        "StandardBusinessDocumentHeader/BusinessScope/Scope[Type=COUNTRY_C1]"),
    "DOCUMENTID of another customization than the payload's": (
        b"##urn:peppol:pint:billing-1@sg-1::2.1<", b"##urn:peppol:pint:billing-1::2.1<",
        "peppol.sbdh.customization",
        "StandardBusinessDocumentHeader/BusinessScope/Scope[Type=DOCUMENTID]"),
    "PROCESSID not the payload's ProfileID": (
        b"<InstanceIdentifier>urn:peppol:bis:billing<",
        b"<InstanceIdentifier>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0<",
        "peppol.sbdh.process",
        "StandardBusinessDocumentHeader/BusinessScope/Scope[Type=PROCESSID]"),
    "COUNTRY_C1 ZZ (reports' unknown country, no ISO code)": (
        b"<InstanceIdentifier>SG</InstanceIdentifier></Scope>",
        b"<InstanceIdentifier>ZZ</InstanceIdentifier></Scope>", "peppol.sbdh.country-c1",
        "StandardBusinessDocumentHeader/BusinessScope/Scope[Type=COUNTRY_C1]"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(SBDH_EDITS))
def test_an_sbdh_that_contradicts_itself_or_its_payload_is_refused(
    reference: Path, sbdh_schema: etree.XMLSchema, case: str
) -> None:
    """What phase4 / peppol-commons refuse beyond the XSD (every edit here is XSD-valid), each
    named by field and rule."""
    old, new, rule, field = SBDH_EDITS[case]
    built = _built_invoice(reference)
    assert built.count(old) == 1
    edited = built.replace(old, new)
    sbdh_schema.assertValid(etree.fromstring(edited))
    parse_sbdh(built, schema=sbdh_schema)
    with pytest.raises(FieldError) as caught:
        parse_sbdh(edited, schema=sbdh_schema)
    assert (caught.value.rule, caught.value.field) == (rule, field)


@pytest.mark.parametrize("country", ["1A", "XI", "CN", "SG"])
def test_country_c1_takes_the_peppol_list(reference: Path, country: str) -> None:
    payload = (reference / INVOICE).read_bytes()
    header = header_for_document(document_facts(payload), country_c1="CN")
    assert (
        parse_sbdh(build_sbdh(payload, replace(header, country_c1=country))).header.country_c1
        == country
    )


def test_our_sbdhs_pass_what_we_demand_of_received_ones(
    reference: Path, sbdh_schema: etree.XMLSchema
) -> None:
    """Every official example we send (PINT SG, BIS 3 UBL, MLS, TSR, EUSR) enveloped by our
    sender's code reads back through the receiving checks, XSD included."""
    payloads = sorted((reference / PINT_SG / "trn-invoice/example").glob("*.xml"))
    payloads += sorted((reference / "openpeppol-peppol-bis-invoice-3/rules/examples").glob("*.xml"))
    payloads += sorted((reference / "openpeppol-mls-1.1.0/trn-mls/example").glob("Message*.xml"))
    payloads += sorted((reference / "phax-peppol-reporting/testfiles").glob("*/good/*.xml"))
    checked = 0
    for path in payloads:
        payload = path.read_bytes()
        facts = document_facts(payload)
        if not facts.customization_id:
            continue  # an order example without Peppol billing identifiers
        # an invoice or credit note is enveloped with its own parties; reports and MLS (which
        # the enveloping rules do not cover) with the ones given
        given = (
            {}
            if enveloped_parties(facts)
            else {"sender": ParticipantId("0088:1"), "receiver": ParticipantId("0195:X")}
        )
        header = header_for_document(facts, country_c1="CN", **given)
        back = parse_sbdh(build_sbdh(payload, header), schema=sbdh_schema).header
        assert back.type_version == back.document_type.version, path.name
        assert (back.standard, back.type_name) == (facts.root_namespace, facts.local_name)
        checked += 1
    assert checked >= 16 + 8 + 8 + 12


def test_every_kind_of_payload_is_held_to_its_own_document_type_and_process(
    reference: Path, sbdh_schema: etree.XMLSchema
) -> None:
    """The DOCUMENTID is ``Standard::Type##CustomizationID::TypeVersion`` of the document the
    envelope carries and PROCESSID its ``ProfileID`` (Peppol Business Message Envelope 2.0):
    an envelope that names another customization or process than its payload's own is refused
    for a PINT and a BIS 3 UBL invoice, a BIS 3 CII invoice (its document context), an MLS and
    the two Peppol reports (their own-namespace identifiers) alike."""
    payloads = [
        (reference / INVOICE).read_bytes(),
        (reference / "openpeppol-peppol-bis-invoice-3/rules/examples/base-example.xml").read_bytes(),
        _fapiao_as_cii(),
        (reference / "openpeppol-mls-1.1.0/trn-mls/example/MessageLevelStatus_Example_AP.xml").read_bytes(),
        *(
            sorted((reference / "phax-peppol-reporting/testfiles" / kind / "good").glob("*.xml"))[0].read_bytes()
            for kind in ("tsr", "eusr")
        ),
    ]  # fmt: skip
    for payload in payloads:
        facts = document_facts(payload)
        given = (
            {}
            if enveloped_parties(facts)
            else {"sender": ParticipantId("0088:1"), "receiver": ParticipantId("0195:X")}
        )
        header = header_for_document(facts, country_c1="CN", **given)
        parse_sbdh(build_sbdh(payload, header), schema=sbdh_schema)
        doctype = header.document_type
        version = doctype.version
        other_doctype = replace(
            doctype, value=doctype.value.replace(f"::{version}", f":other::{version}")
        )
        other_process = replace(header.process, value=header.process.value + ":other")
        for changed, rule in (
            (replace(header, document_type=other_doctype), "peppol.sbdh.customization"),
            (replace(header, process=other_process), "peppol.sbdh.process"),
        ):
            with pytest.raises(FieldError) as caught:
                parse_sbdh(build_sbdh(payload, changed), schema=sbdh_schema)
            assert caught.value.rule == rule, facts.local_name
            assert repr(facts.customization_id if "custom" in rule else facts.profile_id) in str(
                caught.value
            )


SAMPLES = Path(__file__).resolve().parents[2] / "gateway" / "samples"
PARTNERS = Path(__file__).resolve().parents[1] / "data" / "partners.toml"
CII_BUYER = ParticipantId("0195:SGUEN199912345A")
"""The buyer of ``exempt-services.xml`` in the test partner directory."""
CII_SELLER = ParticipantId("0199:5493001KJTIIGC8Y1S09")
"""Its seller's endpoint, from the same directory."""


def _fapiao_as_cii() -> bytes:
    from gateway.convert import convert
    from gateway.partners import PartnerDirectory

    data = (SAMPLES / "exempt-services.xml").read_bytes()
    return convert(data, "bis3-cii", PartnerDirectory.load(PARTNERS)).xml


def test_bis3_cii_invoice_is_enveloped_with_its_own_identifiers(
    reference: Path, sbdh_schema: etree.XMLSchema
) -> None:
    """A fapiao converted to Peppol BIS 3 CII: the SBDH names the BT-34/BT-49 endpoints
    (``ram:URIUniversalCommunication/ram:URIID/@schemeID``), the BT-23 process, the seller's
    country as COUNTRY_C1 and the code list's BIS 3 CII document type (syntax version D16B)."""
    from adapters.peppol.identifiers import BIS3_CII_INVOICE, BIS3_PROCESS

    listed = (
        reference / "phax-peppol-commons/codelists-v9.7/Peppol Code Lists - Document types v9.7.xml"
    ).read_text("utf-8")
    assert f'scheme="busdox-docid-qns" value="{BIS3_CII_INVOICE.value}"' in listed
    assert BIS3_CII_INVOICE.scheme == "busdox-docid-qns"
    payload = _fapiao_as_cii()
    facts = document_facts(payload)
    assert facts.is_cii and facts.local_name == "CrossIndustryInvoice"
    assert (facts.supplier, facts.customer, facts.seller_country) == (CII_SELLER, CII_BUYER, "CN")
    header = header_for_document(facts, country_c1="SG")
    assert (header.document_type, header.process) == (BIS3_CII_INVOICE, BIS3_PROCESS)
    assert (header.sender, header.receiver, header.country_c1) == (CII_SELLER, CII_BUYER, "CN")
    built = build_sbdh(payload, header)
    sbdh_schema.assertValid(etree.fromstring(built))
    back = parse_sbdh(built, schema=sbdh_schema)
    assert (back.header.standard, back.header.type_name) == (
        CII_NAMESPACE,
        "CrossIndustryInvoice",
    )
    assert back.header.type_version == "D16B" == back.header.document_type.version
    assert back.header.document_type == BIS3_CII_INVOICE
    assert etree.tostring(etree.fromstring(back.payload), method="c14n") == etree.tostring(
        etree.fromstring(payload), method="c14n"
    )


_CII_OPEN = (
    b'<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:'
    b'CrossIndustryInvoice:100" xmlns:ram="urn:un:unece:uncefact:data:standard:'
    b'ReusableAggregateBusinessInformationEntity:100">'
)
_CII_LINE = (
    b"<ram:IncludedSupplyChainTradeLineItem><ram:AssociatedDocumentLineDocument>"
    b"<ram:LineID>%d</ram:LineID></ram:AssociatedDocumentLineDocument>"
    b"<ram:SpecifiedTradeProduct><ram:Name>part</ram:Name></ram:SpecifiedTradeProduct>"
    b"</ram:IncludedSupplyChainTradeLineItem>"
)


def _cii(context: bytes, seller: bytes, buyer: bytes, lines: int = 2) -> bytes:
    return b"".join(
        (
            _CII_OPEN,
            b"<rsm:ExchangedDocumentContext>",
            context,
            b"</rsm:ExchangedDocumentContext><rsm:SupplyChainTradeTransaction>",
            b"".join(_CII_LINE % n for n in range(lines)),
            b"<ram:ApplicableHeaderTradeAgreement><ram:SellerTradeParty>",
            seller,
            b"<ram:PostalTradeAddress><ram:CountryID>cn</ram:CountryID></ram:PostalTradeAddress>"
            b"</ram:SellerTradeParty><ram:BuyerTradeParty>",
            buyer,
            b"</ram:BuyerTradeParty></ram:ApplicableHeaderTradeAgreement>"
            b"</rsm:SupplyChainTradeTransaction></rsm:CrossIndustryInvoice>",
        )
    )


_CONTEXT = (
    b"<ram:BusinessProcessSpecifiedDocumentContextParameter><ram:ID>"
    b"urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</ram:ID>"
    b"</ram:BusinessProcessSpecifiedDocumentContextParameter>"
    b"<ram:GuidelineSpecifiedDocumentContextParameter><ram:ID>"
    b"urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0</ram:ID>"
    b"</ram:GuidelineSpecifiedDocumentContextParameter>"
)
_URI = b'<ram:URIUniversalCommunication><ram:URIID schemeID="%s">%s</ram:URIID></ram:URIUniversalCommunication>'
_SELLER = _URI % (b"0088", b"4035811991014")
_BUYER = _URI % (b"0195", b"SGUEN199912345A")


def test_cii_endpoints_and_context_are_read_where_the_rules_put_them() -> None:
    """Only the seller's and the buyer's own ``URIUniversalCommunication`` count (not a
    contact's e-mail ``EmailURIUniversalCommunication``); a missing one is named by its CII
    path; without the document context the gateway profile ``bis3-cii`` supplies the ids."""
    from adapters.peppol.document_facts import CII_CUSTOMIZATION, CII_ENDPOINTS
    from adapters.peppol.identifiers import BIS3_CII_INVOICE

    contact = (
        b"<ram:DefinedTradeContact><ram:EmailURIUniversalCommunication><ram:URIID>a@b.example"
        b"</ram:URIID></ram:EmailURIUniversalCommunication></ram:DefinedTradeContact>"
    )
    facts = document_facts(_cii(_CONTEXT, contact + _SELLER, contact + _BUYER))
    assert facts.supplier == ParticipantId("0088:4035811991014")
    assert facts.customer == CII_BUYER and facts.seller_country == "CN"
    assert header_for_document(facts).document_type == BIS3_CII_INVOICE
    no_buyer = document_facts(_cii(_CONTEXT, _SELLER, contact))
    for given in ({}, {"receiver": CII_BUYER}):
        # BR-SBDH-1: a BIS 3 invoice's SBDH Receiver is its buyer's address, never another
        with pytest.raises(FieldError) as caught:
            header_for_document(no_buyer, **given)  # type: ignore[arg-type]
        assert caught.value.rule == "peppol.sbdh.receiver-endpoint"
        assert caught.value.field == CII_ENDPOINTS["BuyerTradeParty"]
    no_context = document_facts(_cii(b"", _SELLER, contact))
    with pytest.raises(FieldError) as missing:
        header_for_document(no_context, profile="bis3-cii")
    assert (missing.value.rule, missing.value.field) == (
        "peppol.sbdh.participants",
        CII_ENDPOINTS["BuyerTradeParty"],
    )
    named = header_for_document(no_context, receiver=CII_BUYER, profile="bis3-cii")
    assert named.receiver == CII_BUYER  # no BT-24/BT-23 to hold it to: the one given
    bare = document_facts(_cii(b"", _SELLER, _BUYER))
    with pytest.raises(FieldError) as unknown:
        header_for_document(bare)
    assert (unknown.value.rule, unknown.value.field) == (
        "peppol.doctype-from-document",
        CII_CUSTOMIZATION,
    )
    assert header_for_document(bare, profile="bis3-cii").document_type == BIS3_CII_INVOICE
    with pytest.raises(FieldError) as malformed:
        document_facts(_cii(_CONTEXT, _SELLER, _URI % (b"EM", b"buyer@example.com")))
    assert malformed.value.field == CII_ENDPOINTS["BuyerTradeParty"]


_GROWTH = """
import resource, sys
from adapters.peppol.document_facts import document_facts
from gateway.xmlsafe import XmlLimits
from tests.peppol.test_sbdh import _BUYER, _CONTEXT, _SELLER, _cii
payload = _cii(_CONTEXT, _SELLER, _BUYER, lines=60_000)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
facts = document_facts(payload, limits=XmlLimits(max_bytes=2 * len(payload)))
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(len(payload), grown * 1024, facts.customer)
"""


def test_a_long_cii_invoice_is_read_without_keeping_its_lines() -> None:
    """The header trade agreement comes after the lines in CII: the lines read past are
    dropped, so reading the facts of a 15 MB invoice grows the process by far less than its
    size (its whole tree: about twice its size). Measured in a process of its own (the tree
    is libxml2's memory, which tracemalloc does not see)."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", _GROWTH], cwd=root, capture_output=True, text=True, check=True
    )
    size, grown, receiver = done.stdout.split()
    assert receiver == CII_BUYER.value
    assert int(grown) < int(size) // 4, done.stdout


@pytest.mark.parametrize("text", ["0195:SGUEN\u202e200212345Z", "0088:579\u200b0000435975"])
def test_a_participant_id_with_a_direction_or_format_character_is_refused(text: str) -> None:
    """``[^\\s]`` let U+202E and U+200B through: an id that shows other than it is, or two
    ids that look the same (Unicode TR #36 2.1). Refused naming the field and character."""
    with pytest.raises(FieldError) as caught:
        ParticipantId.parse(text, field="recipient")
    assert (caught.value.field, caught.value.rule) == ("recipient", "text.unsafe-character")
    assert "U+20" in caught.value.message

"""SBDH build and read, checked against the official SBDH 1.3 XSD."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from lxml import etree

from adapters.peppol.identifiers import (
    PINT_PROCESS,
    PINT_SG_CREDIT_NOTE,
    PINT_SG_INVOICE,
    ParticipantId,
)
from adapters.peppol.sbdh import (
    MLS_TYPES,
    build_sbdh,
    document_facts,
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
    header = header_for_document(facts, country_c1="CN", sender=ParticipantId("0088:6970000000001"))
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
    header = header_for_document(
        document_facts(payload), country_c1="CN", sender=ParticipantId("0088:1")
    )
    with_mls = replace(header, mls_to=ParticipantId("0242:987654"), mls_type="ALWAYS_SEND")
    built = build_sbdh(payload, with_mls)
    sbdh_schema.assertValid(etree.fromstring(built))
    back = parse_sbdh(built).header
    assert back.mls_to == ParticipantId("0242:987654") and back.mls_type == "ALWAYS_SEND"


def test_country_c1_is_required_and_checked(reference: Path) -> None:
    payload = (reference / INVOICE).read_bytes()
    facts = document_facts(payload)
    header = header_for_document(facts, country_c1="CN", sender=ParticipantId("0088:1"))
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
        header_for_document(
            document_facts(payload), country_c1="CN", sender=ParticipantId("0088:1")
        ),
    )
    with pytest.raises(FieldError, match="Authority"):
        parse_sbdh(built.replace(b'Authority="iso6523-actorid-upis"', b'Authority="GLN"', 1))
    doubled = built.replace(
        b"</StandardBusinessDocument>", b"<x:Extra xmlns:x='urn:x'/></StandardBusinessDocument>"
    )
    with pytest.raises(FieldError, match="exactly one payload"):
        parse_sbdh(doubled)


def test_document_without_identifiers_needs_a_profile() -> None:
    facts = document_facts(b'<Invoice xmlns="urn:example">x</Invoice>')
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


def test_document_facts_refuse_hostile_or_broken_input() -> None:
    from gateway.errors import InputError, UnsafeInputError

    with pytest.raises(UnsafeInputError):
        document_facts(b'<!DOCTYPE x [<!ENTITY a "b">]><Invoice>&a;</Invoice>')
    with pytest.raises(InputError):
        document_facts(b"<Invoice><cbc:ID xmlns:cbc='x'>")
    with pytest.raises(InputError):
        document_facts(b"<a>" * 300 + b"</a>" * 300)  # deeper than the parser allows
    facts = document_facts(b'<Invoice xmlns="urn:example">x</Invoice>')
    assert (facts.local_name, facts.customization_id, facts.sender) == ("Invoice", "", None)

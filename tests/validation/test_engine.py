"""The validation engine on real official documents and on broken variants of them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.artefacts import import_mirror
from gateway.errors import ArtefactError, InputError, UnknownFormatError, UnsafeInputError
from gateway.validation import PROFILES, Validator, detect_profile
from gateway.validation.svrl import ENGINE_RULE, parse_svrl
from gateway.xmlsafe import parse_xml

BIS3 = "openpeppol-peppol-bis-invoice-3/rules/examples"
PINT_SG = "openpeppol-pint-sg-1.4.1/trn-invoice/example"
CEN = "connectingeurope-einvoicing-en16931"
BILL_OF_LADING = b"""<?xml version="1.0" encoding="UTF-8"?>
<BillOfLading xmlns="urn:oasis:names:specification:ubl:schema:xsd:BillOfLading-2"
  xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
  xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2">
  <cbc:UBLVersionID>2.1</cbc:UBLVersionID>
  <cbc:ID>BL-2026-0001</cbc:ID>
  <cac:ConsignorParty><cac:PartyName><cbc:Name>Lingang Export Co.</cbc:Name></cac:PartyName></cac:ConsignorParty>
</BillOfLading>"""


@pytest.fixture(scope="module")
def validator(artefacts_home: Path) -> Validator:
    return Validator.default(artefacts_home)


def _read(reference: Path, rel: str) -> bytes:
    return (reference / rel).read_bytes()


@pytest.mark.parametrize(
    ("rel", "profile"),
    [
        (f"{BIS3}/base-example.xml", "bis3"),
        (f"{BIS3}/base-creditnote-correction.xml", "bis3"),
        (f"{PINT_SG}/PINT-SG INV example 04 - none GST registered.xml", "pint-sg"),
        (f"{CEN}/ubl/examples/ubl-tc434-example1.xml", "en16931-ubl"),
        (f"{CEN}/cii/examples/CII_example1.xml", "cii"),
    ],
)
def test_profile_is_detected_from_root_and_customization_id(
    reference: Path, validator: Validator, rel: str, profile: str
) -> None:
    data = _read(reference, rel)
    assert validator.detect_profile(data) == profile
    assert detect_profile(parse_xml(data)) == profile
    report = validator.validate(data)
    assert report.profile == profile and not report.fatal


def test_profiles_constant_lists_the_invoice_profiles() -> None:
    assert PROFILES == ("bis3", "pint", "pint-sg", "cii", "en16931-ubl")


def test_broken_totals_are_fatal_cen_findings(reference: Path, validator: Validator) -> None:
    data = _read(reference, f"{BIS3}/base-example.xml")
    broken = data.replace(
        b'<cbc:PayableAmount currencyID="EUR">1656.25</cbc:PayableAmount>',
        b'<cbc:PayableAmount currencyID="EUR">1656.26</cbc:PayableAmount>',
    )
    assert broken != data
    report = validator.validate(broken)
    assert report.fatal
    assert "BR-CO-16" in {f.rule_id for f in report.fatals()}
    finding = next(f for f in report.fatals() if f.rule_id == "BR-CO-16")
    assert finding.source == "cen-ubl" and "LegalMonetaryTotal" in finding.location


def test_peppol_rule_fires_with_its_source(reference: Path, validator: Validator) -> None:
    data = _read(reference, f"{BIS3}/base-example.xml")
    broken = data.replace(
        b"<cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>", b""
    )
    assert broken != data
    report = validator.validate(broken)
    assert any(
        f.rule_id == "PEPPOL-EN16931-R001" and f.source == "peppol-bis3" for f in report.fatals()
    )


def test_schema_errors_are_xsd_findings(reference: Path, validator: Validator) -> None:
    data = _read(reference, f"{BIS3}/base-example.xml")
    broken = data.replace(b"<cbc:ID>Snippet1</cbc:ID>", b"<cbc:ID>Snippet1</cbc:ID><cbc:Nonsense/>")
    report = validator.validate(broken)
    xsd = [f for f in report.findings if f.source == "xsd"]
    assert xsd and xsd[0].rule_id == "XSD" and xsd[0].flag == "fatal"
    assert "Nonsense" in xsd[0].text and xsd[0].location.startswith("line ")


def test_pint_sg_rules_catch_a_bad_gst_category(reference: Path, validator: Validator) -> None:
    data = _read(reference, f"{PINT_SG}/PINT-SG INV example 04 - none GST registered.xml")
    broken = data.replace(b"<cbc:ID>NG</cbc:ID>", b"<cbc:ID>XX</cbc:ID>")
    assert broken != data
    report = validator.validate(broken)
    assert report.fatal
    assert "pint-sg" in {f.source for f in report.fatals()}


def test_credit_note_uses_the_credit_note_rules(reference: Path, validator: Validator) -> None:
    data = _read(reference, f"{PINT_SG}/PINT-SG CN example 01 - Credit Note.xml")
    report = validator.validate(data)
    assert report.document_type == "CreditNote" and not report.fatal
    assert any("trn-creditnote" in a for a in report.artefacts)


def test_bill_of_lading_is_checked_against_its_xsd(validator: Validator) -> None:
    report = validator.validate(BILL_OF_LADING)
    assert (report.profile, report.document_type, report.fatal) == ("xsd", "BillOfLading", False)
    bad = validator.validate(
        BILL_OF_LADING.replace(b"<cbc:ID>", b"<cbc:Weight>1</cbc:Weight><cbc:ID>")
    )
    assert bad.fatal and bad.findings[0].source == "xsd"


def test_sbdh_sample_is_checked_against_its_xsd(reference: Path, validator: Validator) -> None:
    report = validator.validate(_read(reference, "unece-sbdh-1.3/samples/sample1.xml"))
    assert report.document_type == "StandardBusinessDocumentHeader"
    assert not report.fatal, report.to_text()
    header = _read(reference, "unece-sbdh-1.3/samples/sample1.xml").split(b"?>", 1)[-1]
    invoice = _read(reference, f"{BIS3}/base-example.xml").split(b"?>", 1)[-1]
    envelope = (
        b'<StandardBusinessDocument xmlns="http://www.unece.org/cefact/namespaces/'
        b'StandardBusinessDocumentHeader">' + header + invoice + b"</StandardBusinessDocument>"
    )
    report = validator.validate(envelope)
    assert (report.document_type, report.profile, report.fatal) == (
        "StandardBusinessDocument/Invoice",
        "bis3",
        False,
    ), report.to_text()
    assert any("StandardBusinessDocumentHeader.xsd" in a for a in report.artefacts)
    only = validator.validate(envelope, "xsd")
    assert (only.document_type, only.profile, only.fatal) == (
        "StandardBusinessDocument",
        "xsd",
        False,
    )
    broken = envelope.replace(b"1656.25</cbc:PayableAmount>", b"1.00</cbc:PayableAmount>")
    assert "BR-CO-16" in {f.rule_id for f in validator.validate(broken).fatals()}
    binary = envelope.replace(
        invoice,
        b'<BinaryContent xmlns="http://peppol.eu/xsd/ticc/envelope/1.0" '
        b'mimeType="application/pdf">JVBERi0=</BinaryContent>',
    )
    report = validator.validate(binary)
    assert (report.document_type, report.fatal) == ("StandardBusinessDocument/BinaryContent", False)
    with pytest.raises(InputError, match="no payload"):
        validator.validate(envelope.replace(invoice, b""))


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"not xml at all", InputError),
        (b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', UnsafeInputError),
        (b"<Order xmlns='urn:example'/>", UnknownFormatError),
    ],
)
def test_bad_input_is_a_typed_error(
    validator: Validator, data: bytes, error: type[Exception]
) -> None:
    with pytest.raises(error):
        validator.validate(data)


def test_profile_must_fit_the_document(reference: Path, validator: Validator) -> None:
    data = _read(reference, f"{BIS3}/base-example.xml")
    with pytest.raises(InputError, match="does not apply"):
        validator.validate(data, "cii")
    with pytest.raises(InputError, match="unknown validation profile"):
        validator.validate(data, "nonsense")


def test_missing_artefacts_refuse_with_the_fix(reference: Path, tmp_path: Path) -> None:
    with pytest.raises(ArtefactError, match="lingang artefacts import"):
        Validator.default(tmp_path)
    import_mirror(reference, tmp_path, names=["ubl-2.1"])
    data = _read(reference, f"{PINT_SG}/PINT-SG INV example 04 - none GST registered.xml")
    with pytest.raises(ArtefactError) as caught:
        Validator(tmp_path).validate(data)
    message = str(caught.value)
    assert "pint-sg/1.4.1" in message and "PINT-jurisdiction-aligned-rules.xslt" in message
    assert "ubl-2.1" not in message and "lingang artefacts sync" in message


def test_unreadable_rule_output_is_fatal_never_valid() -> None:
    for svrl in ("not xml", "<other/>"):
        findings = parse_svrl(svrl, "cen-ubl")
        assert [(f.rule_id, f.flag, f.source) for f in findings] == [
            (ENGINE_RULE, "fatal", "cen-ubl")
        ]


def test_failing_transform_is_a_fatal_engine_finding(tmp_path: Path) -> None:
    from gateway.validation import schematron

    sheet = tmp_path / "fails.xslt"
    sheet.write_text(
        '<xsl:stylesheet version="2.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">'
        '<xsl:template match="/"><xsl:message terminate="yes">boom</xsl:message></xsl:template>'
        "</xsl:stylesheet>"
    )
    node, failure = schematron.parse_document("<x/>")
    assert failure is None
    findings = schematron.run_stylesheet(schematron.compile_stylesheet(sheet), node, "test")
    assert [(f.rule_id, f.flag) for f in findings] == [(ENGINE_RULE, "fatal")]


def test_report_as_json_and_text(reference: Path, validator: Validator) -> None:
    data = _read(reference, f"{BIS3}/base-example.xml").replace(
        b"1656.25</cbc:PayableAmount>", b"1.00</cbc:PayableAmount>"
    )
    report = validator.validate(data)
    as_json = json.loads(json.dumps(report.to_json()))
    assert as_json["valid"] is False and as_json["counts"]["fatal"] == len(report.fatals())
    assert {"rule_id", "flag", "location", "text", "source"} <= set(as_json["findings"][0])
    text = report.to_text()
    assert text.startswith("Invoice under profile bis3: INVALID") and "BR-CO-16" in text


def test_peppol_cii_gets_the_peppol_cii_rules(reference: Path, validator: Validator) -> None:
    data = _read(reference, f"{CEN}/cii/examples/CII_example1.xml").replace(
        b"<ram:ID>urn:cen.eu:en16931:2017</ram:ID>",
        b"<ram:ID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0</ram:ID>",
    )
    report = validator.validate(data)
    assert report.profile == "bis3-cii"
    assert any(a.endswith("PEPPOL-EN16931-CII.sch") for a in report.artefacts)
    fired = {f.rule_id for f in report.fatals() if f.source == "peppol-bis3"}
    assert "PEPPOL-EN16931-R001" in fired


def test_stylesheet_without_svrl_output_is_fatal(tmp_path: Path) -> None:
    from gateway.validation import schematron

    sheet = tmp_path / "not-svrl.xslt"
    sheet.write_text(
        '<xsl:stylesheet version="2.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">'
        '<xsl:template match="/"><report/></xsl:template></xsl:stylesheet>'
    )
    node, _ = schematron.parse_document("<x/>")
    findings = schematron.run_stylesheet(schematron.compile_stylesheet(sheet), node, "test")
    assert [(f.rule_id, f.flag) for f in findings] == [(ENGINE_RULE, "fatal")]


def test_warm_up_exercises_every_invoice_profile(validator: Validator) -> None:
    from gateway.validation.warmup import CUSTOMIZATION, warmup_invoice

    validator.warm(list(CUSTOMIZATION), ("Invoice", "CreditNote"), exercise=True)
    report = validator.validate(warmup_invoice(CUSTOMIZATION["pint"]))
    assert report.profile == "pint" and not report.fatal, report.to_text()


def test_validator_is_safe_to_share_between_threads(reference: Path, validator: Validator) -> None:
    from concurrent.futures import ThreadPoolExecutor

    good = _read(reference, f"{BIS3}/base-example.xml")
    bad = good.replace(b"1656.25</cbc:PayableAmount>", b"1.00</cbc:PayableAmount>")
    docs = [good, bad] * 10
    with ThreadPoolExecutor(4) as pool:
        verdicts = list(pool.map(lambda d: validator.validate(d).fatal, docs))
    assert verdicts == [False, True] * 10


def test_padded_dates_are_collapsed_as_the_schema_says(artefacts_home: Path) -> None:
    """libxml2 does not collapse whitespace around xs:date values; the validator does, and a
    padded value that is not a date still fails."""
    validator = Validator.default(artefacts_home)
    mls = (
        b'<ApplicationResponse xmlns="urn:oasis:names:specification:ubl:schema:xsd:'
        b'ApplicationResponse-2" xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:'
        b'CommonBasicComponents-2"><cbc:ID>1</cbc:ID><cbc:IssueDate> DATE </cbc:IssueDate>'
        b"</ApplicationResponse>"
    )
    good = validator.validate(mls.replace(b"DATE", b"2025-03-11"), "xsd")
    assert not [f for f in good.findings if "IssueDate" in f.text], good.to_text()
    bad = validator.validate(mls.replace(b"DATE", b"2025-13-45"), "xsd")
    assert any("IssueDate" in f.text for f in bad.findings), bad.to_text()


@pytest.mark.parametrize("rules", ["official", "fast"])
def test_a_tree_handed_over_gives_the_report_of_the_bytes(
    reference: Path, artefacts_home: Path, rules: str
) -> None:
    """``validate(xml, tree=...)`` skips the parse, never the verdict: clean, rule findings
    and schema errors (those with the lines of ``xml``) are reported as from ``xml`` alone."""
    from lxml import etree

    validator = Validator(artefacts_home, rules=rules)
    data = _read(reference, f"{BIS3}/base-example.xml")
    variants = [
        data,
        data.replace(b'currencyID="EUR">1656.25<', b'currencyID="EUR">1656.26<'),
        data.replace(b"<cbc:ID>Snippet1</cbc:ID>", b"<cbc:ID>Snippet1</cbc:ID><cbc:Nonsense/>"),
    ]
    for xml in variants:
        built = etree.fromstring(etree.tostring(parse_xml(xml)))
        built.getroottree().docinfo.clear()
        assert validator.validate(xml, tree=built) == validator.validate(xml)
    assert not validator.validate(variants[0]).findings
    assert validator.validate(variants[2]).fatal


def test_our_form_reports_the_official_findings_one_stylesheet_at_a_time(
    reference: Path, artefacts_home: Path
) -> None:
    """Each of our compiled stylesheets, run as the engine runs it, reports exactly the
    findings of the official stylesheet it was compiled from."""
    from gateway.validation import schematron
    from gateway.validation.fastrules import stylesheet_for

    official = Validator(artefacts_home, schematron.SaxonCEngine(), "official")
    paths = official.artefact_paths("bis3", "Invoice")[1:]
    data = _read(reference, f"{BIS3}/base-example.xml")
    broken = data.replace(b'currencyID="EUR">1656.25<', b'currencyID="EUR">1656.26<')
    for xml, clean in ((data, True), (broken, False)):
        node, failure = schematron.parse_document(xml.decode())
        assert failure is None
        counts = []
        for path in paths:
            fast = schematron.compile_stylesheet(stylesheet_for(path, "fast", artefacts_home))
            ours = schematron.run_stylesheet(fast, node, "x")
            theirs = schematron.run_stylesheet(schematron.compile_stylesheet(path), node, "x")
            assert ours == theirs
            counts.append(len(ours))
        assert (sum(counts) == 0) == clean

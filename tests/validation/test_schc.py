"""The Schematron compiler gives the same findings as the official compiled XSLT."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.artefacts import require_files
from gateway.validation import schematron
from gateway.validation.schc import SchematronError, compile_schematron

EXAMPLES = "openpeppol-peppol-bis-invoice-3/rules/examples"


def _variants(reference: Path) -> list[bytes]:
    docs = [p.read_bytes() for p in sorted((reference / EXAMPLES).glob("*.xml"))]
    base = (reference / EXAMPLES / "base-example.xml").read_bytes()
    docs.append(
        base.replace(
            b"<cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>", b""
        )
    )
    docs.append(base.replace(b'schemeID="0088"', b'schemeID="9999"'))
    docs.append(base.replace(b"<cbc:Note>", b"<cbc:Note></cbc:Note><cbc:Note>"))
    return docs


def test_compiled_sch_matches_the_official_xslt(reference: Path, artefacts_home: Path) -> None:
    (official,) = require_files(
        "peppol-bis3", "3.0.19", ["PEPPOL-EN16931-UBL.xslt"], artefacts_home
    )
    (source,) = require_files(
        "peppol-bis3-sch", "3.0.19", ["PEPPOL-EN16931-UBL.sch"], artefacts_home
    )
    ours = schematron.compile_stylesheet(source)
    theirs = schematron.compile_stylesheet(official)
    fired = 0
    for doc in _variants(reference):
        node, failure = schematron.parse_document(doc.decode("utf-8"))
        assert failure is None
        got = schematron.run_stylesheet(ours, node, "p")
        want = schematron.run_stylesheet(theirs, node, "p")
        key = lambda f: (f.rule_id, f.flag, f.location, f.text)  # noqa: E731
        assert sorted(map(key, got)) == sorted(map(key, want))
        fired += len(got)
    assert fired >= 3


@pytest.mark.parametrize(
    ("sch", "message"),
    [
        (
            b"<schema xmlns='http://purl.oclc.org/dsdl/schematron' queryBinding='xslt'/>",
            "query binding",
        ),
        (
            b"<schema xmlns='http://purl.oclc.org/dsdl/schematron'><include href='x'/></schema>",
            "include",
        ),
        (
            b"<schema xmlns='http://purl.oclc.org/dsdl/schematron'><pattern abstract='true'/></schema>",
            "abstract",
        ),
        (b"<other/>", "not an ISO Schematron"),
        (b"<broken", "not well-formed"),
    ],
)
def test_unsupported_schematron_is_refused(sch: bytes, message: str) -> None:
    with pytest.raises(SchematronError, match=message):
        compile_schematron(sch)


def test_report_and_value_of_are_compiled(tmp_path: Path) -> None:
    sch = tmp_path / "tiny.sch"
    sch.write_bytes(
        b"<schema xmlns='http://purl.oclc.org/dsdl/schematron' queryBinding='xslt2'>"
        b"<ns prefix='e' uri='urn:e'/><let name='limit' value='2'/>"
        b"<pattern><rule context='e:a'><let name='n' value='count(e:b)'/>"
        b"<assert id='R1' flag='fatal' test='$n le $limit'>too many b: <value-of select='$n'/> in <name/></assert>"
        b"<report id='R2' flag='warning' test='@x'>has x</report></rule>"
        b"<rule context='e:a'><assert id='R3' test='false()'>shadowed</assert></rule></pattern>"
        b"</schema>"
    )
    executable = schematron.compile_stylesheet(sch)
    node, _ = schematron.parse_document("<a xmlns='urn:e' x='1'><b/><b/><b/></a>")
    findings = schematron.run_stylesheet(executable, node, "tiny")
    assert [(f.rule_id, f.flag, f.text) for f in findings] == [
        ("R1", "fatal", "too many b: 3 in a"),
        ("R2", "warning", "has x"),
    ]
    assert findings[0].location == "/a[1]"

"""The pinned manifest: complete, and exactly what the mirror holds."""

from __future__ import annotations

from pathlib import Path

from gateway.artefacts import load_manifest
from gateway.artefacts.manifest import manifest_from_json
from gateway.artefacts.manifest_tool import build_manifest, main

REQUIRED = {
    ("ubl-2.1", "2.1"): [
        "maindoc/UBL-Invoice-2.1.xsd",
        "maindoc/UBL-CreditNote-2.1.xsd",
        "maindoc-transport-cs1/UBL-BillOfLading-2.1.xsd",
    ],
    ("cii-d16b", "D16B"): ["uncefact/data/standard/CrossIndustryInvoice_100pD16B.xsd"],
    ("cen-ubl", "1.3.16"): ["EN16931-UBL-validation.xslt"],
    ("cen-cii", "1.3.16"): ["EN16931-CII-validation.xslt"],
    ("peppol-bis3", "3.0.19"): ["CEN-EN16931-UBL.xslt", "PEPPOL-EN16931-UBL.xslt"],
    ("peppol-bis3", "3.0.21"): ["CEN-EN16931-UBL.xslt", "PEPPOL-EN16931-UBL.xslt"],
    ("peppol-bis3-sch", "3.0.19"): ["PEPPOL-EN16931-CII.sch", "PEPPOL-EN16931-UBL.sch"],
    ("pint", "1.1.3"): [
        "trn-invoice/schematron/PINT-UBL-validation-preprocessed.xslt",
        "trn-creditnote/schematron/PINT-UBL-validation-preprocessed.xslt",
    ],
    ("pint-sg", "1.4.1"): [
        "trn-invoice/schematron/PINT-jurisdiction-aligned-rules.xslt",
        "trn-creditnote/schematron/PINT-jurisdiction-aligned-rules.xslt",
    ],
    ("sbdh", "1.3"): ["StandardBusinessDocumentHeader.xsd"],
    ("peppol-envelope", "1.2"): ["PEPPOL-EDN-Business-Message-Envelope-1.2-2019-02-01.xsd"],
    ("peppol-codelists", "9.7"): ["Peppol Code Lists - Document types v9.7.xml"],
}


def test_manifest_names_every_required_set_and_file() -> None:
    manifest = load_manifest()
    for (name, version), paths in REQUIRED.items():
        aset = manifest.get(name, version)
        assert aset.source.startswith("https://")
        for path in paths:
            entry = aset.file(path)
            assert len(entry.sha256) == 64 and entry.size > 0
            assert entry.url or aset.archive


def test_manifest_matches_the_mirror(reference: Path) -> None:
    """Regenerating the manifest from the mirror gives the committed one, byte for byte."""
    assert build_manifest(reference).to_json() == load_manifest().to_json()


def test_manifest_round_trips_through_json() -> None:
    manifest = load_manifest()
    assert manifest_from_json(manifest.to_json()) == manifest


def test_manifest_tool_writes_a_file(reference: Path, tmp_path: Path) -> None:
    out = tmp_path / "artefacts.json"
    assert main([str(reference), "-o", str(out)]) == 0
    assert load_manifest(out) == load_manifest()


def test_manifest_paths_cannot_escape_the_set_folder() -> None:
    import pytest

    from gateway.errors import ArtefactError

    data = load_manifest().to_json()
    for bad in ("../evil.xsd", "/etc/passwd", "a/../../b"):
        data["sets"][0]["files"][0]["path"] = bad
        with pytest.raises(ArtefactError, match="unsafe path"):
            manifest_from_json(data)
    data = load_manifest().to_json()
    data["sets"][0]["version"] = "../1"
    with pytest.raises(ArtefactError, match="unsafe set name"):
        manifest_from_json(data)

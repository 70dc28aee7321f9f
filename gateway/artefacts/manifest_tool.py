"""(Re)compute ``schemas/artefacts.json`` from an offline mirror of the official artefacts.

Usage::

    python -m gateway.artefacts.manifest_tool ../shared/reference [-o schemas/artefacts.json]

The table :data:`SET_SPECS` says which files of the mirror make up each set and where each
comes from upstream; the tool hashes the files and writes the pinned manifest.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from gateway.artefacts.manifest import MANIFEST_NAME, ArtefactFile, ArtefactSet, Manifest
from gateway.resources import schemas_dir

_GH = "https://raw.githubusercontent.com"
_CEN = f"{_GH}/ConnectingEurope/eInvoicing-EN16931/b6c9e06a59812fb1a83585da40923b3678a649ad"
_PHIVE = f"{_GH}/phax/phive-rules/432f0e9a8cff5c03d06625abe7a5fd8e7e346a64"
_COMMONS = f"{_GH}/phax/peppol-commons/b460bac7d8d903674400979b4c556e9c2dedecf9"
_PH_UBL = f"{_GH}/phax/ph-ubl/4171aae6bee05fa569fa1cd1e3d91e58ed9467a3"
_OASIS_XSDRT = "https://docs.oasis-open.org/ubl/os-UBL-2.1/xsdrt"
_BIS3 = f"{_GH}/OpenPEPPOL/peppol-bis-invoice-3/78d7f7dfa223f39f8ebd8d35c127f2690e646322"
_CII_DIR = "cii/schema/D16B SCRDM (Subset)/uncoupled clm/CII"
_REPORTING = f"{_GH}/phax/peppol-reporting/3eda92a55dd21cfad3c93d04548601836fba43f3"
_REPORTING_XSD = f"{_REPORTING}/peppol-reporting-datatypes/src/main/resources/external/schemas/"
_REPORTING_XSLT = f"{_PHIVE}/phive-rules-peppol/src/main/resources/external/schematron/reporting"
_MLS_ZIP = f"{_PHIVE}/phive-rules-peppol/docs/MLS/mls-resources-1.1.0.zip"


@dataclass(frozen=True)
class SetSpec:
    """Which mirror files form a set and where they come from."""

    name: str
    version: str
    description: str
    source: str
    mirror: str
    patterns: tuple[str, ...]
    """Glob patterns relative to the set's mirror folder."""
    url_bases: tuple[tuple[str, str], ...] = ()
    """``(path prefix, URL base)``: a file under the prefix is at URL base + rest of its path."""
    archive: str | None = None


_UNCEFACT_JSON = (
    f"{_GH}/uncefact/spec-JSONschema/47d813e9809db02db2c5d841791d7118ab8b835f/JSONschema2020-12"
)
_D23B_MARITIME = "snapshot/BuyShipPay/D23B/MultiModalTransport/ITIGG/Maritime IFT"


SET_SPECS: tuple[SetSpec, ...] = (
    SetSpec(
        "ubl-2.1",
        "2.1",
        "OASIS UBL 2.1 XSD (OS xsdrt): Invoice, CreditNote, common; BillOfLading & co. (CS1)",
        f"{_OASIS_XSDRT} ; {_PH_UBL}/ph-ubl21/src/main/resources/external/schemas/ubl21/maindoc",
        "oasis-ubl-2.1",
        ("common/*.xsd", "maindoc/*.xsd", "maindoc-transport-cs1/*.xsd"),
        (
            ("common/", f"{_OASIS_XSDRT}/common/"),
            ("maindoc/", f"{_OASIS_XSDRT}/maindoc/"),
            (
                "maindoc-transport-cs1/",
                f"{_PH_UBL}/ph-ubl21/src/main/resources/external/schemas/ubl21/maindoc/",
            ),
        ),
    ),
    SetSpec(
        "cii-d16b",
        "D16B",
        "UN/CEFACT Cross Industry Invoice D16B XSD (SCRDM subset, uncoupled code lists)",
        f"{_CEN}/{_CII_DIR}",
        f"connectingeurope-einvoicing-en16931/{_CII_DIR}",
        ("**/*.xsd",),
        (("", f"{_CEN}/{_CII_DIR}/"),),
    ),
    SetSpec(
        "cen-ubl",
        "1.3.16",
        "CEN/TC 434 EN 16931 Schematron for UBL, compiled XSLT (validation-1.3.16)",
        f"{_CEN}/ubl/xslt",
        "connectingeurope-einvoicing-en16931/ubl/xslt",
        ("EN16931-UBL-validation.xslt",),
        (("", f"{_CEN}/ubl/xslt/"),),
    ),
    SetSpec(
        "cen-cii",
        "1.3.16",
        "CEN/TC 434 EN 16931 Schematron for CII, compiled XSLT (validation-1.3.16)",
        f"{_CEN}/cii/xslt",
        "connectingeurope-einvoicing-en16931/cii/xslt",
        ("EN16931-CII-validation.xslt",),
        (("", f"{_CEN}/cii/xslt/"),),
    ),
    SetSpec(
        "peppol-bis3",
        "3.0.19",
        "Peppol BIS Billing 3.0.19 (2025.5): CEN and PEPPOL UBL rules, compiled XSLT",
        f"{_PHIVE}/phive-rules-peppol-legacy/src/main/resources/external/schematron/openpeppol/2025.5/xslt",
        "phax-phive-rules/openpeppol-billing-3.0.19-2025.5/xslt",
        ("*.xslt",),
        (
            (
                "",
                f"{_PHIVE}/phive-rules-peppol-legacy/src/main/resources/external/schematron/openpeppol/2025.5/xslt/",
            ),
        ),
    ),
    SetSpec(
        "peppol-bis3",
        "3.0.21",
        "Peppol BIS Billing 3.0.21 (2026.5): CEN, PEPPOL, self-billing, T111, T71, compiled XSLT",
        f"{_PHIVE}/phive-rules-peppol/src/main/resources/external/schematron/openpeppol/2026.5/xslt",
        "phax-phive-rules/openpeppol-billing-3.0.21-2026.5/xslt",
        ("*.xslt",),
        (
            (
                "",
                f"{_PHIVE}/phive-rules-peppol/src/main/resources/external/schematron/openpeppol/2026.5/xslt/",
            ),
        ),
    ),
    SetSpec(
        "peppol-bis3-sch",
        "3.0.19",
        "Peppol BIS Billing 3.0.19 Schematron sources (PEPPOL UBL and CII rules; the CII rules "
        "have no published XSLT, the gateway compiles them)",
        f"{_BIS3}/rules/sch",
        "openpeppol-peppol-bis-invoice-3/rules/sch",
        ("PEPPOL-EN16931-*.sch",),
        (("", f"{_BIS3}/rules/sch/"),),
    ),
    SetSpec(
        "pint",
        "1.1.3",
        "Peppol PINT Billing 1.1.3 (OpenPeppol resource bundle): invoice and credit note XSLT",
        f"{_PHIVE}/phive-rules-peppol-pint/docs/PINT/pint-resources-dev-1.1.3.zip",
        "openpeppol-pint-1.1.3",
        ("trn-*/schematron/*.xslt",),
        archive=f"{_PHIVE}/phive-rules-peppol-pint/docs/PINT/pint-resources-dev-1.1.3.zip",
    ),
    SetSpec(
        "pint-sg",
        "1.4.1",
        "PINT-SG 1.4.1 (InvoiceNow): PINT base + SG jurisdiction rules, invoice and credit note",
        f"{_PHIVE}/phive-rules-peppol-pint/docs/PINT%20SG/pint-sg-resources-dev-1.4.1.zip",
        "openpeppol-pint-sg-1.4.1",
        ("trn-*/schematron/*.xslt",),
        archive=f"{_PHIVE}/phive-rules-peppol-pint/docs/PINT%20SG/pint-sg-resources-dev-1.4.1.zip",
    ),
    SetSpec(
        "sbdh",
        "1.3",
        "UN/CEFACT Standard Business Document Header 1.3 XSD",
        "https://raw.githubusercontent.com/phax/ph-sbdh/974cf9cc35e30a5083f1c188bd3b93ff3c723a42/docs/SBDH20040506-02.zip",
        "unece-sbdh-1.3/xsd",
        ("*.xsd",),
        archive="https://raw.githubusercontent.com/phax/ph-sbdh/974cf9cc35e30a5083f1c188bd3b93ff3c723a42/docs/SBDH20040506-02.zip",
    ),
    SetSpec(
        "peppol-envelope",
        "1.2",
        "Peppol Business Message Envelope XSD (binary/text payloads)",
        f"{_COMMONS}/peppol-sbdh/src/main/resources/external/schemas",
        "phax-peppol-commons/envelope-xsd",
        ("*.xsd",),
        (("", f"{_COMMONS}/peppol-sbdh/src/main/resources/external/schemas/"),),
    ),
    SetSpec(
        "peppol-codelists",
        "9.7",
        "Peppol eDEC Code Lists v9.7: document types, schemes, processes, transport profiles",
        f"{_COMMONS}/peppol-id/src/main/resources/external/codelists",
        "phax-peppol-commons/codelists-v9.7",
        ("*.xml",),
        (("", f"{_COMMONS}/peppol-id/src/main/resources/external/codelists/"),),
    ),
    SetSpec(
        "dcsa-ebl",
        "3.0.3",
        "DCSA eBL 3.0.3 JSON Schemas (TransportDocument, CreateShippingInstructions, "
        "IssuanceRequest, SurrenderRequest; PINT 3.0.0 EblEnvelope), derived from the OpenAPI "
        "YAML of dcsaorg/DCSA-OpenAPI (mirror only)",
        f"{_GH}/dcsaorg/DCSA-OpenAPI/5d0f8337a994e25d4605754339e14eb6bf2d1d08/ebl/v3",
        "ebl/dcsa",
        ("jsonschema/*.schema.json",),
    ),
    SetSpec(
        "uncefact-d23b-json",
        "D23B",
        "UN/CEFACT JSON Schema D23B snapshot: Maritime Bill of Lading (ITIGG Maritime IFT)",
        f"{_UNCEFACT_JSON}/{_D23B_MARITIME}",
        "ebl/uncefact",
        ("jsonschema-D23B-snapshot/UNECE-MaritimeBillofLading.json",),
        (("jsonschema-D23B-snapshot/", f"{_UNCEFACT_JSON}/{quote(_D23B_MARITIME)}/"),),
    ),
    SetSpec(
        "tradetrust",
        "oa-2.0",
        "OpenAttestation v2 document schema and the TradeTrust bill-of-lading 1.0 schema "
        "(mirror only: the staged names differ from upstream)",
        "https://github.com/Open-Attestation/open-attestation ; "
        "https://github.com/Open-Attestation/schemata",
        "ebl/tradetrust",
        (
            "openattestation/oa-v2.0-schema.json",
            "schemata/io.tradetrust.bill-of-lading.1.0.schema.json",
        ),
    ),
    SetSpec(
        "trustvc-context",
        "w3c-064b5dd",
        "TrustVC JSON-LD contexts served at https://trustvc.io/context/ (bill of lading, "
        "carrier bill of lading, TransferableRecords status, render method v2, attachments) "
        "(mirror only: the staged names differ from upstream)",
        f"{_GH}/TrustVC/w3c/064b5dd7866f12ec3093ab7058a7b45f7b8af959/packages/w3c-context/src/context",
        "ebl/tradetrust",
        ("w3c-context/trustvc.io.context.*.json",),
    ),
    SetSpec(
        "peppol-mls",
        "1.0.1",
        "Peppol Message Level Status rules peppol-mls-1.0.1 (MLS bundle 1.1.0), compiled XSLT",
        _MLS_ZIP,
        "openpeppol-mls-1.1.0/trn-mls/schematron",
        ("peppol-mls-1.0.1.xslt",),
        archive=_MLS_ZIP,
    ),
    SetSpec(
        "peppol-reporting-xsd",
        "tsr-1.0.1-eusr-1.1",
        "Peppol Reporting XSDs: Transaction Statistics Report 1.0.1, End User Statistics Report 1.1",
        _REPORTING_XSD,
        "phax-peppol-reporting/xsd",
        ("*.xsd",),
        (("", _REPORTING_XSD),),
    ),
    SetSpec(
        "peppol-reporting",
        "tsr-1.0.5-eusr-1.1.5",
        "Peppol Reporting Schematron TSR 1.0.5 and EUSR 1.1.5, compiled XSLT",
        _REPORTING_XSLT,
        "phax-phive-rules/peppol-reporting-eusr-1.1.5-tsr-1.0.5/xslt",
        ("*.xslt",),
        (
            (
                "peppol-transaction-statistics-reporting-1.0.5.xslt",
                f"{_REPORTING_XSLT}/tsr/1.0.5/xslt/peppol-transaction-statistics-reporting-1.0.5.xslt",
            ),
            (
                "peppol-end-user-statistics-reporting-1.1.5.xslt",
                f"{_REPORTING_XSLT}/eusr/1.1.5/xslt/peppol-end-user-statistics-reporting-1.1.5.xslt",
            ),
        ),
    ),
)


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _url_for(spec: SetSpec, rel: str) -> str | None:
    for prefix, base in spec.url_bases:
        if rel.startswith(prefix):
            return base + quote(rel[len(prefix) :])
    return None


def build_set(spec: SetSpec, mirror_root: Path) -> ArtefactSet:
    """Hash the files of one set in the mirror; ``FileNotFoundError`` if none match."""
    folder = mirror_root / spec.mirror
    paths = sorted({p for pattern in spec.patterns for p in folder.glob(pattern) if p.is_file()})
    if not paths:
        raise FileNotFoundError(f"no files for {spec.name}/{spec.version} under {folder}")
    files = tuple(
        ArtefactFile(
            path=(rel := p.relative_to(folder).as_posix()),
            sha256=sha256_of(p),
            size=p.stat().st_size,
            url=None if spec.archive else _url_for(spec, rel),
        )
        for p in paths
    )
    return ArtefactSet(
        spec.name, spec.version, spec.description, spec.source, spec.mirror, files, spec.archive
    )


def build_manifest(mirror_root: Path, specs: Sequence[SetSpec] = SET_SPECS) -> Manifest:
    """The manifest of every set in ``specs``, hashed from ``mirror_root``."""
    return Manifest(tuple(build_set(spec, mirror_root) for spec in specs))


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: write the manifest computed from a mirror."""
    parser = argparse.ArgumentParser(prog="python -m gateway.artefacts.manifest_tool")
    parser.add_argument("mirror", type=Path, help="mirror laid out like ../shared/reference")
    parser.add_argument("-o", "--output", type=Path, default=schemas_dir() / MANIFEST_NAME)
    args = parser.parse_args(argv)
    manifest = build_manifest(args.mirror)
    text = json.dumps(manifest.to_json(), indent=1, ensure_ascii=False) + "\n"
    args.output.write_text(text, encoding="utf-8")
    count = sum(len(s.files) for s in manifest.sets)
    print(f"wrote {args.output}: {len(manifest.sets)} sets, {count} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""eBL in, eBL out: read any supported eBL, check it, convert it, validate what comes out.

::

    checked = check_ebl(data, home)                      # read + schema + ebl.* rules
    result = convert_ebl(data, EblTarget.UBL, home)      # + render + validate the output

Inputs: DCSA ``TransportDocument``, ``CreateShippingInstructions``, ``IssuanceRequest``, PINT
``EblEnvelope``, full-state ``TransportDocumentNotification`` (JSON), and UBL 2.1
``BillOfLading`` (XML). JSON is validated against DCSA's schema before it is read; XML against
the UBL XSD. A fatal finding raises :class:`~gateway.errors.ValidationFailed` carrying the
report (every finding names its JSON pointer or XPath); nothing is produced. Every output is
validated against its own schema before it is returned, and what the target cannot carry is
in :attr:`EblConversion.warnings`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

from gateway.errors import InputError, UnknownFormatError, ValidationFailed
from gateway.ingest.safejson import load_json
from gateway.ingest.textenc import head_text
from gateway.ingest.types import DEFAULT_LIMITS, IngestLimits
from gateway.model.transport_document import TransportDocument
from gateway.read.dcsa import detect_kind, read_dcsa
from gateway.read.ubl_bill_of_lading import read_bill_of_lading
from gateway.render.dcsa import dump_json, render_dcsa
from gateway.render.tradetrust_oa import (
    LOCAL_ISSUER,
    PLACEHOLDER_WARNING,
    TradeTrustIssuer,
    render_tradetrust_raw,
)
from gateway.render.tradetrust_vc import VcFacts, render_tradetrust_vc
from gateway.render.ubl_bill_of_lading import render_bill_of_lading
from gateway.render.uncefact_bill_of_lading import render_uncefact
from gateway.signing.ecdsa_sd import undefined_terms
from gateway.signing.jsonld_loader import static_loader
from gateway.signing.openattestation import verify_document, wrap_document
from gateway.signing.vc_issuer import VcIssuer
from gateway.validation.dcsa_schema import DcsaKind, validate_dcsa
from gateway.validation.ebl_rules import check_transport_document
from gateway.validation.engine import Validator
from gateway.validation.json_schema import SchemaRef, check
from gateway.validation.report import Finding, ValidationReport
from gateway.xmlsafe import parse_xml

UNCEFACT_SCHEMA = SchemaRef(
    "uncefact-d23b-json", "D23B", "jsonschema-D23B-snapshot/UNECE-MaritimeBillofLading.json"
)
OA_SCHEMA = SchemaRef("tradetrust", "oa-2.0", "openattestation/oa-v2.0-schema.json")
TRADETRUST_BL_SCHEMA = SchemaRef(
    "tradetrust", "oa-2.0", "schemata/io.tradetrust.bill-of-lading.1.0.schema.json"
)
_DCSA_KINDS = {
    "TransportDocument": DcsaKind.TRANSPORT_DOCUMENT,
    "CreateShippingInstructions": DcsaKind.CREATE_SHIPPING_INSTRUCTIONS,
    "IssuanceRequest": DcsaKind.ISSUANCE_REQUEST,
    "EblEnvelope": DcsaKind.PINT_ENVELOPE,
}


class EblTarget(StrEnum):
    """Output formats of ``lingang ebl convert --to``."""

    DCSA = "dcsa"
    UBL = "ubl"
    UNCEFACT = "uncefact"
    TRADETRUST_OA = "tradetrust-oa"
    TRADETRUST_VC = "tradetrust-vc"


_TRADETRUST_BILL = (
    "a TradeTrust bill of lading, a transferable record whose title a token registry holds"
)
BILLS_OF_LADING_ONLY = {
    EblTarget.UNCEFACT: "the UN/CEFACT D23B Maritime Bill of Lading (typeCode 706, a bill of "
    "lading original, the only document type the message allows)",
    EblTarget.TRADETRUST_OA: _TRADETRUST_BILL,
    EblTarget.TRADETRUST_VC: _TRADETRUST_BILL,
}
"""The targets that can only be a bill of lading, and what each is: a sea waybill is not a
document of title, so it has no place in them."""
VC_MEDIA_TYPE = "application/vc"
"""The media type of a W3C VC 2.0 credential, with or without an embedded proof (VC Data
Model 2.0 §6.3, registered at IANA; ``application/vc+ld+json`` was a draft's name)."""
MEDIA_TYPES = {
    EblTarget.DCSA: "application/json",
    EblTarget.UBL: "application/xml",
    EblTarget.UNCEFACT: "application/json",
    EblTarget.TRADETRUST_OA: "application/json",
    EblTarget.TRADETRUST_VC: VC_MEDIA_TYPE,
}
VC_CHAINS = {"local": "ETH"}
"""TradeTrust's network code for our chain names (a local Ethereum chain is ``ETH``)."""


@dataclass(slots=True)
class CheckedEbl:
    """An eBL read and checked: the canonical document, its input kind, non-fatal findings
    and reader warnings."""

    document: TransportDocument
    input_kind: str
    findings: list[Finding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(slots=True)
class EblConversion:
    """A converted eBL: the output bytes, their media type, and what did not carry over."""

    target: EblTarget
    output: bytes
    media_type: str
    input_kind: str
    warnings: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


@lru_cache(maxsize=4)
def _xsd_validator(home: Path) -> Validator:
    """One validator per data home (its compiled UBL XSD is reused)."""
    return Validator(home)


def _reject(kind: str, findings: list[Finding], what: str) -> ValidationFailed:
    report = ValidationReport(profile="ebl", document_type=kind, findings=findings)
    first = report.fatals()[0]
    return ValidationFailed(
        f"{what} has {len(report.fatals())} fatal finding(s); first: {first.location}: "
        f"{first.text}",
        report,
    )


def check_ebl(data: bytes, home: Path, limits: IngestLimits = DEFAULT_LIMITS) -> CheckedEbl:
    """Read and check an eBL; :class:`ValidationFailed` on any fatal finding."""
    if len(data) > limits.max_input_bytes:
        raise InputError(
            f"eBL input is {len(data)} bytes, more than {limits.max_input_bytes}",
            rule="input.max-bytes",
        )
    start = head_text(data)[:1]
    if start == "<":
        return _check_ubl(data, home, limits)
    if start in ("{", "["):
        return _check_dcsa(load_json(data, limits, "DCSA eBL JSON", for_xml=True), home)
    raise UnknownFormatError(
        "not an eBL: expected DCSA JSON or a UBL BillOfLading", rule="ebl.format"
    )


def _check_dcsa(parsed: Any, home: Path) -> CheckedEbl:
    kind = detect_kind(parsed)
    if kind == "TransportDocumentNotification":
        findings = validate_dcsa(
            parsed["data"]["transportDocument"], DcsaKind.TRANSPORT_DOCUMENT, home
        )
        findings = [
            Finding(
                f.rule_id,
                f.flag,
                "/data/transportDocument" + f.location.rstrip("/"),
                f.text,
                f.source,
            )
            for f in findings
        ]
    else:
        findings = validate_dcsa(parsed, _DCSA_KINDS[kind], home)
    if any(f.flag == "fatal" for f in findings):
        raise _reject(kind, findings, f"DCSA {kind}")
    read = read_dcsa(parsed)
    findings += check_transport_document(read.document)
    if any(f.flag == "fatal" for f in findings):
        raise _reject(kind, findings, f"DCSA {kind}")
    return CheckedEbl(read.document, kind, findings, read.warnings)


def _check_ubl(data: bytes, home: Path, limits: IngestLimits) -> CheckedEbl:
    root = parse_xml(data, limits=limits.xml, what="UBL BillOfLading")
    report = _xsd_validator(home).validate(data)
    if report.fatal:
        raise _reject("BillOfLading", report.findings, "UBL BillOfLading")
    document = read_bill_of_lading(root)
    findings = check_transport_document(document)
    if any(f.flag == "fatal" for f in findings):
        raise _reject("BillOfLading", findings, "UBL BillOfLading")
    return CheckedEbl(document, "BillOfLading", findings)


def convert_ebl(
    data: bytes,
    target: EblTarget,
    home: Path,
    *,
    issuer: TradeTrustIssuer = LOCAL_ISSUER,
    limits: IngestLimits = DEFAULT_LIMITS,
    sign_xml: Callable[[bytes], bytes] | None = None,
    vc_issuer: VcIssuer | None = None,
) -> EblConversion:
    """Check ``data`` and convert it to ``target``; the output is validated before return.

    ``sign_xml`` (e.g. :meth:`gateway.signing.xades.XadesSigner.sign`) signs a UBL output
    (enveloped XAdES in ``ext:UBLExtensions``); the signed document is validated again.
    ``vc_issuer`` signs the ``tradetrust-vc`` output (required for it).
    """
    checked = check_ebl(data, home, limits)
    return convert_document(
        checked, target, home, issuer=issuer, sign_xml=sign_xml, vc_issuer=vc_issuer
    )


def convert_document(
    checked: CheckedEbl,
    target: EblTarget,
    home: Path,
    *,
    issuer: TradeTrustIssuer = LOCAL_ISSUER,
    sign_xml: Callable[[bytes], bytes] | None = None,
    vc_issuer: VcIssuer | None = None,
) -> EblConversion:
    """Render a checked eBL as ``target`` and validate the output (signed, for UBL, when
    ``sign_xml`` is given; the W3C VC always, by ``vc_issuer``)."""
    _check_document_type(checked.document, target)
    if sign_xml is not None and target is not EblTarget.UBL:
        raise InputError(
            f"only the ubl output is signed (XAdES); {target.value} is not XML",
            field="--sign-key",
            rule="ebl.sign-ubl-only",
        )
    if target is EblTarget.TRADETRUST_VC and vc_issuer is None:
        raise InputError(
            "tradetrust-vc is signed (ecdsa-sd-2023) by an issuer key published under a "
            "did:web: give the key and the DID (`lingang keys did-web` makes both)",
            field="--vc-key",
            rule="ebl.vc-issuer",
        )
    doc = checked.document
    warnings = list(checked.warnings)
    tradetrust = target in (EblTarget.TRADETRUST_OA, EblTarget.TRADETRUST_VC)
    if tradetrust and issuer.token_registry == LOCAL_ISSUER.token_registry:
        warnings.append(PLACEHOLDER_WARNING)
    if target is EblTarget.DCSA:
        dcsa = render_dcsa(doc)
        warnings += dcsa.warnings
        findings = validate_dcsa(dcsa.data, DcsaKind(dcsa.kind), home)
        output = dump_json(dcsa.data)
    elif target is EblTarget.UBL:
        ubl = render_bill_of_lading(doc)
        warnings += ubl.warnings
        output = ubl.xml if sign_xml is None else sign_xml(ubl.xml)
        findings = _xsd_validator(home).validate(output).findings
    elif target is EblTarget.UNCEFACT:
        un = render_uncefact(doc)
        warnings += un.warnings
        findings = check(un.data, UNCEFACT_SCHEMA, home)
        output = dump_json(un.data)
    elif target is EblTarget.TRADETRUST_VC:
        assert vc_issuer is not None
        facts = VcFacts(
            vc_issuer.did,
            issuer.token_registry,
            VC_CHAINS.get(issuer.chain, issuer.chain),
            _chain_id(issuer.chain_id),
        )
        rendered = render_tradetrust_vc(doc, facts)
        warnings += rendered.warnings
        signed = vc_issuer.sign(rendered.data, home)
        findings = [
            Finding("vc.undefined-term", "fatal", where, "no JSON-LD context defines it", "json-ld")
            for where in undefined_terms(signed, static_loader(home))
        ]
        findings += [
            Finding("vc.integrity", "fatal", "/proof", p, "ecdsa-sd-2023")
            for p in vc_issuer.verify(signed, home)
        ]
        output = dump_json(signed)
    else:
        raw = render_tradetrust_raw(doc, issuer)
        warnings += raw.warnings
        wrapped = wrap_document(raw.data)
        findings = check(raw.data, TRADETRUST_BL_SCHEMA, home) + check(raw.data, OA_SCHEMA, home)
        verdict = verify_document(wrapped)
        findings += [
            Finding("oa.integrity", "fatal", "/signature", p, "oa") for p in verdict.problems
        ]
        output = dump_json(wrapped)
    if any(f.flag == "fatal" for f in findings):
        raise _reject(target.value, findings, f"the {target.value} output")
    return EblConversion(
        target,
        output,
        MEDIA_TYPES[target],
        checked.input_kind,
        warnings,
        checked.findings + findings,
    )


def _check_document_type(doc: TransportDocument, target: EblTarget) -> None:
    """Refuse a sea waybill for a target that can only be a bill of lading."""
    what = BILLS_OF_LADING_ONLY.get(target)
    if what is not None and doc.type_code != "BOL":
        raise InputError(
            f"transportDocumentTypeCode {doc.type_code}: a sea waybill is not a bill of lading, "
            f"and {target.value} is {what}",
            field="/transportDocumentTypeCode",
            rule="ebl.bill-of-lading-only",
        )


def _chain_id(text: str) -> int:
    if not text.isdigit():
        raise InputError(
            f"chain id {text!r} must be a whole number", field="--chain-id", rule="ebl.chain-id"
        )
    return int(text)

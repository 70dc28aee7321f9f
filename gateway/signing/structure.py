"""Read a ``ds:Signature`` strictly: where it is, what it references, what it claims.

This is the first line of the signature-wrapping defence. A signature is accepted only in
its one expected place, with exactly two references — the whole document (enveloped, URI
``""``) or the detached data, and this signature's own ``xades:SignedProperties`` — and with
no other element anywhere in the document sharing the SignedProperties' Id. Anything else
is refused with ``check=Check.STRUCTURE`` before any cryptography runs.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache

from cryptography import x509
from lxml import etree

from gateway.errors import VerificationError
from gateway.signing import names, ubl
from gateway.signing.algorithms import (
    DS_NS,
    ENVELOPED_TRANSFORM,
    SIGNED_PROPERTIES_TYPE,
    XADES_NS,
    Canonicalization,
    Check,
    DigestAlgorithm,
    SignatureAlgorithm,
    canonicalization,
    digest_algorithm,
    signature_algorithm,
)
from gateway.signing.chain import readable

DS = f"{{{DS_NS}}}"
XA = f"{{{XADES_NS}}}"
EC_NS = "http://www.w3.org/2001/10/xml-exc-c14n#"


_ID_OWNERS = etree.XPath(
    "//@*[(local-name()='Id' or local-name()='ID' or local-name()='id') and .=$v]/.."
)
"""Every element carrying an Id-like attribute (any namespace) with the value ``$v``."""


def elements_with_id(root: etree._Element, value: str) -> list[etree._Element]:
    """Elements anywhere in ``root``'s document whose Id / ID / id attribute is ``value``."""
    found = _ID_OWNERS(root, v=value)
    return [e for e in found if isinstance(e, etree._Element)] if isinstance(found, list) else []


def _fail(message: str) -> VerificationError:
    return VerificationError(message, check=Check.STRUCTURE)


@dataclass(frozen=True, slots=True)
class Transform:
    """One canonicalization step of a reference."""

    method: Canonicalization
    prefixes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Reference:
    """A ``ds:Reference``: what it points at, how it is transformed and its digest."""

    uri: str
    enveloped: bool
    c14n: Transform | None
    digest_method: DigestAlgorithm
    digest_value: bytes


@dataclass(frozen=True, slots=True)
class CertDigest:
    """The signing-certificate digest claimed in the signed properties."""

    method: DigestAlgorithm
    value: bytes


@dataclass(frozen=True, slots=True)
class IssuerSerial:
    """The issuer and serial number the signed properties give for the signing certificate
    (``xades:IssuerSerial`` or ``xades:IssuerSerialV2``)."""

    element: str
    """Which element said it, for messages."""
    issuers: tuple[names.Name, ...]
    issuer_text: str | None
    """The X509IssuerName as written (IssuerSerialV2 has DER only)."""
    serial: int


@dataclass(frozen=True, slots=True)
class ParsedSignature:
    """Everything a verifier needs from one signature, already checked for shape."""

    element: etree._Element
    signed_info: etree._Element
    c14n: Transform
    algorithm: SignatureAlgorithm
    value: bytes
    certificates: tuple[x509.Certificate, ...]
    document: Reference
    properties_ref: Reference
    key_info_refs: tuple[Reference, ...]
    """References to this signature's own ds:KeyInfo (some signers sign their certificate)."""
    signed_properties: etree._Element
    signing_time: datetime
    cert_digest: CertDigest
    issuer_serial: IssuerSerial | None
    """From the same ``xades:Cert`` as :attr:`cert_digest`, when it has one."""


def _b64(text: str | None, what: str) -> bytes:
    try:
        return base64.b64decode("".join((text or "").split()), validate=True)
    except (binascii.Error, ValueError):
        raise _fail(f"{what} is not valid base64") from None


def _children(element: etree._Element) -> list[etree._Element]:
    """Element children, skipping comments and processing instructions."""
    return [child for child in element if isinstance(child.tag, str)]


class SignatureForm(StrEnum):
    """Where a signature sits relative to what it signs (XML-DSig 1.1 section 2)."""

    ENVELOPED = "enveloped"
    """Inside the document it signs (the gateway's XML signatures)."""
    ENVELOPING = "enveloping"
    """The signed data inside the signature's own ``ds:Object`` (not verified here)."""
    DETACHED = "detached"
    """Apart from the data it signs, which its reference names (the gateway's evidence for
    Peppol invoices, CII and JSON)."""


def signature_form(root: etree._Element) -> SignatureForm:
    """The form of the signature document ``root``: enveloped unless the root is a
    ``ds:Signature``; then enveloping when a reference other than the SignedProperties one
    points into one of its ``ds:Object`` elements, else detached."""
    if root.tag != f"{DS}Signature":
        return SignatureForm.ENVELOPED
    inside = {el.get("Id") for obj in root.findall(f"{DS}Object") for el in obj.iter()}
    for reference in root.findall(f"{DS}SignedInfo/{DS}Reference"):
        uri = reference.get("URI") or ""
        if reference.get("Type") != SIGNED_PROPERTIES_TYPE and uri[:1] == "#" and uri[1:] in inside:
            return SignatureForm.ENVELOPING
    return SignatureForm.DETACHED


ENVELOPING_REFUSED = (
    "this is an enveloping signature (the signed data is inside its ds:Object); only "
    "enveloped and detached signatures are verified"
)


def locate_enveloped(root: etree._Element) -> etree._Element:
    """The one ``ds:Signature`` of an enveloped document, at its only allowed place."""
    if signature_form(root) is SignatureForm.ENVELOPING:
        raise _fail(ENVELOPING_REFUSED)
    if root.tag == f"{DS}Signature":
        raise _fail("this is a detached signature: verify it together with the data it covers")
    found = list(root.iter(f"{DS}Signature"))
    if not found:
        raise _fail("the document carries no ds:Signature")
    if len(found) > 1:
        raise _fail(f"the document carries {len(found)} ds:Signature elements; one is allowed")
    signature = found[0]
    if ubl.is_ubl(root):
        expected = [
            f"{{{ubl.SAC}}}SignatureInformation",
            f"{{{ubl.SIG}}}UBLDocumentSignatures",
            f"{{{ubl.EXT}}}ExtensionContent",
            f"{{{ubl.EXT}}}UBLExtension",
            f"{{{ubl.EXT}}}UBLExtensions",
        ]
        ancestors = list(signature.iterancestors())
        if [a.tag for a in ancestors[:-1]] != expected or ancestors[-1] is not root:
            raise _fail(f"the signature is not at {ubl.signature_information_path()}")
    elif signature.getparent() is not root:
        raise _fail("the ds:Signature is not a child of the document root")
    return signature


def _transforms(reference: etree._Element) -> tuple[bool, Transform | None]:
    holder = reference.find(f"{DS}Transforms")
    if holder is None:
        return False, None
    enveloped = False
    c14n: Transform | None = None
    for index, step in enumerate(_children(holder)):
        algorithm = step.get("Algorithm", "")
        if step.tag != f"{DS}Transform":
            raise _fail(f"unexpected {step.tag} in ds:Transforms")
        if algorithm == ENVELOPED_TRANSFORM and index == 0:
            enveloped = True
            continue
        if c14n is not None:
            raise _fail("a reference has more than one canonicalization transform")
        method = canonicalization(algorithm)
        prefixes = _inclusive_prefixes(step) if method.exclusive else ()
        c14n = Transform(method, prefixes)
    return enveloped, c14n


def _inclusive_prefixes(step: etree._Element) -> tuple[str, ...]:
    holder = step.find(f"{{{EC_NS}}}InclusiveNamespaces")
    if holder is None:
        return ()
    return tuple(p for p in holder.get("PrefixList", "").split() if p != "#default")


def _reference(element: etree._Element) -> Reference:
    enveloped, c14n = _transforms(element)
    method_el = element.find(f"{DS}DigestMethod")
    value_el = element.find(f"{DS}DigestValue")
    if method_el is None or value_el is None:
        raise _fail("a ds:Reference lacks DigestMethod or DigestValue")
    return Reference(
        uri=element.get("URI", ""),
        enveloped=enveloped,
        c14n=c14n,
        digest_method=digest_algorithm(method_el.get("Algorithm", "")),
        digest_value=_b64(value_el.text, "DigestValue"),
    )


def _signed_info(signature: etree._Element) -> tuple[etree._Element, Transform, SignatureAlgorithm]:
    parts = _children(signature)
    if not parts or parts[0].tag != f"{DS}SignedInfo":
        raise _fail("ds:Signature does not start with ds:SignedInfo")
    info = parts[0]
    steps = _children(info)
    if len(steps) < 3 or [s.tag for s in steps[:2]] != [
        f"{DS}CanonicalizationMethod",
        f"{DS}SignatureMethod",
    ]:
        raise _fail("ds:SignedInfo is malformed")
    method = canonicalization(steps[0].get("Algorithm", ""))
    prefixes = _inclusive_prefixes(steps[0]) if method.exclusive else ()
    algorithm = signature_algorithm(steps[1].get("Algorithm", ""))
    return info, Transform(method, prefixes), algorithm


def _split_references(
    signature: etree._Element, info: etree._Element, detached: bool
) -> tuple[Reference, Reference, list[Reference]]:
    """The document reference, the SignedProperties reference and any ds:KeyInfo references."""
    elements = _children(info)[2:]
    if any(e.tag != f"{DS}Reference" for e in elements):
        raise _fail("ds:SignedInfo holds something other than ds:Reference")
    props_els = [e for e in elements if e.get("Type") == SIGNED_PROPERTIES_TYPE]
    if len(props_els) != 1:
        raise _fail("exactly one reference must point at the xades:SignedProperties")
    key_info_ids = _key_info_ids(signature)
    key_info_els = [e for e in elements if e.get("URI", "")[1:] in key_info_ids]
    doc_els = [e for e in elements if e is not props_els[0] and e not in key_info_els]
    if len(doc_els) != 1 or len(key_info_els) > 1:
        raise _fail(
            f"ds:SignedInfo has {len(elements)} references; allowed are one for the document, "
            "one for the SignedProperties and at most one for this signature's ds:KeyInfo"
        )
    document, properties = _reference(doc_els[0]), _reference(props_els[0])
    key_info_refs = [_reference(e) for e in key_info_els]
    if any(r.enveloped or not r.uri.startswith("#") for r in (properties, *key_info_refs)):
        raise _fail("SignedProperties / KeyInfo references must be plain same-document #ids")
    if detached:
        if document.enveloped or document.c14n or document.uri[:1] in ("", "#"):
            raise _fail("a detached signature must reference external data without transforms")
    elif document.uri != "" or not document.enveloped:
        raise _fail('the signed reference does not cover the whole document (URI "", enveloped)')
    return document, properties, key_info_refs


def _key_info_ids(signature: etree._Element) -> dict[str, etree._Element]:
    """Ids carried by this signature's ds:KeyInfo and its descendants."""
    key_info = signature.find(f"{DS}KeyInfo")
    if key_info is None:
        return {}
    return {el.get("Id", ""): el for el in key_info.iter() if el.get("Id")}


def key_info_target(root: etree._Element, signature: etree._Element, uri: str) -> etree._Element:
    """The element inside ds:KeyInfo that ``uri`` (``#id``) names; the Id must be unique."""
    target_id = uri[1:]
    matches = elements_with_id(root, target_id)
    target = _key_info_ids(signature).get(target_id)
    if target is None or len(matches) != 1:
        raise _fail(f"Id {target_id!r} is not unique in the document")
    return target


def _certificates(signature: etree._Element) -> tuple[x509.Certificate, ...]:
    found = signature.findall(f"{DS}KeyInfo/{DS}X509Data/{DS}X509Certificate")
    if not found:
        raise _fail("ds:KeyInfo carries no X509Certificate")
    return tuple(_certificate("".join((c.text or "").split())) for c in found)


@lru_cache(maxsize=256)
def _certificate(text: str) -> x509.Certificate:
    """One X509Certificate value, parsed (cached: the same certificates come again and again)."""
    try:
        loaded = x509.load_der_x509_certificate(_b64(text, "X509Certificate"))
    except ValueError as exc:
        raise _fail(f"an X509Certificate cannot be read: {exc}") from exc
    return readable(loaded)


def _signed_properties(
    root: etree._Element, signature: etree._Element, prop_id: str
) -> etree._Element:
    matches = elements_with_id(root, prop_id)
    if len(matches) != 1:
        raise _fail(f"Id {prop_id!r} is not unique in the document")
    path = f"{DS}Object/{XA}QualifyingProperties/{XA}SignedProperties"
    own = [p for p in signature.findall(path) if p.get("Id") == prop_id]
    if len(own) != 1 or own[0] is not matches[0]:
        raise _fail("the SignedProperties reference does not point into this signature")
    target = own[0].getparent()
    sig_id = signature.get("Id")
    if target is not None and sig_id and target.get("Target") != f"#{sig_id}":
        raise _fail("xades:QualifyingProperties does not target this signature")
    return own[0]


def _signing_time(props: etree._Element) -> datetime:
    text = props.findtext(f"{XA}SignedSignatureProperties/{XA}SigningTime")
    if not text:
        raise VerificationError("xades:SigningTime is missing", check=Check.SIGNED_PROPERTIES)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise VerificationError(
            f"SigningTime {text!r} is not a dateTime", check=Check.SIGNED_PROPERTIES
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _signing_cert(props: etree._Element) -> etree._Element:
    """The first ``xades:Cert`` of SigningCertificateV2 (or else SigningCertificate): the
    signing certificate's."""
    base = f"{XA}SignedSignatureProperties/"
    certs = props.findall(f"{base}{XA}SigningCertificateV2/{XA}Cert") + props.findall(
        f"{base}{XA}SigningCertificate/{XA}Cert"
    )
    if len(certs) < 1:
        raise VerificationError(
            "xades:SigningCertificate(V2) is missing", check=Check.SIGNED_PROPERTIES
        )
    return certs[0]


def _cert_digest(cert: etree._Element) -> CertDigest:
    method = cert.find(f"{XA}CertDigest/{DS}DigestMethod")
    value = cert.findtext(f"{XA}CertDigest/{DS}DigestValue")
    if method is None or value is None:
        raise VerificationError("xades:CertDigest is incomplete", check=Check.SIGNED_PROPERTIES)
    return CertDigest(digest_algorithm(method.get("Algorithm", "")), _b64(value, "CertDigest"))


def _issuer_serial(cert: etree._Element) -> IssuerSerial | None:
    """What ``cert``'s IssuerSerial (XAdES 1.3.2 7.2.2) or IssuerSerialV2 (EN 319 132-1
    5.2.2.2: the base64 DER of an RFC 5035 IssuerSerial) says, if it has either."""
    legacy = cert.find(f"{XA}IssuerSerial")
    v2 = cert.findtext(f"{XA}IssuerSerialV2")
    try:
        if legacy is not None:
            issuer = legacy.findtext(f"{DS}X509IssuerName") or ""
            serial = (legacy.findtext(f"{DS}X509SerialNumber") or "").strip()
            parsed = (names.parse_rfc4514(issuer),)
            return IssuerSerial("xades:IssuerSerial", parsed, issuer, int(serial))
        if v2 is not None:
            issuers, number = names.read_issuer_serial_v2(_b64(v2, "IssuerSerialV2"))
            return IssuerSerial("xades:IssuerSerialV2", issuers, None, number)
    except ValueError as exc:
        raise VerificationError(
            f"the signing certificate's issuer and serial number cannot be read: {exc}",
            check=Check.SIGNED_PROPERTIES,
        ) from None
    return None


def parse_signature(
    root: etree._Element, signature: etree._Element, *, detached: bool = False
) -> ParsedSignature:
    """Check the shape of ``signature`` (inside ``root``) and read it."""
    info, c14n, algorithm = _signed_info(signature)
    document, properties_ref, key_info_refs = _split_references(signature, info, detached)
    prop_id = properties_ref.uri[1:]
    value_el = signature.find(f"{DS}SignatureValue")
    if value_el is None:
        raise _fail("ds:SignatureValue is missing")
    props = _signed_properties(root, signature, prop_id)
    signing_cert = _signing_cert(props)
    return ParsedSignature(
        element=signature,
        signed_info=info,
        c14n=c14n,
        algorithm=algorithm,
        value=_b64(value_el.text, "SignatureValue"),
        certificates=_certificates(signature),
        document=document,
        properties_ref=properties_ref,
        key_info_refs=tuple(key_info_refs),
        signed_properties=props,
        signing_time=_signing_time(props),
        cert_digest=_cert_digest(signing_cert),
        issuer_serial=_issuer_serial(signing_cert),
    )

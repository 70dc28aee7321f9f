"""XML Signature as WS-Security and the SMP use it: exclusive C14N, SHA-256, RSA.

Same-document references (``#id`` to ``wsu:Id``/``Id``), attachment references (``cid:``, the
SwA *Attachment-Content-Signature-Transform*: the digest of the attachment's octets) and the
SMP's enveloped signature. Verification recomputes every digest and the signature value; any
algorithm outside the short list below is refused by name.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

from adapters.peppol import ns
from gateway.errors import VerificationError

_DIGESTS: dict[str, Callable[[bytes | memoryview], bytes]] = {
    ns.SHA256: lambda data: hashlib.sha256(data).digest(),
    ns.SHA1: lambda data: hashlib.sha1(data, usedforsecurity=False).digest(),
}
_SIGNATURES: dict[str, hashes.HashAlgorithm] = {
    ns.RSA_SHA256: hashes.SHA256(),
    ns.RSA_SHA1: hashes.SHA1(),
}


@dataclass(frozen=True, slots=True)
class SignedReference:
    """One ``ds:Reference``: its URI and its digest (base64)."""

    uri: str
    digest: str


_TRANSFORMS = ns.q("ds", "Transforms")
_TRANSFORM = ns.q("ds", "Transform")
_WITH_ID = etree.XPath("//*[@wsu:Id or @Id]", namespaces={"wsu": ns.WSU})
_WSU_ID = ns.q("wsu", "Id")


def id_index(root: etree._Element) -> dict[str, list[etree._Element]]:
    """Every element carrying a ``wsu:Id`` or ``Id``, by id (one pass over the document)."""
    index: dict[str, list[etree._Element]] = {}
    found = _WITH_ID(root)
    assert isinstance(found, list)
    for element in found:
        if not isinstance(element, etree._Element):
            continue
        for ident in {element.get(_WSU_ID), element.get("Id")} - {None}:
            assert ident is not None
            index.setdefault(ident, []).append(element)
    return index


def element_by_id(
    root: etree._Element, ident: str, index: dict[str, list[etree._Element]] | None = None
) -> etree._Element:
    """The one element whose ``wsu:Id`` or ``Id`` is ``ident``; refuses none or several."""
    found = (index if index is not None else id_index(root)).get(ident, [])
    if len(found) != 1:
        raise VerificationError(
            f"reference #{ident} matches {len(found)} elements (must be exactly one)",
            check="xmldsig.reference-id",
        )
    return found[0]


def _prefixes(parent: etree._Element | None) -> list[str]:
    if parent is None:
        return []
    inclusive = ns.first(parent, "ec:InclusiveNamespaces")
    if inclusive is None:
        return []
    return [p for p in (inclusive.get("PrefixList") or "").split() if p != "#default"]


def exc_c14n(element: etree._Element | etree._ElementTree, prefixes: Sequence[str] = ()) -> bytes:
    """Exclusive canonical form (no comments) of ``element`` (or of a whole document)."""
    return etree.tostring(
        element,
        method="c14n",
        exclusive=True,
        with_comments=False,
        inclusive_ns_prefixes=list(prefixes) or None,
    )


def _b64(text: str | None, what: str) -> bytes:
    """Base64 text (whitespace allowed) as bytes; :class:`VerificationError` when malformed."""
    try:
        return base64.b64decode("".join((text or "").split()), validate=True)
    except ValueError as exc:
        raise VerificationError(f"{what} is not base64", check="xmldsig.base64") from exc


def digest_b64(data: bytes) -> str:
    """Base64 SHA-256 of ``data``."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def reference_xml(
    uri: str, digest: str, *, attachment: bool, prefixes: Sequence[str] = ()
) -> etree._Element:
    """A ``ds:Reference`` element (exc-c14n transform, or the attachment transform)."""
    ref = etree.Element(ns.q("ds", "Reference"), URI=uri, nsmap={"ds": ns.DS})
    transforms = etree.SubElement(ref, ns.q("ds", "Transforms"))
    transform = etree.SubElement(
        transforms,
        ns.q("ds", "Transform"),
        Algorithm=ns.ATTACHMENT_SIGNATURE_TRANSFORM if attachment else ns.EXC_C14N,
    )
    if prefixes and not attachment:
        etree.SubElement(
            transform,
            ns.q("ec", "InclusiveNamespaces"),
            PrefixList=" ".join(prefixes),
            nsmap={"ec": ns.EC},
        )
    etree.SubElement(ref, ns.q("ds", "DigestMethod"), Algorithm=ns.SHA256)
    etree.SubElement(ref, ns.q("ds", "DigestValue")).text = digest
    return ref


def build_signature(
    root: etree._Element,
    *,
    element_ids: Sequence[str],
    attachments: Mapping[str, bytes],
    key: rsa.RSAPrivateKey,
    key_info: etree._Element,
    signature_id: str,
    c14n_prefixes: Sequence[str] = (),
) -> tuple[etree._Element, list[SignedReference]]:
    """A ``ds:Signature`` over the elements with ``element_ids`` (found in ``root``) and the
    attachments (``content-id → octets``), RSA-SHA256; also the references it made."""
    signature = etree.Element(ns.q("ds", "Signature"), Id=signature_id, nsmap={"ds": ns.DS})
    signed_info = etree.SubElement(signature, ns.q("ds", "SignedInfo"))
    method = etree.SubElement(
        signed_info, ns.q("ds", "CanonicalizationMethod"), Algorithm=ns.EXC_C14N
    )
    if c14n_prefixes:
        etree.SubElement(
            method,
            ns.q("ec", "InclusiveNamespaces"),
            PrefixList=" ".join(c14n_prefixes),
            nsmap={"ec": ns.EC},
        )
    etree.SubElement(signed_info, ns.q("ds", "SignatureMethod"), Algorithm=ns.RSA_SHA256)
    made: list[SignedReference] = []
    index = id_index(root)
    for ident in element_ids:
        digest = digest_b64(exc_c14n(element_by_id(root, ident, index)))
        signed_info.append(reference_xml(f"#{ident}", digest, attachment=False))
        made.append(SignedReference(f"#{ident}", digest))
    for content_id, data in attachments.items():
        digest = digest_b64(data)
        signed_info.append(reference_xml(f"cid:{content_id}", digest, attachment=True))
        made.append(SignedReference(f"cid:{content_id}", digest))
    etree.SubElement(signature, ns.q("ds", "SignatureValue"))
    signature.append(key_info)
    return signature, made


def sign_value(signature: etree._Element, key: rsa.RSAPrivateKey) -> None:
    """Fill ``SignatureValue`` once the signature sits in its document (C14N needs the
    ancestors' namespaces for the inclusive prefix list)."""
    signed_info = ns.first(signature, "ds:SignedInfo")
    value = ns.first(signature, "ds:SignatureValue")
    assert signed_info is not None and value is not None
    method = ns.first(signed_info, "ds:CanonicalizationMethod")
    octets = exc_c14n(signed_info, _prefixes(method))
    value.text = base64.b64encode(key.sign(octets, padding.PKCS1v15(), hashes.SHA256())).decode()


def references_of(signature: etree._Element) -> list[SignedReference]:
    """The URI and digest of each ``ds:Reference`` in the signature's ``SignedInfo``."""
    return [
        SignedReference(ref.get("URI", ""), (ns.first_text(ref, "ds:DigestValue") or "").strip())
        for ref in signature.iterfind(f"{ns.q('ds', 'SignedInfo')}/{ns.q('ds', 'Reference')}")
    ]


@dataclass(frozen=True, slots=True)
class VerifiedSignature:
    """What a verified signature covered."""

    references: list[SignedReference]
    unchecked: list[str]
    """Attachment references whose octets were not given (e.g. still encrypted)."""


def _digest_of_reference(
    root: etree._Element,
    ref: etree._Element,
    attachments: Mapping[str, bytes | memoryview] | None,
    *,
    enveloping: etree._Element | None,
    index: dict[str, list[etree._Element]],
) -> bytes | None:
    uri = ref.get("URI")
    if uri is None:
        raise VerificationError("a ds:Reference has no URI", check="xmldsig.reference-uri")
    transforms = [
        transform
        for parent in ref.iterchildren(_TRANSFORMS)
        for transform in parent.iterchildren(_TRANSFORM)
    ]
    algorithms = [t.get("Algorithm", "") for t in transforms]
    method = ns.first(ref, "ds:DigestMethod")
    digest_alg = method.get("Algorithm", "") if method is not None else ""
    if digest_alg not in _DIGESTS:
        raise VerificationError(
            f"digest algorithm {digest_alg!r} is not accepted", check="xmldsig.digest-method"
        )
    digest = _DIGESTS[digest_alg]
    if uri.startswith("cid:"):
        if algorithms != [ns.ATTACHMENT_SIGNATURE_TRANSFORM]:
            raise VerificationError(
                f"attachment reference {uri} has transforms {algorithms}",
                check="xmldsig.transforms",
            )
        if attachments is None or uri[4:] not in attachments:
            if attachments is None:
                return None
            raise VerificationError(
                f"the signed attachment {uri} is not in the message",
                check="xmldsig.attachment-missing",
            )
        return digest(attachments[uri[4:]])
    if uri == "" and enveloping is not None:
        if algorithms[:1] != [ns.ENVELOPED] or len(algorithms) > 2:
            raise VerificationError(
                f"enveloped reference has transforms {algorithms}", check="xmldsig.transforms"
            )
        # URI="" is the whole document (XML-DSig 4.4.3.2): with the processing instructions
        # outside its root element, which canonical XML keeps (C14N 1.0 2.4)
        target = root.getroottree()
        parent = enveloping.getparent()
        assert parent is not None
        position = parent.index(enveloping)
        parent.remove(enveloping)
        try:
            last = algorithms[1] if len(algorithms) == 2 else ns.C14N_INCLUSIVE
            if last == ns.EXC_C14N:
                octets = exc_c14n(target, _prefixes(transforms[1]))
            elif last == ns.C14N_INCLUSIVE:
                octets = etree.tostring(target, method="c14n", exclusive=False, with_comments=False)
            else:
                raise VerificationError(
                    f"transform {last!r} is not accepted", check="xmldsig.transforms"
                )
        finally:
            parent.insert(position, enveloping)
        return digest(octets)
    if not uri.startswith("#") or algorithms != [ns.EXC_C14N]:
        raise VerificationError(
            f"reference {uri!r} with transforms {algorithms} is not accepted",
            check="xmldsig.transforms",
        )
    return digest(exc_c14n(element_by_id(root, uri[1:], index), _prefixes(transforms[0])))


def verify_signature(
    root: etree._Element,
    signature: etree._Element,
    public_key: rsa.RSAPublicKey,
    *,
    attachments: Mapping[str, bytes | memoryview] | None = None,
    enveloped: bool = False,
    legacy_sha1: bool = False,
) -> VerifiedSignature:
    """Check every reference digest and the signature value; :class:`VerificationError` says
    which failed. ``attachments=None``: attachment references are listed as unchecked."""
    signed_info = ns.first(signature, "ds:SignedInfo")
    if signed_info is None:
        raise VerificationError("ds:Signature has no SignedInfo", check="xmldsig.structure")
    c14n = ns.first(signed_info, "ds:CanonicalizationMethod")
    c14n_alg = c14n.get("Algorithm", "") if c14n is not None else ""
    method = ns.first(signed_info, "ds:SignatureMethod")
    sig_alg = method.get("Algorithm", "") if method is not None else ""
    if sig_alg not in _SIGNATURES or (sig_alg == ns.RSA_SHA1 and not legacy_sha1):
        raise VerificationError(
            f"signature algorithm {sig_alg!r} is not accepted", check="xmldsig.signature-method"
        )
    unchecked: list[str] = []
    references: list[SignedReference] = []
    refs = list(signed_info.iterchildren(ns.q("ds", "Reference")))
    if not refs:
        raise VerificationError("the signature has no references", check="xmldsig.structure")
    index = id_index(root)
    for ref in refs:
        digest_method = ns.first(ref, "ds:DigestMethod")
        if (
            digest_method is not None
            and digest_method.get("Algorithm") == ns.SHA1
            and not legacy_sha1
        ):
            raise VerificationError(
                "SHA-1 digests are not accepted here", check="xmldsig.digest-method"
            )
        expected = _b64(ns.first_text(ref, "ds:DigestValue"), "DigestValue")
        actual = _digest_of_reference(
            root, ref, attachments, enveloping=signature if enveloped else None, index=index
        )
        uri = ref.get("URI", "")
        if actual is None:
            unchecked.append(uri)
        elif actual != expected:
            raise VerificationError(
                f"the digest of {uri or 'the document'} does not match", check="xmldsig.digest"
            )
        references.append(SignedReference(uri, base64.b64encode(expected).decode()))
    if c14n_alg == ns.EXC_C14N:
        octets = exc_c14n(signed_info, _prefixes(c14n))
    elif c14n_alg == ns.C14N_INCLUSIVE:
        octets = etree.tostring(signed_info, method="c14n", exclusive=False, with_comments=False)
    else:
        raise VerificationError(
            f"canonicalization {c14n_alg!r} is not accepted", check="xmldsig.c14n"
        )
    value = _b64(ns.first_text(signature, "ds:SignatureValue"), "SignatureValue")
    try:
        public_key.verify(value, octets, padding.PKCS1v15(), _SIGNATURES[sig_alg])
    except InvalidSignature as exc:
        raise VerificationError(
            "the signature value does not verify", check="xmldsig.signature-value"
        ) from exc
    return VerifiedSignature(references, unchecked)


def sign_enveloped(root: etree._Element, key: rsa.RSAPrivateKey, cert_der: bytes) -> etree._Element:
    """Append an enveloped RSA-SHA256 signature (exc-c14n, the certificate in ``X509Data``) to
    ``root``, as an SMP signs ``SignedServiceMetadata``."""
    signature = etree.SubElement(root, ns.q("ds", "Signature"), nsmap={"ds": ns.DS})
    signed_info = etree.SubElement(signature, ns.q("ds", "SignedInfo"))
    etree.SubElement(signed_info, ns.q("ds", "CanonicalizationMethod"), Algorithm=ns.EXC_C14N)
    etree.SubElement(signed_info, ns.q("ds", "SignatureMethod"), Algorithm=ns.RSA_SHA256)
    ref = etree.SubElement(signed_info, ns.q("ds", "Reference"), URI="")
    transforms = etree.SubElement(ref, ns.q("ds", "Transforms"))
    etree.SubElement(transforms, ns.q("ds", "Transform"), Algorithm=ns.ENVELOPED)
    etree.SubElement(transforms, ns.q("ds", "Transform"), Algorithm=ns.EXC_C14N)
    etree.SubElement(ref, ns.q("ds", "DigestMethod"), Algorithm=ns.SHA256)
    digest_value = etree.SubElement(ref, ns.q("ds", "DigestValue"))
    etree.SubElement(signature, ns.q("ds", "SignatureValue"))
    key_info = etree.SubElement(signature, ns.q("ds", "KeyInfo"))
    x509_data = etree.SubElement(key_info, ns.q("ds", "X509Data"))
    etree.SubElement(x509_data, ns.q("ds", "X509Certificate")).text = base64.b64encode(
        cert_der
    ).decode()
    root.remove(signature)
    digest_value.text = digest_b64(exc_c14n(root.getroottree()))
    root.append(signature)
    sign_value(signature, key)
    return signature

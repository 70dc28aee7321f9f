"""XAdES baseline B-B signatures (ETSI EN 319 132-1), built with lxml and ``cryptography``.

Why not signxml's ``XAdESSigner``: with exclusive C14N it emits a SignedProperties reference
without its transform (so independent verifiers digest it differently and refuse it — the
tests show xmlsec1 doing so); it cannot place the signature inside ``ext:UBLExtensions``; and
it re-parses the key on every call when given PEM bytes (about 25 signatures/s; about 2.3x
slower than this module even with the key loaded once, see ``bench/sign.py``). This module
builds the same standard structure directly: the document is canonicalised once, the
signature structure, certificates and their digests are prepared once per signer, and the key
is loaded once (see :mod:`.keys`). Every kind of signature it makes is verified by xmlsec1 in
the tests, UBL ones by python-xmlsec and signxml too.

Layout of the signature (inclusive C14N 1.0 throughout, explicit transforms)::

    ds:Signature Id=S
      ds:SignedInfo
        ds:Reference Id=S-doc URI=""            enveloped-signature + C14N   (the document)
        ds:Reference Type=…#SignedProperties URI="#S-signedprops"  C14N
      ds:SignatureValue
      ds:KeyInfo/ds:X509Data/ds:X509Certificate*   signer first, then the chain
      ds:Object/xades:QualifyingProperties Target="#S"
        xades:SignedProperties Id=S-signedprops
          xades:SignedSignatureProperties: SigningTime, SigningCertificate(V2)
          xades:SignedDataObjectProperties/xades:DataObjectFormat ObjectReference="#S-doc"

UBL documents carry ``xades:SigningCertificate`` (with ``IssuerSerial``), the form the UBL 2.1
XAdES schema knows; everything else carries ``xades:SigningCertificateV2``.
"""

from __future__ import annotations

import base64
import copy
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from lxml import etree

from gateway.errors import SigningError, VerificationError
from gateway.signing import names, ubl
from gateway.signing.algorithms import (
    DS_NS,
    ENVELOPED_TRANSFORM,
    SIGNED_PROPERTIES_TYPE,
    XADES_NS,
    Canonicalization,
    DigestAlgorithm,
    SignatureAlgorithm,
    signature_algorithm,
)
from gateway.signing.c14n import canonicalize
from gateway.signing.keys import (
    KeyProvider,
    default_algorithm,
    load_pem_provider,
    load_pkcs12_provider,
)
from gateway.xmlsafe import parse_xml

DS = f"{{{DS_NS}}}"
XA = f"{{{XADES_NS}}}"
DETACHED_ONLY = frozenset({"urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"})
"""Root namespaces whose schema forbids an enveloped signature (UN/CEFACT CII)."""


def b64(data: bytes) -> str:
    """Base64 without line breaks."""
    return base64.b64encode(data).decode("ascii")


def digest(data: bytes, algorithm: DigestAlgorithm) -> bytes:
    """``algorithm``'s digest of ``data``."""
    hasher = hashes.Hash(algorithm.hash())
    hasher.update(data)
    return hasher.finalize()


def format_signing_time(moment: datetime) -> str:
    """``xsd:dateTime`` in UTC with a ``Z``, to the second."""
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class _Identity:
    """What every signature of one signer repeats, computed once."""

    certificates_b64: tuple[str, ...]
    cert_digest_b64: str
    issuer_name: str
    serial: str


def _identity(provider: KeyProvider, digest_method: DigestAlgorithm) -> _Identity:
    cert = provider.certificate
    ders = [c.public_bytes(serialization.Encoding.DER) for c in (cert, *provider.chain)]
    return _Identity(
        certificates_b64=tuple(b64(d) for d in ders),
        cert_digest_b64=b64(digest(ders[0], digest_method)),
        issuer_name=names.rfc4514(cert.issuer),
        serial=str(cert.serial_number),
    )


def _sub(
    parent: etree._Element, tag: str, text: str | None = None, **attrib: str
) -> etree._Element:
    element = etree.SubElement(parent, tag, attrib)
    if text is not None:
        element.text = text
    return element


class XadesSigner:
    """Signs documents with one key: enveloped for XML, detached for anything."""

    def __init__(
        self,
        provider: KeyProvider,
        *,
        algorithm: SignatureAlgorithm | None = None,
        digest_method: DigestAlgorithm = DigestAlgorithm.SHA256,
        check_validity: bool = True,
    ) -> None:
        """``check_validity=False`` lets tests sign with an expired certificate."""
        self.provider = provider
        chosen = algorithm or default_algorithm(provider.certificate)
        try:
            self.algorithm = signature_algorithm(str(chosen))
        except VerificationError as exc:
            raise SigningError(exc.message) from exc
        self.digest_method = digest_method
        self.c14n = Canonicalization.INCLUSIVE
        self.check_validity = check_validity
        self._identity = _identity(provider, digest_method)
        self._templates: dict[tuple[tuple[str, ...], bool], etree._Element] = {}

    @classmethod
    def from_files(
        cls,
        key: str | Path,
        cert: str | Path | None = None,
        chain: Sequence[str | Path] = (),
        password: str | bytes | None = None,
        **options: object,
    ) -> XadesSigner:
        """A signer from a PEM key + certificate (+ chain), or a PKCS#12 file as ``key``."""
        secret = password.encode() if isinstance(password, str) else password
        if str(key).lower().endswith((".p12", ".pfx")):
            provider: KeyProvider = load_pkcs12_provider(key, secret)
        elif cert is None:
            raise SigningError("a PEM key needs its certificate (cert=...)", field="cert")
        else:
            provider = load_pem_provider(key, cert, chain, secret)
        return cls(provider, **options)  # type: ignore[arg-type]

    def sign(self, xml: bytes, *, signing_time: datetime | None = None) -> bytes:
        """Sign an XML document enveloped: inside ``ext:UBLExtensions`` for UBL, else as the
        root's last child. Returns the serialised signed document.

        CII is refused (its schema has no place for the signature): use :meth:`sign_detached`.
        """
        root = parse_xml(xml, what="document to sign")
        if etree.QName(root).namespace in DETACHED_ONLY:
            raise SigningError(
                "this document type has no place for an enveloped ds:Signature in its schema; "
                "sign it detached (sign_detached)",
                field="document",
            )
        if next(root.iter(f"{DS}Signature"), None) is not None:
            raise SigningError("the document already carries a ds:Signature", field="ds:Signature")
        moment = self._signing_time(signing_time)
        legacy = ubl.is_ubl(root)
        parent = ubl.prepare(root) if legacy else root
        doc_digest = digest(canonicalize(root.getroottree(), self.c14n), self.digest_method)
        signature = self._skeleton(
            doc_uri="",
            doc_digest=doc_digest,
            doc_transforms=(ENVELOPED_TRANSFORM, self.c14n),
            mime_type="text/xml",
            moment=moment,
            legacy_certificate=legacy,
        )
        parent.append(signature)
        try:
            self._seal(signature)
        except VerificationError as exc:
            raise SigningError(f"cannot sign this document: {exc.message}") from exc
        return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")

    def sign_detached(
        self,
        data: bytes,
        *,
        name: str = "document",
        mime_type: str = "application/octet-stream",
        signing_time: datetime | None = None,
    ) -> bytes:
        """A detached XAdES signature over the raw bytes of ``data`` (CII, JSON, PDF …).

        ``name`` becomes the reference URI (the file name the data travels under).
        """
        if not name or any(ch in name for ch in '#<>" '):
            raise SigningError(f"detached reference name {name!r} is not a plain URI", field="name")
        signature = self._skeleton(
            doc_uri=name,
            doc_digest=digest(data, self.digest_method),
            doc_transforms=(),
            mime_type=mime_type,
            moment=self._signing_time(signing_time),
            legacy_certificate=False,
        )
        self._seal(signature)
        return etree.tostring(signature, xml_declaration=True, encoding="UTF-8")

    def _signing_time(self, given: datetime | None) -> datetime:
        moment = given or datetime.now(UTC)
        cert = self.provider.certificate
        if self.check_validity and not (
            cert.not_valid_before_utc <= moment <= cert.not_valid_after_utc
        ):
            raise SigningError(
                f"the signing certificate is not valid at {format_signing_time(moment)} "
                f"(valid {cert.not_valid_before_utc:%Y-%m-%d} to {cert.not_valid_after_utc:%Y-%m-%d})",
                field="cert",
            )
        return moment

    def _skeleton(
        self,
        *,
        doc_uri: str,
        doc_digest: bytes,
        doc_transforms: Sequence[str],
        mime_type: str,
        moment: datetime,
        legacy_certificate: bool,
    ) -> etree._Element:
        """The ``ds:Signature`` with everything but the SignedProperties digest and value.

        Built by copying this signer's cached template (the structure, certificates and
        algorithms never change between signatures) and filling in what does.
        """
        key = (tuple(doc_transforms), legacy_certificate)
        template = self._templates.get(key)
        if template is None:
            template = self._template(doc_transforms, legacy_certificate)
            self._templates[key] = template
        signature = copy.deepcopy(template)
        sig_id = f"xades-{uuid.uuid4().hex}"
        signature.set("Id", sig_id)
        info = signature[0]
        doc_ref, props_ref = info[2], info[3]
        doc_ref.set("Id", f"{sig_id}-doc")
        doc_ref.set("URI", doc_uri)
        doc_ref[-1].text = b64(doc_digest)
        props_ref.set("URI", f"#{sig_id}-signedprops")
        signature[1].set("Id", f"{sig_id}-value")
        qualifying = signature[3][0]
        qualifying.set("Target", f"#{sig_id}")
        props = qualifying[0]
        props.set("Id", f"{sig_id}-signedprops")
        props[0][0].text = format_signing_time(moment)
        data_format = props[1][0]
        data_format.set("ObjectReference", f"#{sig_id}-doc")
        data_format[0].text = mime_type
        return signature

    def _template(self, doc_transforms: Sequence[str], legacy_certificate: bool) -> etree._Element:
        """The signature structure with placeholders where :meth:`_skeleton` fills in."""
        digest_uri = str(self.digest_method)
        signature = etree.Element(f"{DS}Signature", {"Id": ""}, nsmap={"ds": DS_NS})
        info = _sub(signature, f"{DS}SignedInfo")
        _sub(info, f"{DS}CanonicalizationMethod", Algorithm=str(self.c14n))
        _sub(info, f"{DS}SignatureMethod", Algorithm=str(self.algorithm))
        doc_ref = _sub(info, f"{DS}Reference", Id="", URI="")
        if doc_transforms:
            transforms = _sub(doc_ref, f"{DS}Transforms")
            for transform in doc_transforms:
                _sub(transforms, f"{DS}Transform", Algorithm=str(transform))
        _sub(doc_ref, f"{DS}DigestMethod", Algorithm=digest_uri)
        _sub(doc_ref, f"{DS}DigestValue")
        props_ref = _sub(info, f"{DS}Reference", Type=SIGNED_PROPERTIES_TYPE, URI="")
        _sub(_sub(props_ref, f"{DS}Transforms"), f"{DS}Transform", Algorithm=str(self.c14n))
        _sub(props_ref, f"{DS}DigestMethod", Algorithm=digest_uri)
        _sub(props_ref, f"{DS}DigestValue")
        _sub(signature, f"{DS}SignatureValue", Id="")
        x509_data = _sub(_sub(signature, f"{DS}KeyInfo"), f"{DS}X509Data")
        for cert_b64 in self._identity.certificates_b64:
            _sub(x509_data, f"{DS}X509Certificate", cert_b64)
        self._qualifying_properties(signature, legacy_certificate)
        return signature

    def _qualifying_properties(self, signature: etree._Element, legacy_certificate: bool) -> None:
        ident = self._identity
        obj = _sub(signature, f"{DS}Object")
        qualifying = etree.SubElement(
            obj, f"{XA}QualifyingProperties", {"Target": ""}, nsmap={"xades": XADES_NS}
        )
        props = _sub(qualifying, f"{XA}SignedProperties", Id="")
        signature_props = _sub(props, f"{XA}SignedSignatureProperties")
        _sub(signature_props, f"{XA}SigningTime")
        tag = "SigningCertificate" if legacy_certificate else "SigningCertificateV2"
        cert = _sub(_sub(signature_props, f"{XA}{tag}"), f"{XA}Cert")
        cert_digest = _sub(cert, f"{XA}CertDigest")
        _sub(cert_digest, f"{DS}DigestMethod", Algorithm=str(self.digest_method))
        _sub(cert_digest, f"{DS}DigestValue", ident.cert_digest_b64)
        if legacy_certificate:
            issuer_serial = _sub(cert, f"{XA}IssuerSerial")
            _sub(issuer_serial, f"{DS}X509IssuerName", ident.issuer_name)
            _sub(issuer_serial, f"{DS}X509SerialNumber", ident.serial)
        data_props = _sub(props, f"{XA}SignedDataObjectProperties")
        data_format = _sub(data_props, f"{XA}DataObjectFormat", ObjectReference="")
        _sub(data_format, f"{XA}MimeType")

    def _seal(self, signature: etree._Element) -> None:
        """Digest the SignedProperties in place, then sign the canonical SignedInfo."""
        info = signature[0]
        props_ref = info[3]
        props = signature[3][0][0]
        props_ref[2].text = b64(digest(canonicalize(props, self.c14n), self.digest_method))
        value = self.provider.sign(canonicalize(info, self.c14n), self.algorithm)
        signature[1].text = b64(value)

"""Verify XAdES signatures and hand back exactly what was signed.

:meth:`Verifier.verify` runs the checks in this order and stops at the first failure with a
:class:`~gateway.errors.VerificationError` whose ``check`` names it:

==================== =========================================================================
``structure``        one signature at its allowed place, two references, unique Ids (wrapping)
``algorithm``        SHA-2 RSA / ECDSA only; SHA-1 refused
``signature``        SignatureValue over the canonical SignedInfo, with the signer's key
``reference``        the digest of the document (enveloped) or of the detached data
``signed-properties`` the SignedProperties digest, SigningTime, the signing certificate's
                     digest and its issuer and serial number (IssuerSerial / V2, the issuer
                     compared as a name)
``chain``            a path from the signer to a configured trust anchor
``expired`` / ``not-yet-valid``  each certificate of the path at the claimed SigningTime, and
                     none expired since (no time-stamp proves the claim)
``revoked`` / ``revocation-unknown``  OCSP, then CRL (soft-fail configurable)
==================== =========================================================================

Wrapping defence: the result's :attr:`VerifiedDocument.signed_xml` is the canonical octets
that were digested — the document without its ``ds:Signature`` — re-parsed to prove they are
XML. Callers use only that, never the bytes they passed in.
"""

from __future__ import annotations

import asyncio
import hmac
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from lxml import etree

from gateway.errors import InputError, VerificationError
from gateway.signing import names
from gateway.signing.algorithms import Canonicalization, Check, SignatureAlgorithm
from gateway.signing.c14n import canonicalize, detached
from gateway.signing.chain import (
    build_path,
    check_signer_usage,
    check_still_valid,
    check_validity,
    load_trust,
    public_key_of,
    verify_with_key,
)
from gateway.signing.revocation import RevocationChecker, load_crl
from gateway.signing.structure import (
    ENVELOPING_REFUSED,
    IssuerSerial,
    ParsedSignature,
    Reference,
    SignatureForm,
    key_info_target,
    locate_enveloped,
    parse_signature,
    signature_form,
)
from gateway.signing.xades import digest
from gateway.xmlsafe import parse_xml

PATH_CACHE_SIZE = 1024
"""Certificate paths remembered per verifier."""
FUTURE_SKEW = timedelta(minutes=5)
"""How far in the future a claimed SigningTime may be (clock differences)."""


@dataclass(frozen=True, slots=True)
class VerifiedDocument:
    """A signature that passed every check, and the content it covers."""

    signed_xml: bytes
    """Exactly the signed content: for enveloped signatures the canonical document without its
    ``ds:Signature``; for detached ones the data passed in."""
    signer_certificate: x509.Certificate
    signing_time: datetime
    checks: list[str]
    """The checks that passed, in order (``revocation-soft-fail`` when status was unknown)."""
    chain: list[x509.Certificate] = field(default_factory=list)
    """The certificate path, signer first, trust anchor last."""
    form: SignatureForm = SignatureForm.ENVELOPED
    """Enveloped (:meth:`Verifier.verify`) or detached (:meth:`Verifier.verify_detached`)."""


VerificationResult = VerifiedDocument
"""Alias: the typed result of a successful verification."""


@dataclass(slots=True)
class Verifier:
    """Verifies signatures against a trust store, with revocation checking.

    Build one per trust store and reuse it (from several threads too): certificate paths and
    revocation answers are remembered between documents. The defaults are the secure ones.
    """

    trust: Sequence[x509.Certificate | str | Path]
    """Trust anchors (certificates or PEM files): the CAs whose certificates may sign."""
    intermediates: Sequence[x509.Certificate | str | Path] = ()
    """Extra untrusted certificates for path building (besides those in ds:KeyInfo)."""
    crls: Sequence[x509.CertificateRevocationList | str | Path] = ()
    """CRLs (objects or PEM/DER files), used when OCSP gives no answer."""
    ocsp: bool = True
    """Ask the OCSP responders named in the certificates (AIA) first."""
    ocsp_nonce: bool = False
    """Send a nonce with OCSP requests (:attr:`RevocationChecker.nonce`; RFC 5019 clients
    send none and judge answers by time)."""
    soft_fail: bool = False
    """Accept a signature whose revocation status nobody could tell (default: refuse)."""
    fetch_crls: bool = True
    """Download CRLs from the certificates' distribution points (``http`` only)."""
    check_revocation: bool = True
    """Check revocation at all (switch off only for offline tests and benchmarks)."""
    timeout: float = 5.0
    """Seconds allowed for one OCSP or CRL request."""
    _anchors: list[x509.Certificate] = field(init=False)
    _pool: list[x509.Certificate] = field(init=False)
    _paths: dict[tuple[x509.Certificate, ...], list[x509.Certificate]] = field(init=False)
    _revocation: RevocationChecker = field(init=False)

    def __post_init__(self) -> None:
        self._anchors = load_trust(self.trust)
        if not self._anchors:
            raise InputError("the trust store is empty", field="trust")
        self._pool = load_trust(self.intermediates)
        self._paths = {}
        loaded = [
            c if isinstance(c, x509.CertificateRevocationList) else _read_crl(c) for c in self.crls
        ]
        self._revocation = RevocationChecker(
            crls=loaded,
            ocsp=self.ocsp,
            fetch_crls=self.fetch_crls,
            timeout=self.timeout,
            nonce=self.ocsp_nonce,
        )

    def verify(self, signed: bytes) -> VerifiedDocument:
        """Verify an enveloped signature (UBL extension or root child)."""
        root = _parse(signed)
        signature = locate_enveloped(root)
        parsed = parse_signature(root, signature)
        signer = self._check_signature(parsed)
        with detached(signature):
            content = self._document_octets(root, parsed.document)
        _check_digest(parsed.document, content, Check.REFERENCE, "the document")
        self._check_properties(parsed, signer)
        _check_key_info(root, parsed)
        _reparse(content)
        return self._finish(parsed, signer, content)

    async def verify_async(self, signed: bytes) -> VerifiedDocument:
        """:meth:`verify` in a worker thread (it may wait on OCSP / CRL servers)."""
        return await asyncio.to_thread(self.verify, signed)

    def verify_detached(self, signature: bytes, data: bytes) -> VerifiedDocument:
        """Verify a detached signature over ``data`` (the bytes its reference names)."""
        root = _parse(signature)
        form = signature_form(root)
        if form is SignatureForm.ENVELOPING:
            raise VerificationError(ENVELOPING_REFUSED, check=Check.STRUCTURE)
        if form is SignatureForm.ENVELOPED:
            raise VerificationError(
                "this is an enveloped signature (inside the document it signs), not a detached "
                "one: a detached signature is a ds:Signature document",
                check=Check.STRUCTURE,
            )
        parsed = parse_signature(root, root, detached=True)
        signer = self._check_signature(parsed)
        _check_digest(parsed.document, data, Check.REFERENCE, f"the data {parsed.document.uri!r}")
        self._check_properties(parsed, signer)
        _check_key_info(root, parsed)
        return self._finish(parsed, signer, data, SignatureForm.DETACHED)

    def _check_signature(self, parsed: ParsedSignature) -> x509.Certificate:
        signer = _signer(parsed)
        _check_key_fits_method(signer, parsed.algorithm)
        octets = canonicalize(parsed.signed_info, parsed.c14n.method, prefixes=parsed.c14n.prefixes)
        if not verify_with_key(
            public_key_of(signer), parsed.value, octets, parsed.algorithm.hash(), raw_ecdsa=True
        ):
            raise VerificationError(
                "the signature value does not verify with the signer's key", check=Check.SIGNATURE
            )
        return signer

    @staticmethod
    def _document_octets(root: etree._Element, reference: Reference) -> bytes:
        step = reference.c14n
        method = step.method if step else Canonicalization.INCLUSIVE
        prefixes = step.prefixes if step else ()
        return canonicalize(root.getroottree(), method, prefixes=prefixes, keep_comments=False)

    @staticmethod
    def _check_properties(parsed: ParsedSignature, signer: x509.Certificate) -> None:
        reference = parsed.properties_ref
        octets = _same_document_octets(parsed.signed_properties, reference)
        _check_digest(reference, octets, Check.SIGNED_PROPERTIES, "xades:SignedProperties")
        _check_issuer_serial(parsed.issuer_serial, signer)
        if parsed.signing_time > datetime.now(UTC) + FUTURE_SKEW:
            raise VerificationError(
                f"the claimed SigningTime {parsed.signing_time:%Y-%m-%dT%H:%M:%SZ} is in the future",
                check=Check.NOT_YET_VALID,
            )

    def _finish(
        self,
        parsed: ParsedSignature,
        signer: x509.Certificate,
        content: bytes,
        form: SignatureForm = SignatureForm.ENVELOPED,
    ) -> VerifiedDocument:
        checks = ["structure", "algorithm", "signature", "reference", "signed-properties"]
        check_signer_usage(signer, "document signer certificate")
        path = self._path(signer, [*parsed.certificates, *self._pool])
        checks.append("chain")
        check_validity(path, parsed.signing_time)
        check_still_valid(path, datetime.now(UTC))
        checks.append("validity")
        if self.check_revocation:
            checks.append(self._revocation_check(path))
        return VerifiedDocument(
            signed_xml=content,
            signer_certificate=signer,
            signing_time=parsed.signing_time,
            checks=checks,
            chain=path,
            form=form,
        )

    def _path(
        self, signer: x509.Certificate, pool: Sequence[x509.Certificate]
    ) -> list[x509.Certificate]:
        """:func:`build_path`, remembered per signer and candidate set (certificates are
        immutable and the anchors fixed, so the answer cannot change)."""
        key = (signer, *pool)
        path = self._paths.get(key)
        if path is None:
            path = build_path(signer, pool, self._anchors)
            if len(self._paths) >= PATH_CACHE_SIZE:
                self._paths.clear()
            self._paths[key] = path
        return path

    def _revocation_check(self, path: Sequence[x509.Certificate]) -> str:
        unknown: list[str] = []
        for cert, issuer in itertools.pairwise(path):
            if cert in self._anchors:
                break
            if self._revocation.status(cert, issuer) == "unknown":
                unknown.append(cert.subject.rfc4514_string())
        if not unknown:
            return "revocation"
        if self.soft_fail:
            return "revocation-soft-fail"
        raise VerificationError(
            f"revocation status unknown (no OCSP or CRL answer) for {'; '.join(unknown)}",
            check=Check.REVOCATION_UNKNOWN,
        )


def _read_crl(path: str | Path) -> x509.CertificateRevocationList:
    try:
        return load_crl(Path(path).read_bytes())
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the CRL {path}: {exc}", field="crl") from exc


_CANONICAL_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
)


def _reparse(content: bytes) -> None:
    """Prove the canonical signed octets are XML on their own.

    They were produced by canonicalising a tree that :func:`parse_xml` already accepted
    (limits checked; canonical XML never has a DOCTYPE), so a plain non-resolving parser
    suffices here.
    """
    try:
        etree.fromstring(content, _CANONICAL_PARSER)
    except etree.XMLSyntaxError as exc:
        raise VerificationError(
            f"the signed content is not XML: {exc}", check=Check.STRUCTURE
        ) from exc


def _parse(data: bytes) -> etree._Element:
    try:
        return parse_xml(data, what="signed document")
    except InputError as exc:
        raise VerificationError(f"not acceptable XML: {exc}", check=Check.STRUCTURE) from exc


def _signer(parsed: ParsedSignature) -> x509.Certificate:
    """The KeyInfo certificate whose digest the signed properties name."""
    claimed = parsed.cert_digest
    for cert in parsed.certificates:
        der = cert.public_bytes(serialization.Encoding.DER)
        if hmac.compare_digest(digest(der, claimed.method), claimed.value):
            return cert
    raise VerificationError(
        "no certificate in ds:KeyInfo matches the signed signing-certificate digest",
        check=Check.SIGNED_PROPERTIES,
    )


def _check_issuer_serial(claimed: IssuerSerial | None, signer: x509.Certificate) -> None:
    """The issuer and serial number the signed properties give must be the signing
    certificate's (XAdES 1.3.2 7.2.2, EN 319 132-1 5.2.2), the issuer compared as a name
    (RFC 5280 7.1), not as a string."""
    if claimed is None:
        return
    same_serial = claimed.serial == signer.serial_number
    if same_serial and names.from_der(signer.issuer.public_bytes()) in claimed.issuers:
        return
    issued_by = f" issued by {claimed.issuer_text!r}" if claimed.issuer_text is not None else ""
    raise VerificationError(
        f"{claimed.element} names serial number {claimed.serial}{issued_by}, but the signing "
        f"certificate is serial number {signer.serial_number} issued by "
        f"{signer.issuer.rfc4514_string()!r}",
        check=Check.SIGNED_PROPERTIES,
    )


def _check_key_fits_method(signer: x509.Certificate, method: SignatureAlgorithm) -> None:
    """The signer's key must be of the family ``ds:SignatureMethod`` names: the value is
    checked with the algorithm the signature names, never one chosen by the key's type (an
    RSA signature labelled ECDSA verified here and nowhere else)."""
    key = public_key_of(signer)
    fits = (
        isinstance(key, ec.EllipticCurvePublicKey)
        if method.is_ecdsa
        else isinstance(key, rsa.RSAPublicKey)
    )
    if not fits:
        raise VerificationError(
            f"the signature method {method.value} does not fit the signer's "
            f"{type(key).__name__.removeprefix('_')} key",
            check=Check.ALGORITHM,
        )


def _same_document_octets(element: etree._Element, reference: Reference) -> bytes:
    """Canonical octets of a ``#id`` target (comments dropped, as such references require)."""
    step = reference.c14n
    method = step.method if step else Canonicalization.INCLUSIVE
    prefixes = step.prefixes if step else ()
    return canonicalize(element, method, prefixes=prefixes, keep_comments=False)


def _check_key_info(root: etree._Element, parsed: ParsedSignature) -> None:
    for reference in parsed.key_info_refs:
        target = key_info_target(root, parsed.element, reference.uri)
        octets = _same_document_octets(target, reference)
        _check_digest(reference, octets, Check.REFERENCE, f"ds:KeyInfo element {reference.uri}")


def _check_digest(reference: Reference, octets: bytes, check: str, what: str) -> None:
    if not hmac.compare_digest(digest(octets, reference.digest_method), reference.digest_value):
        raise VerificationError(f"the digest of {what} does not match: it was altered", check=check)

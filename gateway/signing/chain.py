"""Certificate paths: from the signer to a configured trust anchor, valid at signing time.

The path is built by name and checked by signature (``verify_directly_issued_by``); every
issuer must be a CA (basicConstraints) allowed to sign certificates (keyUsage, when present),
with no more intermediate CAs below it than its pathLenConstraint allows. A certificate of
the path (the configured anchor excepted) that marks critical an extension the gateway does
not process is refused (:data:`PROCESSED_EXTENSIONS`, RFC 5280 4.2), and so is one whose key
is too weak (:func:`check_key_strength`: RSA under 2048 bits, EC off the accepted curves, DSA),
and so is one whose names break a CA's nameConstraints (:mod:`.name_constraints`).
Each certificate of the path must be valid at the signing time the signature claims:
``expired`` when it ended before, ``not-yet-valid`` when it started after; and, as nothing
proves that claim, still unexpired now (:func:`check_still_valid`). Certificates signed
with SHA-1 (or MD5) are refused with ``check=Check.ALGORITHM``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, ObjectIdentifier

from gateway.errors import VerificationError
from gateway.signing.algorithms import Check
from gateway.signing.keys import ecdsa_raw_to_der, load_certificates
from gateway.signing.name_constraints import first_violation

MAX_PATH = 8
"""Longest accepted path, signer and anchor included."""

PROCESSED_EXTENSIONS: Mapping[ObjectIdentifier, str] = {
    ExtensionOID.BASIC_CONSTRAINTS: "basicConstraints",
    ExtensionOID.KEY_USAGE: "keyUsage",
    ExtensionOID.EXTENDED_KEY_USAGE: "extendedKeyUsage",
    ExtensionOID.SUBJECT_ALTERNATIVE_NAME: "subjectAltName",
    ExtensionOID.SUBJECT_KEY_IDENTIFIER: "subjectKeyIdentifier",
    ExtensionOID.AUTHORITY_KEY_IDENTIFIER: "authorityKeyIdentifier",
    ExtensionOID.NAME_CONSTRAINTS: "nameConstraints",
}
"""The certificate extensions the gateway may meet marked critical, by OID.

RFC 5280 4.2: "A certificate-using system MUST reject the certificate if it encounters a
critical extension it does not recognize or a critical extension that contains information
that it cannot process." basicConstraints (CA, pathLenConstraint) and keyUsage (keyCertSign
for issuers, digitalSignature / nonRepudiation for signers) are enforced by path building;
extendedKeyUsage is read (a responder's OCSPSigning; a signer's purposes,
:data:`SIGNING_PURPOSES`, where Peppol AP and SMP certificates' critical clientAuth is one);
subjectAltName (critical
when the subject is empty, 4.2.1.6) and the key identifiers only name, they restrict nothing;
nameConstraints are applied to the names below each CA (:mod:`.name_constraints`, which
refuses a name of a form it cannot match against a constraint on that form).
Everything else is unprocessed, and refused when critical: the policy extensions (certificatePolicies, policyMappings,
policyConstraints, inhibitAnyPolicy: no policy processing, RFC 5280 6.1.3 (d)), a
precertificate's poison, and any extension the gateway does not know."""


def load_trust(entries: Sequence[x509.Certificate | str | Path]) -> list[x509.Certificate]:
    """Trust anchors from certificates or PEM files."""
    out: list[x509.Certificate] = []
    for entry in entries:
        out.extend([entry] if isinstance(entry, x509.Certificate) else load_certificates(entry))
    return out


def verify_with_key(
    public: object,
    signature: bytes,
    data: bytes,
    algorithm: hashes.HashAlgorithm,
    *,
    raw_ecdsa: bool,
) -> bool:
    """Whether ``signature`` over ``data`` verifies with ``public`` (RSA PKCS#1 v1.5 or ECDSA)."""
    try:
        if isinstance(public, rsa.RSAPublicKey):
            public.verify(signature, data, padding.PKCS1v15(), algorithm)
        elif isinstance(public, ec.EllipticCurvePublicKey):
            der = ecdsa_raw_to_der(signature) if raw_ecdsa else signature
            public.verify(der, data, ec.ECDSA(algorithm))
        else:
            return False
    except (InvalidSignature, ValueError):
        return False
    return True


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return True


def readable(cert: x509.Certificate) -> x509.Certificate:
    """``cert``, once its names and extensions have been read; a certificate whose parts
    cannot be read is a ``check=Check.STRUCTURE`` refusal.

    ``cryptography`` loads a certificate without parsing its subject, issuer or extensions,
    and raises assorted errors (ValueError, KeyError for an unknown string type,
    DuplicateExtension ...) when one of them is first read, deep inside path building or
    revocation checking. Certificates from the sender (``ds:KeyInfo``, ``x5c``, an AS4
    BinarySecurityToken) pass through here first, so every later read succeeds.
    """
    try:
        cert.subject.rfc4514_string()
        cert.issuer.rfc4514_string()
        _ = cert.extensions
    except Exception as exc:
        raise VerificationError(
            f"a certificate cannot be read (serial {cert.serial_number:x}): "
            f"{type(exc).__name__} {exc}",
            check=Check.STRUCTURE,
        ) from exc
    return cert


def named(cert: x509.Certificate) -> str:
    """``<subject> (serial <hex>)``: how a refusal names a certificate (the serial number in
    hex, as ``openssl x509 -serial`` and CA portals show it)."""
    return f"{cert.subject.rfc4514_string()} (serial {cert.serial_number:x})"


ExtensionT = TypeVar("ExtensionT", bound=x509.ExtensionType)


def extension(cert: x509.Certificate, kind: type[ExtensionT]) -> ExtensionT | None:
    """``cert``'s extension of ``kind``, or ``None``; extensions that cannot be read are a
    ``check=Check.CHAIN`` refusal. ``cryptography`` parses extensions only when asked, so a
    certificate whose extensions are broken (one in ``ds:KeyInfo`` or an ``x5c`` chain is
    the sender's to change) loads fine and raised ValueError here, out of every verifier."""
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None
    except ValueError as exc:
        raise VerificationError(
            f"the extensions of certificate {named(cert)} cannot be read: {exc}",
            check=Check.CHAIN,
        ) from exc


def public_key_of(cert: x509.Certificate) -> CertificatePublicKeyTypes:
    """``cert``'s public key; one ``cryptography`` cannot use (an SM2 or GOST key, an unknown
    algorithm, a broken encoding: parsed only when asked) is a ``check=Check.ALGORITHM``
    refusal naming the certificate, not the ValueError / UnsupportedAlgorithm it raised."""
    try:
        return cert.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise VerificationError(
            f"the key of certificate {named(cert)} is of a type that is not supported: {exc}",
            check=Check.ALGORITHM,
        ) from exc


def _extension_name(oid: ObjectIdentifier) -> str:
    """The RFC 5280 style name of an extension OID (``nameConstraints``), or ``unknown``."""
    for attribute, value in vars(ExtensionOID).items():
        if value == oid:
            first, *rest = attribute.lower().split("_")
            return first + "".join(part.title() for part in rest)
    return "unknown"


def unprocessed_critical(
    cert: x509.Certificate, also: Collection[ObjectIdentifier] = frozenset()
) -> x509.Extension[x509.ExtensionType] | None:
    """The first extension ``cert`` marks critical that is neither in
    :data:`PROCESSED_EXTENSIONS` nor in ``also`` (the extensions one use of a certificate
    processes besides, e.g. an OCSP responder's id-pkix-ocsp-nocheck); ``None`` when none."""
    for found in extension_list(cert):
        if found.critical and found.oid not in PROCESSED_EXTENSIONS and found.oid not in also:
            return found
    return None


def extension_list(cert: x509.Certificate) -> list[x509.Extension[x509.ExtensionType]]:
    """Every extension of ``cert``; unreadable ones are a ``check=Check.CHAIN`` refusal."""
    try:
        return list(cert.extensions)
    except ValueError as exc:
        raise VerificationError(
            f"the extensions of certificate {named(cert)} cannot be read: {exc}",
            check=Check.CHAIN,
        ) from exc


class RefusedCertificate(VerificationError):
    """A path to an anchor exists, but one of its certificates may not be used: a critical
    extension the gateway does not process (RFC 5280 4.2, ``check=Check.CHAIN``) or a key
    too weak (``check=Check.ALGORITHM``); the message names the certificate and the rule."""

    code = "certificate-refused"


def _unprocessed_refusal(
    cert: x509.Certificate, found: x509.Extension[x509.ExtensionType]
) -> RefusedCertificate:
    role = "CA certificate" if _is_ca(cert) else "certificate"
    return RefusedCertificate(
        f"{role} {cert.subject.rfc4514_string()} (serial {cert.serial_number:x}) marks "
        f"the extension {found.oid.dotted_string} ({_extension_name(found.oid)}) critical, "
        "which the gateway does not process; RFC 5280 4.2: a certificate-using system "
        "MUST reject a certificate with a critical extension it does not recognize or "
        "cannot process",
        check=Check.CHAIN,
    )


def refuse_unprocessed_critical(
    path: Sequence[x509.Certificate], anchors: Sequence[x509.Certificate]
) -> None:
    """:class:`RefusedCertificate` for the first certificate of ``path`` with a critical
    extension the gateway does not process. The configured anchor is not examined:
    it is trust input, not a certificate of the path (RFC 5280 6.1)."""
    for cert in path:
        if cert in anchors:
            continue
        found = unprocessed_critical(cert)
        if found is not None:
            raise _unprocessed_refusal(cert, found)


MIN_RSA_BITS = 2048
"""Smallest RSA modulus accepted in a certificate of a path (Peppol PKI G3 and ETSI TS 119
312 ask for 2048 bits at least; 1024-bit keys have been breakable for years)."""
ACCEPTED_CURVES = frozenset(
    {"secp256r1", "secp384r1", "secp521r1", "brainpoolP256r1", "brainpoolP384r1", "brainpoolP512r1"}
)
"""EC curves accepted in a certificate of a path: NIST P-256/384/521 (RFC 5480) and the
Brainpool curves of 256 bits and more (RFC 5639, used by European qualified CAs). Smaller
curves (P-192, P-224) and the rest are refused."""


def check_key_strength(cert: x509.Certificate) -> None:
    """``check=Check.ALGORITHM`` when ``cert``'s key is too weak to rely on: RSA under
    :data:`MIN_RSA_BITS`, an EC curve outside :data:`ACCEPTED_CURVES`, or DSA. Ed25519 and
    Ed448 keys pass."""
    key = public_key_of(cert)
    problem = None
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
        problem = f"an RSA key of {key.key_size} bits (at least {MIN_RSA_BITS} are required)"
    elif isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name not in ACCEPTED_CURVES:
        problem = f"an EC key on {key.curve.name} (accepted: {', '.join(sorted(ACCEPTED_CURVES))})"
    elif isinstance(key, dsa.DSAPublicKey):
        problem = "a DSA key (DSA is not accepted)"
    if problem is not None:
        raise RefusedCertificate(
            f"certificate {cert.subject.rfc4514_string()} (serial {cert.serial_number:x}) "
            f"has {problem}",
            check=Check.ALGORITHM,
        )


def _is_ca(cert: x509.Certificate) -> bool:
    constraints = extension(cert, x509.BasicConstraints)
    if constraints is None or not constraints.ca:
        return False
    usage = extension(cert, x509.KeyUsage)
    return usage is None or usage.key_cert_sign


def _refuse_weak_signature(cert: x509.Certificate) -> None:
    try:
        algorithm = cert.signature_hash_algorithm
    except UnsupportedAlgorithm as exc:
        raise VerificationError(
            f"certificate {named(cert)} is signed with an algorithm that is "
            f"not supported ({cert.signature_algorithm_oid.dotted_string})",
            check=Check.ALGORITHM,
        ) from exc
    if isinstance(algorithm, hashes.SHA1 | hashes.MD5):
        raise VerificationError(
            f"certificate {named(cert)} is signed with {algorithm.name}, which is refused "
            "(SHA-1 and MD5 are broken for signatures)",
            check=Check.ALGORITHM,
        )


def build_path(
    signer: x509.Certificate,
    pool: Sequence[x509.Certificate],
    anchors: Sequence[x509.Certificate],
) -> list[x509.Certificate]:
    """The path ``[signer, intermediates…, anchor]``; raises ``check=Check.CHAIN`` if none."""
    path = [signer]
    current = signer
    while len(path) <= MAX_PATH:
        if current in anchors:
            refuse_unprocessed_critical(path, anchors)
            for cert in path:
                if cert not in anchors:
                    check_key_strength(cert)
            _check_path_lengths(path)
            _check_name_constraints(path)
            return path
        _refuse_weak_signature(current)
        issuer = next((a for a in anchors if _issued_by(current, a)), None)
        if issuer is None:
            issuer = next((c for c in pool if c not in path and _issued_by(current, c)), None)
        if issuer is None:
            raise VerificationError(f"no trusted issuer for {named(current)}", check=Check.CHAIN)
        if not _is_ca(issuer):
            raise VerificationError(
                f"{named(issuer)} is not a CA allowed to sign certificates (RFC 5280 "
                "4.2.1.9: basicConstraints cA; 4.2.1.3: keyCertSign)",
                check=Check.CHAIN,
            )
        path.append(issuer)
        current = issuer
    raise VerificationError("the certificate path is too long", check=Check.CHAIN)


def _check_name_constraints(path: Sequence[x509.Certificate]) -> None:
    """:class:`RefusedCertificate` naming the certificate, the CA and the name when a name
    of a certificate lies outside the nameConstraints of a CA above it (RFC 5280 4.2.1.10)."""
    try:
        found = first_violation(path)
    except ValueError as exc:
        raise VerificationError(
            f"the names of a certificate of the path cannot be read: {exc}", check=Check.CHAIN
        ) from exc
    if found is not None:
        cert, ca, reason = found
        raise RefusedCertificate(
            f"certificate {cert.subject.rfc4514_string()} (serial {cert.serial_number:x}) "
            f"breaks the nameConstraints of CA {ca.subject.rfc4514_string()} (serial "
            f"{ca.serial_number:x}): {reason} (RFC 5280 4.2.1.10)",
            check=Check.CHAIN,
        )


def _check_path_lengths(path: Sequence[x509.Certificate]) -> None:
    """Each CA's pathLenConstraint (RFC 5280 4.2.1.9, 6.1.4 (l)-(m)): the most non-self-issued
    intermediate CA certificates that may follow it in a path. Checked for the anchor too, as
    path validators commonly do: a CA that may only issue end-entity certificates cannot give
    a sub-CA it created the power to sign for it."""
    for index, ca in enumerate(path[1:], start=1):
        constraints = extension(ca, x509.BasicConstraints)
        limit = constraints.path_length if constraints is not None else None
        if limit is None:
            continue
        below = [c for c in path[1:index] if c.subject != c.issuer]
        if len(below) > limit:
            raise VerificationError(
                f"{named(ca)} allows {limit} intermediate CA certificate(s) "
                f"below it (pathLenConstraint, RFC 5280 4.2.1.9); this path has {len(below)}: "
                f"{'; '.join(c.subject.rfc4514_string() for c in below)}",
                check=Check.CHAIN,
            )


SIGNING_PURPOSES: Mapping[ObjectIdentifier, str] = {
    ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE: "anyExtendedKeyUsage",
    ExtendedKeyUsageOID.CLIENT_AUTH: "clientAuth",
    ExtendedKeyUsageOID.EMAIL_PROTECTION: "emailProtection",
    ObjectIdentifier("1.3.6.1.5.5.7.3.36"): "documentSigning",
    ObjectIdentifier("1.3.6.1.4.1.311.10.3.12"): "Microsoft documentSigning",
    ObjectIdentifier("1.2.840.113583.1.1.5"): "Adobe authenticDocumentsTrust",
}
"""The extendedKeyUsage purposes under which a certificate may sign documents, AS4 messages
and receipts, SMP answers and JWS, by OID.

RFC 5280 4.2.1.12: with the extension present, "the certificate MUST only be used for one of
the purposes indicated". No purpose is defined for XML or JWS signing, so the accepted ones
are those signing certificates carry in practice: clientAuth (every Peppol AP and SMP
certificate has exactly it, critical, and signs AS4 messages, receipts and SMP answers with
it; eIDAS e-seal certificates carry it too), emailProtection (S/MIME signing, on qualified
signature and seal certificates), documentSigning (RFC 9336) and its Microsoft and Adobe
forerunners, and anyExtendedKeyUsage. A certificate listing none of them was issued for
something else only: serverAuth (a TLS server), codeSigning, timeStamping (RFC 3161: that
purpose alone), OCSPSigning."""


_OTHER_PURPOSES: Mapping[ObjectIdentifier, str] = {
    ExtendedKeyUsageOID.SERVER_AUTH: "serverAuth",
    ExtendedKeyUsageOID.CODE_SIGNING: "codeSigning",
    ExtendedKeyUsageOID.TIME_STAMPING: "timeStamping",
    ExtendedKeyUsageOID.OCSP_SIGNING: "OCSPSigning",
}


def _purpose_name(oid: ObjectIdentifier) -> str:
    """``serverAuth`` … for a purpose of RFC 5280 4.2.1.12, else the dotted OID."""
    return _OTHER_PURPOSES.get(oid) or SIGNING_PURPOSES.get(oid) or oid.dotted_string


def check_signer_usage(signer: x509.Certificate, what: str = "signer certificate") -> None:
    """The signer's keyUsage (when present) must allow signatures: digitalSignature or
    nonRepudiation (contentCommitment), RFC 5280 4.2.1.3; its extendedKeyUsage (when
    present) must list a purpose of :data:`SIGNING_PURPOSES` (RFC 5280 4.2.1.12). Either
    refusal is ``check=Check.CHAIN`` naming ``what`` (the signer's role), the certificate's
    subject and serial number, and the rule."""
    named = f"the {what} {signer.subject.rfc4514_string()} (serial {signer.serial_number:x})"
    usage = extension(signer, x509.KeyUsage)
    if usage is not None and not (usage.digital_signature or usage.content_commitment):
        raise VerificationError(
            f"{named} may not sign: its keyUsage allows neither digitalSignature nor "
            "nonRepudiation (RFC 5280 4.2.1.3)",
            check=Check.CHAIN,
        )
    purposes = extension(signer, x509.ExtendedKeyUsage)
    if purposes is not None and not any(oid in SIGNING_PURPOSES for oid in purposes):
        listed = ", ".join(_purpose_name(oid) for oid in purposes) or "nothing"
        raise VerificationError(
            f"{named} may not sign: its extendedKeyUsage lists only {listed}, and a "
            "certificate with that extension may be used only for a purpose it lists "
            "(RFC 5280 4.2.1.12); a signer needs one of "
            f"{', '.join(SIGNING_PURPOSES.values())}",
            check=Check.CHAIN,
        )


def check_validity(path: Sequence[x509.Certificate], moment: datetime) -> None:
    """Every certificate of ``path`` must be valid at ``moment`` (the signing time)."""
    for cert in path:
        if moment > cert.not_valid_after_utc:
            raise VerificationError(
                f"certificate {named(cert)} expired "
                f"{cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC, "
                f"before the signing time {moment:%Y-%m-%d %H:%M} UTC (RFC 5280 4.1.2.5)",
                check=Check.EXPIRED,
            )
        if moment < cert.not_valid_before_utc:
            raise VerificationError(
                f"certificate {named(cert)} is valid only from "
                f"{cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC, "
                f"after the signing time {moment:%Y-%m-%d %H:%M} UTC (RFC 5280 4.1.2.5)",
                check=Check.NOT_YET_VALID,
            )


def check_still_valid(path: Sequence[x509.Certificate], now: datetime) -> None:
    """No certificate of ``path`` may have expired by ``now`` (``check=Check.EXPIRED``).

    A baseline B-B signature carries no time-stamp, so nothing proves it was made at its
    claimed SigningTime: EN 319 102-1 (5.3, validation of a basic signature) validates the
    certificates at the current time, and a certificate that has expired since has no proof
    of existence within its validity (INDETERMINATE, OUT_OF_BOUNDS_NO_POE). Once expired, its
    revocation is no longer published either, so a key holder could sign now and claim a
    time within the validity."""
    for cert in path:
        if now > cert.not_valid_after_utc:
            raise VerificationError(
                f"certificate {named(cert)} expired "
                f"{cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC; the signature carries no "
                "time-stamp proving it was made before then (EN 319 102-1: out of bounds, "
                "no proof of existence)",
                check=Check.EXPIRED,
            )

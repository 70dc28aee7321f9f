"""Algorithm identifiers (XML-DSig / XAdES URIs) and the policy on which are accepted.

Only SHA-2 based algorithms are accepted. SHA-1 (and MD5, DSA, HMAC) is refused both when
signing and when verifying, with ``check=Check.ALGORITHM``.
"""

from __future__ import annotations

from enum import StrEnum

from cryptography.hazmat.primitives import hashes

from gateway.errors import VerificationError

DS_NS = "http://www.w3.org/2000/09/xmldsig#"
XADES_NS = "http://uri.etsi.org/01903/v1.3.2#"
SIGNED_PROPERTIES_TYPE = "http://uri.etsi.org/01903#SignedProperties"
ENVELOPED_TRANSFORM = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"


class Check(StrEnum):
    """What a :class:`~gateway.errors.VerificationError` ``check`` can name (equal to its string)."""

    STRUCTURE = "structure"
    """Shape and place of the signature, references, unique Ids (signature wrapping)."""
    ALGORITHM = "algorithm"
    """A refused algorithm (SHA-1, MD5, DSA, HMAC, XPath/XSLT transforms, unknown ones)."""
    SIGNATURE = "signature"
    """The SignatureValue does not verify with the signer's key."""
    REFERENCE = "reference"
    """The signed document (or detached data, or signed KeyInfo) was altered."""
    SIGNED_PROPERTIES = "signed-properties"
    """The XAdES SignedProperties were altered, are incomplete, or name another certificate."""
    CHAIN = "chain"
    """No path from the signer to a trust anchor."""
    EXPIRED = "expired"
    """A certificate of the path had expired at the signing time, or has expired since (a B-B
    signature has no time-stamp to prove it was made before)."""
    NOT_YET_VALID = "not-yet-valid"
    """A certificate was not yet valid at the signing time, or the signing time is ahead."""
    REVOKED = "revoked"
    """A certificate of the path is revoked (OCSP or CRL)."""
    REVOCATION_UNKNOWN = "revocation-unknown"
    """No OCSP or CRL answer (hard fail)."""


class SignatureAlgorithm(StrEnum):
    """Signature methods the gateway signs and verifies with."""

    RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    RSA_SHA384 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384"
    RSA_SHA512 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"
    ECDSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
    ECDSA_SHA384 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384"
    ECDSA_SHA512 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512"

    @property
    def is_ecdsa(self) -> bool:
        """Whether this is an ECDSA method (signature value is ``r || s``)."""
        return "ecdsa" in self.value

    def hash(self) -> hashes.HashAlgorithm:
        """The hash function this method signs with."""
        return _HASH_OF_SUFFIX[self.value.rsplit("sha", 1)[1]]()


class DigestAlgorithm(StrEnum):
    """Digest methods for references and certificate digests."""

    SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
    SHA384 = "http://www.w3.org/2001/04/xmldsig-more#sha384"
    SHA512 = "http://www.w3.org/2001/04/xmlenc#sha512"

    def hash(self) -> hashes.HashAlgorithm:
        """The hash function of this digest method."""
        return _HASH_OF_SUFFIX[self.value.rsplit("sha", 1)[1]]()


class Canonicalization(StrEnum):
    """Canonicalization methods accepted in ``SignedInfo`` and as reference transforms.

    The gateway signs with inclusive C14N 1.0 (:attr:`INCLUSIVE`), which every verifier
    applies by default to same-document references. Exclusive C14N is accepted when
    verifying others' signatures, always with an explicit transform.
    """

    INCLUSIVE = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
    INCLUSIVE_WITH_COMMENTS = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments"
    C14N11 = "http://www.w3.org/2006/12/xml-c14n11"
    C14N11_WITH_COMMENTS = "http://www.w3.org/2006/12/xml-c14n11#WithComments"
    EXCLUSIVE = "http://www.w3.org/2001/10/xml-exc-c14n#"
    EXCLUSIVE_WITH_COMMENTS = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"

    @property
    def exclusive(self) -> bool:
        """Whether this is exclusive canonicalization."""
        return "exc-c14n" in self.value

    @property
    def with_comments(self) -> bool:
        """Whether comments are kept."""
        return self.value.endswith("#WithComments")


_HASH_OF_SUFFIX: dict[str, type[hashes.HashAlgorithm]] = {
    "256": hashes.SHA256,
    "384": hashes.SHA384,
    "512": hashes.SHA512,
}

_WEAK_MARKERS = ("sha1", "md5", "#dsa-", "hmac-")


def _refuse_weak(uri: str, what: str) -> None:
    lowered = uri.lower()
    for marker in _WEAK_MARKERS:
        if marker in lowered:
            reason = "SHA-1" if marker == "sha1" else "weak"
            raise VerificationError(f"{what} {uri} is refused ({reason})", check=Check.ALGORITHM)


def signature_algorithm(uri: str) -> SignatureAlgorithm:
    """The accepted signature method named by ``uri``; refuses SHA-1 and unknown ones."""
    _refuse_weak(uri, "signature method")
    try:
        return SignatureAlgorithm(uri)
    except ValueError:
        raise VerificationError(
            f"signature method {uri!r} is not supported", check=Check.ALGORITHM
        ) from None


def digest_algorithm(uri: str) -> DigestAlgorithm:
    """The accepted digest method named by ``uri``; refuses SHA-1 and unknown ones."""
    _refuse_weak(uri, "digest method")
    try:
        return DigestAlgorithm(uri)
    except ValueError:
        raise VerificationError(
            f"digest method {uri!r} is not supported", check=Check.ALGORITHM
        ) from None


def canonicalization(uri: str) -> Canonicalization:
    """The accepted canonicalization named by ``uri``."""
    try:
        return Canonicalization(uri)
    except ValueError:
        raise VerificationError(
            f"canonicalization or transform {uri!r} is not supported", check=Check.ALGORITHM
        ) from None

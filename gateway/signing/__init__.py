"""Document signatures: XAdES baseline B-B signing and verification.

Signing (:class:`XadesSigner`) puts an enveloped signature inside ``ext:UBLExtensions`` for
UBL, as the root's last child for other XML, or makes a detached signature over any bytes.
Verification (:class:`Verifier`) checks the signature, the references and signed properties,
the certificate path to a trust store, validity at signing time and revocation (OCSP, CRL
fallback), and returns only the content that was signed (:class:`VerifiedDocument`).

Keys sit behind :class:`KeyProvider` (PEM, PKCS#12, HSM/KMS back-ends).
"""

from gateway.errors import SigningError, VerificationError
from gateway.signing.algorithms import DigestAlgorithm, SignatureAlgorithm
from gateway.signing.keys import (
    BackendKeyProvider,
    InProcessBackend,
    KeyProvider,
    PrivateKeyProvider,
    SigningBackend,
    load_pem_provider,
    load_pkcs12_provider,
)
from gateway.signing.verify import VerificationResult, VerifiedDocument, Verifier
from gateway.signing.xades import XadesSigner

__all__ = [
    "BackendKeyProvider",
    "DigestAlgorithm",
    "InProcessBackend",
    "KeyProvider",
    "PrivateKeyProvider",
    "SignatureAlgorithm",
    "SigningBackend",
    "SigningError",
    "VerificationError",
    "VerificationResult",
    "VerifiedDocument",
    "Verifier",
    "XadesSigner",
    "load_pem_provider",
    "load_pkcs12_provider",
]

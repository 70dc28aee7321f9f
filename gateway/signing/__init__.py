"""Document signatures: XAdES baseline B-B signing and verification.

::

    signer = XadesSigner.from_files(key="k.pem", cert="c.pem", chain=["ca.pem"])
    signed = signer.sign(ubl_xml)              # enveloped, inside ext:UBLExtensions
    detached = signer.sign_detached(cii_or_json, name="invoice.xml", mime_type="text/xml")

    verifier = Verifier(trust=["root.pem"], crls=["ca.crl"], ocsp=True, soft_fail=False)
    result = verifier.verify(signed)           # raises VerificationError(check=...)
    use(result.signed_xml)                     # only what was signed, never ``signed``

Signing (:class:`XadesSigner`) puts an enveloped signature inside ``ext:UBLExtensions`` for
UBL (with ``cac:Signature`` in the body), as the root's last child for other XML, or makes a
detached signature over any bytes (CII, whose schema has no place for one, and JSON).
Verification (:class:`Verifier`) checks the signature, the references and signed properties,
the certificate path to a trust store, validity at signing time and revocation (OCSP, CRL
fallback), and returns only the content that was signed (:class:`VerifiedDocument`).

Keys sit behind :class:`KeyProvider` (PEM, PKCS#12, HSM/KMS back-ends), loaded once.

Peppol note: the BIS 3 and PINT rule sets have a fatal "no empty elements" rule
(PEPPOL-EN16931-R008, ibr-079) that every XML-DSig signature trips (``ds:DigestMethod`` and the
like are empty by design). Validate before signing, and validate the verified content on
receipt; an enveloped signature on a Peppol invoice will be flagged by a receiver that runs the
rules over the whole signed document.
"""

from gateway.errors import SigningError, VerificationError
from gateway.signing.algorithms import Check, DigestAlgorithm, SignatureAlgorithm
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
    "Check",
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

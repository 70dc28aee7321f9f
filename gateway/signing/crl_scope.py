"""Which certificates a CRL speaks for (RFC 5280 sections 5.2 and 6.3.3).

A CRL signed by the right issuer and current is not yet an answer for a certificate: a CA
may publish CRLs that cover only part of what it issued, and a certificate missing from such
a CRL proves nothing. :func:`crl_scope` tells the revocation checker how far a CRL may be
trusted for one certificate:

* ``None`` — the CRL does not apply: a delta CRL (it lists only changes since its base CRL,
  section 5.2.4; the gateway does not combine the two), an indirect CRL (entries may belong
  to other issuers, 5.2.5), a CRL of attribute certificates or of only CA / only end-entity
  certificates when the certificate is of the other kind, a CRL for another distribution
  point than the certificate's (6.3.3 b.2.i), or one with a critical extension the gateway
  does not process ("the application MUST NOT use that CRL", 5.2);
* :attr:`CrlScope.PARTIAL` — it covers only some revocation reasons (``onlySomeReasons``):
  an entry counts, its absence does not;
* :attr:`CrlScope.COMPLETE` — an entry means revoked, no entry means not revoked.
"""

from __future__ import annotations

from enum import Enum

from cryptography import x509
from cryptography.x509.oid import ExtensionOID

from gateway.signing.chain import extension

PROCESSED = frozenset(
    {
        ExtensionOID.ISSUING_DISTRIBUTION_POINT,
        ExtensionOID.DELTA_CRL_INDICATOR,
        ExtensionOID.CRL_NUMBER,
        ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
        ExtensionOID.ISSUER_ALTERNATIVE_NAME,
    }
)
"""CRL extensions whose meaning the gateway takes into account (or that do not narrow it)."""


class CrlScope(Enum):
    """How far a CRL answers for one certificate."""

    COMPLETE = "complete"
    PARTIAL = "partial"


def crl_scope(crl: x509.CertificateRevocationList, cert: x509.Certificate) -> CrlScope | None:
    """How far ``crl`` (already checked: signed by the issuer, current) answers for ``cert``."""
    for listed in crl.extensions:
        if listed.critical and listed.oid not in PROCESSED:
            return None
        if isinstance(listed.value, x509.DeltaCRLIndicator):
            return None
    try:
        point = crl.extensions.get_extension_for_class(x509.IssuingDistributionPoint).value
    except x509.ExtensionNotFound:
        return CrlScope.COMPLETE
    if point.indirect_crl or point.only_contains_attribute_certs:
        return None
    is_ca = _is_ca(cert)
    if (point.only_contains_ca_certs and not is_ca) or (point.only_contains_user_certs and is_ca):
        return None
    if (point.full_name or point.relative_name) and not _same_point(point, cert):
        return None
    return CrlScope.PARTIAL if point.only_some_reasons else CrlScope.COMPLETE


def _is_ca(cert: x509.Certificate) -> bool:
    constraints = extension(cert, x509.BasicConstraints)
    return constraints is not None and constraints.ca


def _same_point(point: x509.IssuingDistributionPoint, cert: x509.Certificate) -> bool:
    """Whether the CRL's distribution point is one the certificate names (6.3.3 b.2.i)."""
    named = extension(cert, x509.CRLDistributionPoints)
    if named is None:
        return False
    for own in named:
        if point.full_name and own.full_name and set(point.full_name) & set(own.full_name):
            return True
        if point.relative_name is not None and own.relative_name == point.relative_name:
            return True
    return False

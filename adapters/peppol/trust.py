"""Trust in Peppol certificates: access points and SMPs each have their own anchors.

A Peppol AP certificate is trusted when it chains to a configured AP CA (G3 in production,
the test network's CA in tests); an SMP certificate to a configured SMP CA. Each is a
:class:`gateway.signing.truststore.TrustStore` (shared with the PINT platform's ``x5c``
checks): revocation OCSP first, then CRL; with ``soft_fail`` an unknown status is accepted,
a revoked one never.
"""

from __future__ import annotations

from pathlib import Path

from cryptography import x509

from gateway.errors import ConfigError

__all__ = ["common_name", "load_certificates"]


def load_certificates(path: Path) -> list[x509.Certificate]:
    """Every PEM certificate in ``path``; :class:`ConfigError` when there is none."""
    try:
        found = x509.load_pem_x509_certificates(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read certificates from {path}: {exc}", field=str(path)) from exc
    return found


def common_name(cert: x509.Certificate) -> str:
    """The subject CN (a Peppol seat id such as ``PSG000001``)."""
    names = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""

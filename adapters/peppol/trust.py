"""Trust in Peppol certificates: access points and SMPs each have their own anchors.

A Peppol AP certificate is trusted when it chains to a configured AP CA (G3 in production,
the test network's CA in tests); an SMP certificate to a configured SMP CA. Each is a
:class:`gateway.signing.truststore.TrustStore` (shared with the PINT platform's ``x5c``
checks): revocation OCSP first, then CRL; with ``soft_fail`` an unknown status is accepted,
a revoked one never.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from cryptography import x509

from gateway.errors import ConfigError, VerificationError
from gateway.signing.truststore import TrustStore

__all__ = [
    "ACCESS_POINT_UNITS",
    "SMP_UNITS",
    "SenderVerdicts",
    "check_network",
    "common_name",
    "load_certificates",
    "peppol_network",
]

ACCESS_POINT_UNITS = frozenset({"PEPPOL PRODUCTION AP", "PEPPOL TEST AP"})
"""The subject OU of Peppol access point certificates (G2 and G3, production and test)."""
SMP_UNITS = frozenset({"PEPPOL PRODUCTION SMP", "PEPPOL TEST SMP"})
"""The subject OU of Peppol SMP certificates. An AP trust store refuses these and an SMP
trust store refuses :data:`ACCESS_POINT_UNITS`, whatever the anchors: the Peppol root issues
both kinds (through different CAs), and an SMP's certificate must never be taken for an
access point's, nor the reverse."""


def load_certificates(path: Path) -> list[x509.Certificate]:
    """Every PEM certificate in ``path``; :class:`ConfigError` when there is none."""
    try:
        found = x509.load_pem_x509_certificates(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read certificates from {path}: {exc}", field=str(path)) from exc
    return found


@lru_cache(maxsize=1024)
def common_name(cert: x509.Certificate) -> str:
    """The subject CN (a Peppol seat id such as ``PSG000001``; kept per certificate)."""
    names = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""


PRODUCTION = "production"
TEST = "test"
_NETWORK_OF_UNIT = {
    "PEPPOL PRODUCTION AP": PRODUCTION,
    "PEPPOL PRODUCTION SMP": PRODUCTION,
    "PEPPOL TEST AP": TEST,
    "PEPPOL TEST SMP": TEST,
}


_PEPPOL_ISSUING_CAS = ("PEPPOL ACCESS POINT ", "PEPPOL SERVICE METADATA PUBLISHER ")
"""How OpenPeppol's issuing CAs are named (``PEPPOL ACCESS POINT CA - G3``, ``PEPPOL SERVICE
METADATA PUBLISHER TEST CA - G3``, …: the truststores OpenPeppol publishes, G2 and G3)."""


def peppol_network(cert: x509.Certificate) -> str | None:
    """The Peppol network an AP or SMP certificate is of: by its subject OU, ``production``
    (``PEPPOL PRODUCTION AP`` / ``SMP``) or ``test`` (``PEPPOL TEST AP`` / ``SMP``; the test
    network, also called pilot); without such an OU, by its issuer, one of OpenPeppol's CAs
    (``… TEST CA - G3``: test; ``… CA - G3``: production); ``None`` for a certificate naming
    neither (a private PKI)."""
    for attribute in cert.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATIONAL_UNIT_NAME):
        network = _NETWORK_OF_UNIT.get(str(attribute.value).strip().upper())
        if network is not None:
            return network
    organisations = cert.issuer.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)
    if not any(str(o.value).strip().upper() == "OPENPEPPOL AISBL" for o in organisations):
        return None
    for attribute in cert.issuer.get_attributes_for_oid(x509.NameOID.COMMON_NAME):
        issuer = str(attribute.value).strip().upper()
        if issuer.startswith(_PEPPOL_ISSUING_CAS):
            return TEST if " TEST CA" in issuer else PRODUCTION
    return None


def check_network(cert: x509.Certificate, ours: str | None, what: str, *, rule: str) -> None:
    """``cert`` (``what``: "the SMP's signing certificate", ...) must be of our Peppol network,
    ``ours`` (:func:`peppol_network` of our own AP certificate): production and test are
    separate networks, each with its own CAs, SML and SMPs, and a document for the one must
    never travel over the other, even where a trust store holds the CAs of both.
    :class:`VerificationError` with check ``rule`` else; nothing is compared when either
    certificate names no Peppol network."""
    theirs = peppol_network(cert)
    if ours is not None and theirs is not None and theirs != ours:
        raise VerificationError(
            f"{what} {cert.subject.rfc4514_string()} is of the Peppol {theirs} network, this "
            f"access point is on the {ours} network: production and test are separate networks",
            check=rule,
        )


VERDICT_TTL = timedelta(minutes=5)
"""How long a sending AP certificate's verdict is reused before it is checked again."""
MAX_VERDICTS = 4096


class SenderVerdicts:
    """The verdicts on sending APs' certificates, kept per certificate.

    Checking a certificate (the path to an ``ap_trust`` anchor, each issuer's signature, the
    validity, the revocation status) costs about as much as the rest of a message's
    authentication, for a handful of certificates per network. A trusted certificate's path
    is reused until the earliest of :data:`VERDICT_TTL` and the end of the path's validity;
    the revocation checker keeps its own answers until their ``nextUpdate``, so a revocation
    becomes visible within the checker's window plus at most :data:`VERDICT_TTL`. Refusals
    are never kept: a refused certificate is checked again each time."""

    def __init__(self, trust: TrustStore, *, ttl: timedelta = VERDICT_TTL) -> None:
        self.trust = trust
        self.ttl = ttl
        self._paths: dict[x509.Certificate, tuple[list[x509.Certificate], datetime]] = {}
        self._lock = threading.Lock()

    def kept(
        self, cert: x509.Certificate, now: datetime | None = None
    ) -> list[x509.Certificate] | None:
        """The kept path of a trusted ``cert`` (``None``: it must be checked, which may ask
        the network)."""
        with self._lock:
            kept = self._paths.get(cert)
        return kept[0] if kept is not None and kept[1] > (now or datetime.now(UTC)) else None

    def check(self, cert: x509.Certificate) -> list[x509.Certificate]:
        """The path to an anchor, kept or checked now (:meth:`TrustStore.check` and its
        :class:`VerificationError` on a refusal)."""
        now = datetime.now(UTC)
        path = self.kept(cert, now)
        if path is not None:
            return path
        path = self.trust.check(cert, moment=now, signer=True)
        until = min([now + self.ttl, *(c.not_valid_after_utc for c in path)])
        with self._lock:
            if len(self._paths) >= MAX_VERDICTS:
                self._paths.clear()
            self._paths[cert] = (path, until)
        return path

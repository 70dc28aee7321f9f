"""Trust in Peppol certificates: access points and SMPs each have their own anchors.

A Peppol AP certificate is trusted when it chains to a configured AP CA (G3 in production,
the test network's CA in tests); an SMP certificate to a configured SMP CA. Revocation is
asked OCSP first, then CRL (:class:`gateway.signing.revocation.RevocationChecker`); with
``soft_fail`` an unknown status is accepted, a revoked one never.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509

from gateway.errors import ConfigError, VerificationError
from gateway.signing.algorithms import Check
from gateway.signing.chain import build_path, check_validity
from gateway.signing.revocation import RevocationChecker


def load_certificates(path: Path) -> list[x509.Certificate]:
    """Every PEM certificate in ``path``; :class:`ConfigError` when there is none."""
    try:
        found = x509.load_pem_x509_certificates(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read certificates from {path}: {exc}", field=str(path)) from exc
    return found


@dataclass(frozen=True, slots=True)
class TrustStore:
    """Anchors (the CAs allowed to issue this kind of certificate) and optional revocation."""

    anchors: tuple[x509.Certificate, ...]
    pool: tuple[x509.Certificate, ...] = ()
    revocation: RevocationChecker | None = None
    soft_fail: bool = True
    what: str = "certificate"
    _cache: dict[bytes, datetime] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_files(
        cls,
        paths: Sequence[Path],
        *,
        what: str,
        revocation: RevocationChecker | None = None,
        soft_fail: bool = True,
    ) -> TrustStore:
        anchors: list[x509.Certificate] = []
        for path in paths:
            anchors.extend(load_certificates(path))
        return cls(tuple(anchors), revocation=revocation, soft_fail=soft_fail, what=what)

    def check(
        self, cert: x509.Certificate, *, moment: datetime | None = None
    ) -> list[x509.Certificate]:
        """The path to an anchor; :class:`VerificationError` when there is none, a certificate
        is outside its validity, or revoked (unknown status: refused unless ``soft_fail``)."""
        now = moment or datetime.now(UTC)
        try:
            path = build_path(cert, self.pool, self.anchors)
        except VerificationError as exc:
            raise VerificationError(
                f"{self.what} {cert.subject.rfc4514_string()} is not from a trusted CA: {exc.message}",
                check=Check.CHAIN,
            ) from exc
        check_validity(path, now)
        if self.revocation is not None:
            for child, issuer in itertools.pairwise(path):
                status = self.revocation.status(child, issuer)
                if status == "unknown" and not self.soft_fail:
                    raise VerificationError(
                        f"revocation status of {child.subject.rfc4514_string()} is unknown",
                        check=Check.REVOCATION_UNKNOWN,
                    )
        return path


def common_name(cert: x509.Certificate) -> str:
    """The subject CN (a Peppol seat id such as ``PSG000001``)."""
    names = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""

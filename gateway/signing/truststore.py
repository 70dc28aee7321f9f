"""A trust store: the anchors a kind of certificate must chain to, with optional revocation.

Shared by the Peppol access point (AP and SMP certificates, each with their own anchors) and
the PINT platform (``x5c`` chains in JWS headers). A certificate is trusted when a path from
it reaches a configured anchor (through the store's pool and the intermediates the caller
received with it), every certificate of the path is within its validity, and — when a
:class:`gateway.signing.revocation.RevocationChecker` is set — none is revoked (OCSP first,
then CRL). With ``soft_fail`` an unknown status is accepted, a revoked one never.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import NameOID

from gateway.errors import ConfigError, InputError, VerificationError
from gateway.signing.algorithms import Check
from gateway.signing.chain import (
    RefusedCertificate,
    build_path,
    check_signer_usage,
    check_validity,
    named,
    readable,
)
from gateway.signing.keys import load_certificates
from gateway.signing.revocation import RevocationChecker


@dataclass(frozen=True, slots=True)
class TrustStore:
    """Anchors (the CAs allowed to issue this kind of certificate) and optional revocation."""

    anchors: tuple[x509.Certificate, ...]
    pool: tuple[x509.Certificate, ...] = ()
    revocation: RevocationChecker | None = None
    soft_fail: bool = True
    what: str = "certificate"
    refused_units: frozenset[str] = frozenset()
    """Subject OU values (compared case-insensitively) that mark a certificate of another kind,
    refused even when it chains to an anchor: a Peppol SMP certificate (``PEPPOL PRODUCTION
    SMP``) where an access point's is expected, when the anchors also cover SMP certificates
    (the Peppol root, or a bundle with both issuing CAs)."""

    @classmethod
    def from_files(
        cls,
        paths: Sequence[Path],
        *,
        what: str,
        revocation: RevocationChecker | None = None,
        soft_fail: bool = True,
        refused_units: frozenset[str] = frozenset(),
    ) -> TrustStore:
        """The anchors of PEM files; :class:`ConfigError` names a file that cannot be read."""
        anchors: list[x509.Certificate] = []
        for path in paths:
            try:
                anchors.extend(load_certificates(path))
            except InputError as exc:
                raise ConfigError(exc.message, field=str(path)) from exc
        return cls(
            tuple(anchors),
            revocation=revocation,
            soft_fail=soft_fail,
            what=what,
            refused_units=refused_units,
        )

    def check(
        self,
        cert: x509.Certificate,
        *,
        moment: datetime | None = None,
        intermediates: Sequence[x509.Certificate] = (),
        signer: bool = False,
    ) -> list[x509.Certificate]:
        """The path to an anchor; :class:`VerificationError` when there is none, a certificate
        is outside its validity, or revoked (unknown status: refused unless ``soft_fail``).
        With ``signer``, ``cert`` verified a signature, and its keyUsage (when present) must
        allow that (:func:`gateway.signing.chain.check_signer_usage`).
        With ``moment`` (a past signing time) a certificate valid then that has expired
        since is not asked about: a CA need not publish the status of an expired certificate
        (RFC 5280 3.3, CRLs may drop it; RFC 6960 4.4.4), so no answer would come but
        ``unknown``. One still valid is asked, and refused when revoked.
        May ask OCSP responders and fetch CRLs: call it off the event loop when revocation
        is on."""
        current = datetime.now(UTC)
        now = moment or current
        for given in (cert, *intermediates):
            readable(given)
        self._refuse_other_kind(cert)
        if signer:
            check_signer_usage(cert, self.what)
        try:
            path = build_path(cert, (*self.pool, *intermediates), self.anchors)
        except RefusedCertificate as exc:
            raise VerificationError(
                f"{self.what} {named(cert)} is refused: {exc.message}",
                check=exc.check,
            ) from exc
        except VerificationError as exc:
            raise VerificationError(
                f"{self.what} {named(cert)} is not from a trusted CA: {exc.message}",
                check=Check.CHAIN,
            ) from exc
        check_validity(path, now)
        if self.revocation is not None:
            for child, issuer in itertools.pairwise(path):
                if child.not_valid_after_utc < current:
                    continue
                status = self.revocation.status(child, issuer)
                if status == "unknown" and not self.soft_fail:
                    raise VerificationError(
                        f"revocation status of {self.what} path certificate {named(child)} is "
                        "unknown: no OCSP responder or CRL gave a usable answer (hard-fail)",
                        check=Check.REVOCATION_UNKNOWN,
                    )
        return path

    def _refuse_other_kind(self, cert: x509.Certificate) -> None:
        """:class:`VerificationError` when ``cert``'s subject OU names a refused kind."""
        if not self.refused_units:
            return
        refused = {unit.casefold() for unit in self.refused_units}
        for attribute in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME):
            unit = str(attribute.value).strip()
            if unit.casefold() in refused:
                raise VerificationError(
                    f"{named(cert)} is a {unit} certificate, not a trusted {self.what}",
                    check=Check.CHAIN,
                )

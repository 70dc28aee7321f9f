"""The gateway's own certificates and when they expire, so an operator is warned in time.

A certificate the gateway presents or signs with stops all its traffic the moment it
expires: the TLS server certificate (clients refuse the handshake), the signing
certificate (receivers refuse the signatures), a Peppol access point certificate (valid
two years at most under the Peppol PKI; senders and the SMP refuse it). Each is watched
under a *role* (``server-tls``, ``signing``, ``adapter:<name>:<what>``), and so are the
partners' certificates an adapter trusts (a DCSA PINT partner's keys): ``/metrics``
exposes the seconds left per role (``lingang_certificate_expiry_seconds``), ``/healthz``
warns :data:`DEFAULT_WARN_DAYS` days ahead (``[ops] certificate_warn_days``) and fails
once one of the gateway's own has expired, the process logs the same at start, and ``lingang certificates``
lists them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509

from gateway.errors import ConfigError

DEFAULT_WARN_DAYS = 30
"""How many days ahead an expiry is warned of: time to have a Peppol AP certificate
reissued through OpenPeppol's CA, or any other renewed and deployed."""


@dataclass(frozen=True, slots=True)
class WatchedCertificate:
    """One certificate the gateway uses: its ``role``, subject and end of validity."""

    role: str
    subject: str
    not_after: datetime
    trusted: bool = False
    """A partner's certificate the gateway trusts (a DCSA PINT platform's key), not one it
    presents: warned of like the gateway's own, but its expiry does not fail ``/healthz``
    (the gateway itself still works; that partner must send its renewed one)."""

    @classmethod
    def of(
        cls, role: str, certificate: x509.Certificate, *, trusted: bool = False
    ) -> WatchedCertificate:
        subject = certificate.subject.rfc4514_string()
        return cls(role, subject, certificate.not_valid_after_utc, trusted)

    def seconds_left(self, now: datetime) -> float:
        """Seconds until it expires (negative once it has)."""
        return (self.not_after - now).total_seconds()

    def status(self, now: datetime, warn_days: float) -> str:
        """``expired``, ``expiring`` (within ``warn_days``) or ``ok``."""
        if now >= self.not_after:
            return "expired"
        if self.not_after - now <= timedelta(days=warn_days):
            return "expiring"
        return "ok"

    def describe(self, now: datetime) -> str:
        """``<role> (<subject>) expires/expired <date> UTC, in N days``: for a person."""
        days = self.seconds_left(now) / 86400
        when = f"{self.not_after:%Y-%m-%d %H:%M} UTC"
        if days < 0:
            return f"{self.role} ({self.subject}) expired {when}, {-days:.0f} days ago"
        return f"{self.role} ({self.subject}) expires {when}, in {days:.0f} days"


def pem_leaf(path: Path, *, field: str) -> x509.Certificate:
    """The first certificate of a PEM file (a chain's leaf); :class:`ConfigError` naming
    ``field`` when the file holds none."""
    try:
        found = x509.load_pem_x509_certificates(path.read_bytes())
    except (OSError, ValueError) as exc:
        message = f"{field}: cannot read a certificate from {path}: {exc}"
        raise ConfigError(message, field=field) from exc
    return found[0]


def needing_attention(
    watched: Iterable[WatchedCertificate], now: datetime, warn_days: float
) -> list[WatchedCertificate]:
    """The certificates expired or expiring within ``warn_days``, soonest first."""
    due = [w for w in watched if w.status(now, warn_days) != "ok"]
    return sorted(due, key=lambda w: w.not_after)

"""SML lookup: the participant's SMP by U-NAPTR (``Meta:SMP``), with dnspython.

The DNS name is ``base32(sha256(lowercase participant value))`` without padding, lower-cased,
then ``.iso6523-actorid-upis.`` and the SML zone (Peppol Policy for use of Identifiers 4.4).
An authoritative "no such name" or no ``Meta:SMP`` record means the participant is not
registered; a timeout or a server failure is a :class:`DnsFailure` (retryable), never "not
registered".
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

import dns.asyncresolver
import dns.exception
import dns.rdatatype
import dns.resolver

from adapters.peppol.errors import DnsFailure, ParticipantNotRegistered
from adapters.peppol.identifiers import PARTICIPANT_SCHEME, ParticipantId

PRODUCTION_ZONE = "participant.sml.prod.tech.peppol.org."
TEST_ZONE = "participant.sml.test.tech.peppol.org."
SMP_SERVICE = "Meta:SMP"


def sml_name(participant: ParticipantId, zone: str) -> str:
    """The DNS name the SML publishes for ``participant``."""
    digest = hashlib.sha256(participant.value.lower().encode("utf-8")).digest()
    label = base64.b32encode(digest).decode("ascii").rstrip("=").lower()
    return f"{label}.{PARTICIPANT_SCHEME}.{zone.rstrip('.')}."


def apply_naptr_regexp(regexp: str, name: str) -> str:
    """Apply a NAPTR ``regexp`` field (``!pattern!replacement!flags``) to ``name``."""
    if len(regexp) < 3:
        raise ValueError(f"NAPTR regexp {regexp!r} is too short")
    delimiter = regexp[0]
    pieces = regexp[1:].split(delimiter)
    if len(pieces) != 3:
        raise ValueError(f"NAPTR regexp {regexp!r} is not !pattern!replacement!flags")
    pattern, replacement, flags = pieces
    compiled = re.compile(pattern, re.IGNORECASE if "i" in flags else 0)
    if not compiled.search(name.rstrip(".")):
        raise ValueError(f"NAPTR regexp {regexp!r} does not match {name}")
    python_replacement = re.sub(r"\\(\d)", r"\\g<\1>", replacement)
    return compiled.sub(python_replacement, name.rstrip("."), count=1)


@dataclass(frozen=True, slots=True)
class SmlLookup:
    """Asks the SML (or a test DNS server) for a participant's SMP URL."""

    zone: str = PRODUCTION_ZONE
    nameservers: Sequence[str] = ()
    """Servers to ask (default: the system's); ``"host:port"`` for a test server."""
    timeout: float = 5.0

    def _resolver(self) -> dns.asyncresolver.Resolver:
        if not self.nameservers:
            resolver = dns.asyncresolver.Resolver()
        else:
            resolver = dns.asyncresolver.Resolver(configure=False)
            hosts: list[str] = []
            port = 53
            for server in self.nameservers:
                host, _, given = (
                    server.rpartition(":") if server.count(":") == 1 else (server, "", "")
                )
                hosts.append(host)
                port = int(given) if given else 53
            resolver.nameservers = hosts
            resolver.port = port
        resolver.lifetime = self.timeout
        resolver.timeout = self.timeout
        return resolver

    async def smp_url(self, participant: ParticipantId) -> str:
        """The SMP base URL (no trailing slash) for ``participant``."""
        name = sml_name(participant, self.zone)
        try:
            answer = await self._resolver().resolve(
                name, dns.rdatatype.NAPTR, raise_on_no_answer=False
            )
        except dns.resolver.NXDOMAIN as exc:
            raise ParticipantNotRegistered(
                f"{participant} is not registered in the SML {self.zone} ({name} does not exist)",
                field="participant",
            ) from exc
        except (
            dns.exception.Timeout,
            dns.resolver.NoNameservers,
            dns.resolver.LifetimeTimeout,
        ) as exc:
            raise DnsFailure(
                f"the SML could not be asked for {participant}: {exc}", field="participant"
            ) from exc
        except dns.exception.DNSException as exc:
            raise DnsFailure(f"DNS lookup of {name} failed: {exc}", field="participant") from exc
        records = sorted(
            (
                r
                for r in (answer.rrset or [])
                if _text(r.service).lower() == SMP_SERVICE.lower() and _text(r.flags).upper() == "U"
            ),
            key=lambda r: (r.order, r.preference),
        )
        if not records:
            raise ParticipantNotRegistered(
                f"{participant} has no {SMP_SERVICE} U-NAPTR record in {self.zone}",
                field="participant",
            )
        problems: list[str] = []
        for record in records:  # by order, then preference: the next when one is unusable
            try:
                return apply_naptr_regexp(_text(record.regexp), name).rstrip("/")
            except (ValueError, re.error) as exc:
                problems.append(str(exc))
        raise DnsFailure(
            f"the SML's NAPTR records for {participant} are unusable: {'; '.join(problems)}",
            retryable=False,
        )


def _text(value: bytes | str) -> str:
    return value.decode("ascii", "replace") if isinstance(value, bytes) else value

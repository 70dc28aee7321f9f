"""Discovery: static routes first, then SML (U-NAPTR) and the SMP.

A static route (configuration) names a participant — or ``*`` for every participant — and
the endpoint URL and AP certificate to use; it overrides lookup (test networks, private
partners). Otherwise the SML gives the SMP and the SMP gives the endpoint.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509

from adapters.peppol.errors import DnsFailure
from adapters.peppol.identifiers import DocumentTypeId, ParticipantId, ProcessId
from adapters.peppol.sml import SmlLookup
from adapters.peppol.smp import Endpoint, SmpClient


@dataclass(frozen=True, slots=True)
class StaticRoute:
    """A configured endpoint for one participant (or ``*``)."""

    participant: str
    url: str
    certificate: x509.Certificate


@dataclass
class LookupReport:
    """What a lookup did, for the send report."""

    participant: str
    document_type: str
    process: str
    smp_url: str = ""
    endpoint: dict[str, str] = field(default_factory=dict)
    source: str = ""
    seconds: float = 0.0
    error: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "participant": self.participant,
            "document_type": self.document_type,
            "process": self.process,
            "smp_url": self.smp_url,
            "endpoint": self.endpoint,
            "source": self.source,
            "seconds": round(self.seconds, 4),
            "error": self.error,
        }


@dataclass
class Discovery:
    """Finds the receiving AP for a participant, document type and process."""

    smp: SmpClient
    sml: SmlLookup | None = None
    static: Mapping[str, StaticRoute] = field(default_factory=dict)

    def static_route(self, participant: ParticipantId) -> StaticRoute | None:
        return self.static.get(participant.value.lower()) or self.static.get("*")

    async def find(
        self,
        participant: ParticipantId,
        doctype: DocumentTypeId,
        process: ProcessId | None,
        report: LookupReport | None = None,
    ) -> Endpoint:
        """The endpoint; raises the typed errors of :mod:`adapters.peppol.errors`."""
        started = time.perf_counter()
        try:
            route = self.static_route(participant)
            if route is not None:
                found = Endpoint(
                    url=route.url, certificate=route.certificate, process=process, source="static"
                )
            else:
                if self.sml is None:
                    raise DnsFailure(
                        f"no static route for {participant} and no SML configured", retryable=False
                    )
                smp_url = await self.sml.smp_url(participant)
                if report is not None:
                    report.smp_url = smp_url
                found = await self.smp.endpoint(smp_url, participant, doctype, process)
        except Exception as exc:
            if report is not None:
                report.seconds = time.perf_counter() - started
                to_wire = getattr(exc, "to_wire", None)
                report.error = to_wire() if callable(to_wire) else {"message": str(exc)}
            raise
        if report is not None:
            report.seconds = time.perf_counter() - started
            report.endpoint = found.as_dict()
            report.source = found.source
        return found

    async def aclose(self) -> None:
        await self.smp.aclose()

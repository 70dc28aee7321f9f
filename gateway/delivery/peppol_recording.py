"""What the access point keeps about its Peppol traffic: a reporting record for every
transmission sent or received, and whom it receives for.

A Peppol transport tells the gateway the facts of each transmission in a small mapping under
the key ``"peppol"`` (:data:`PEPPOL_FACTS`):

* sending: in the :class:`~adapters.base.Receipt`'s ``details`` —
  ``instance_id`` (SBDH InstanceIdentifier), ``c3_seat`` (the receiving AP's seat id),
  ``doctype``, ``process``, ``c1_country`` (absent: ``ZZ``), ``sender`` (C1's participant id);
* receiving: in the :class:`~adapters.base.InboundDocument`'s ``metadata`` —
  ``instance_id``, ``c2_seat`` (the sending AP's seat id), ``doctype``, ``process``,
  ``c1_country``, ``receiver`` (C4's participant id), optionally ``c4_country``, ``scopes``
  (the SBDH's other scopes: ``MLS_TYPE``, ``MLS_TO``, …) and ``origin`` (the evidence of who
  signed the message: its certificate and the digests it signed; kept, not reported).

Optional in both: ``doctype_scheme`` (default ``busdox-docid-qns``), ``process_scheme``
(default ``cenbii-procid-ubl``), ``transport_profile`` and ``transmission_id`` (default: the
transport message id). Transmissions without such facts (a folder, a plain HTTPS partner) are
not Peppol traffic and are not recorded. Reports themselves are never recorded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from gateway.errors import ConfigError, InputError
from gateway.model.countries import ISO_3166_ALPHA2
from gateway.render.peppol_reports import REPORT_DOCUMENT_TYPES, UNKNOWN_COUNTRY
from gateway.signing.reporting_key import end_user_hash
from gateway.store import Store
from gateway.store.peppol_reporting import (
    INCOMING,
    OUTGOING,
    PeppolReportingStore,
    Transmission,
)

PEPPOL_FACTS = "peppol"
"""The key of the Peppol facts in a receipt's details or an inbound message's metadata."""
DOCTYPE_SCHEME = "busdox-docid-qns"
PROCESS_SCHEME = "cenbii-procid-ubl"
NOT_SERVICED = "peppol.not-serviced"
REPORTING_COUNTRIES = ISO_3166_ALPHA2 | frozenset({"1A", "EL", "XI", "XK"})
"""The country codes the reports take (``cl_iso3166`` of the TSR and EUSR rules, SCH-TSR-20 /
SCH-EUSR-30: ISO 3166-1 alpha-2 with Greece's ``EL`` and Kosovo's ``XK`` / ``1A``, and
``XI``; the TSR's ``ZZ`` for an unknown country is not one an end user is given)."""


def peppol_facts(mapping: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The Peppol facts in a receipt's details or a message's metadata, if any."""
    facts = (mapping or {}).get(PEPPOL_FACTS)
    return facts if isinstance(facts, Mapping) else None


@dataclass(frozen=True, slots=True)
class LocalParticipants:
    """The participants this gateway receives for, each belonging to a tenant, and the access
    point's own ids (received for, but no tenant's)."""

    tenants: Mapping[str, str]
    """Participant id (lower case ``scheme:value``) → tenant id."""
    own: frozenset[str] = frozenset()
    """The access point's own participant ids (lower case; its SPIS id, which Message Level
    Statuses are addressed to): what comes for them belongs to no tenant on arrival, and a
    received MLS goes to the tenant whose sent document it answers once that is known."""

    @classmethod
    def parse(cls, entries: Sequence[str]) -> LocalParticipants:
        """From ``"<tenant>=<scheme>:<value>"`` entries (``[peppol] local_participants``)."""
        tenants: dict[str, str] = {}
        for entry in entries:
            tenant, sep, participant = entry.partition("=")
            if not sep or not tenant.strip() or ":" not in participant:
                raise ConfigError(
                    f"local participant {entry!r} is not <tenant id>=<scheme>:<value>",
                    field="peppol.local_participants",
                )
            tenants[participant.strip().lower()] = tenant.strip()
        return cls(tenants)

    def tenant_for(self, receiver: str) -> str | None:
        """The tenant of ``receiver`` (``None``: one of our own ids); :class:`InputError` when
        we do not receive for it."""
        tenant = self.tenants.get(receiver.strip().lower())
        if tenant is None and receiver.strip().lower() in self.own:
            return None
        if tenant is None:
            raise InputError(
                f"this access point does not serve the receiver {receiver or '(none)'}",
                field="receiver",
                rule=NOT_SERVICED,
            )
        return tenant


class PeppolRecorder:
    """Writes the reporting record of each Peppol transmission (idempotent per id)."""

    def __init__(
        self,
        store: Store,
        *,
        key: bytes,
        seat_id: str,
        transport_profile: str = "peppol-transport-as4-v2_0",
        local_country: str = "CN",
    ) -> None:
        self.reporting = PeppolReportingStore(store.connector)
        self.key = key
        self.seat_id = seat_id
        self.transport_profile = transport_profile
        self.local_country = local_country.strip().upper()
        """The country of our receiving end users (C4); :class:`ConfigError` unless a code the
        reports take (:data:`REPORTING_COUNTRIES`): else every month's reports would break
        SCH-TSR-20 / SCH-EUSR-30 and never be sent."""
        if self.local_country not in REPORTING_COUNTRIES:
            raise ConfigError(
                f"[peppol] local_country {local_country!r} is not an ISO 3166-1 alpha-2 "
                "country code (the C4 country of the Peppol reports)",
                field="peppol.local_country",
            )

    async def sent(
        self,
        facts: Mapping[str, Any],
        *,
        message_id: str,
        at: datetime,
        tenant_id: str | None,
        submission_id: str | None,
    ) -> bool:
        """Record an outgoing transmission; ``False`` if it was recorded before (or is a
        report)."""
        record = self._record(
            facts,
            OUTGOING,
            message_id,
            at,
            c2=self.seat_id,
            c3=_required(facts, "c3_seat"),
            end_user=_required(facts, "sender"),
            c4_country=None,
        )
        if record is None:
            return False
        return await self.reporting.record(
            replace(record, tenant_id=tenant_id, submission_id=submission_id)
        )

    async def received(
        self, facts: Mapping[str, Any], *, message_id: str, at: datetime, tenant_id: str | None
    ) -> bool:
        """Record an incoming transmission; ``False`` if recorded before (or a report)."""
        record = self._record(
            facts,
            INCOMING,
            message_id,
            at,
            c2=_required(facts, "c2_seat"),
            c3=self.seat_id,
            end_user=_required(facts, "receiver"),
            c4_country=str(facts.get("c4_country") or self.local_country).strip().upper(),
        )
        if record is None:
            return False
        return await self.reporting.record(replace(record, tenant_id=tenant_id))

    def _record(
        self,
        facts: Mapping[str, Any],
        direction: str,
        message_id: str,
        at: datetime,
        *,
        c2: str,
        c3: str,
        end_user: str,
        c4_country: str | None,
    ) -> Transmission | None:
        doctype = _required(facts, "doctype")
        if doctype in REPORT_DOCUMENT_TYPES:
            return None
        return Transmission(
            direction=direction,
            transmission_id=str(facts.get("transmission_id") or message_id),
            instance_id=_required(facts, "instance_id"),
            exchanged_at=at,
            c2_seat=c2,
            c3_seat=c3,
            doctype_scheme=str(facts.get("doctype_scheme") or DOCTYPE_SCHEME),
            doctype=doctype,
            process_scheme=str(facts.get("process_scheme") or PROCESS_SCHEME),
            process=_required(facts, "process"),
            transport_profile=str(facts.get("transport_profile") or self.transport_profile),
            c1_country=str(facts.get("c1_country") or UNKNOWN_COUNTRY).strip().upper(),
            c4_country=c4_country,
            end_user_hash=end_user_hash(self.key, end_user),
        )


def _required(facts: Mapping[str, Any], name: str) -> str:
    value = str(facts.get(name) or "").strip()
    if not value:
        raise InputError(
            f"the Peppol facts of the transmission lack {name!r}",
            field=f"peppol.{name}",
            rule="peppol.facts",
        )
    return value

"""The flow of the access point's own Peppol messages: monthly reports and Message Level Status.

::

    ingest → identify → validate → address

The gateway writes these documents itself (:mod:`gateway.render.peppol_reports`,
:mod:`gateway.render.mls`); the flow still checks them with the official rules before they
leave, and addresses them to the receiver the gateway named when it submitted them
(``metadata["receiver"]``: OpenPeppol's reporting participant, or the ``0242:`` participant of
the access point an MLS answers). Routing and delivery are then the ordinary ones, so the
message goes through whichever adapter ``[routing]`` gives that receiver.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.errors import FieldError
from gateway.flows.common import IngestStage
from gateway.flows.document_in import DocumentIn, IdentifyStage, InboundValidateStage
from gateway.flows.stage import Flow, require
from gateway.flows.tools import Tools
from gateway.flows.transport import TransportFacts
from gateway.render.mls import DOCUMENT_TYPE_ID as MLS_DOCUMENT_TYPE
from gateway.render.mls import PROCESS_ID as MLS_PROCESS
from gateway.render.peppol_reports import (
    EUSR_DOCUMENT_TYPE,
    REPORTING_PROFILE,
    TSR_DOCUMENT_TYPE,
)

OWN_PROFILES = ("peppol-tsr", "peppol-eusr", "peppol-mls")
"""The profiles of the documents this flow sends."""


@dataclass(frozen=True, slots=True)
class PeppolIdentifiers:
    """What the SBDH and the AS4 header of one of our own documents name."""

    document_type: str
    """Scheme ``busdox-docid-qns``."""
    process: str
    """Scheme ``cenbii-procid-ubl``."""
    type_version: str
    """The SBDH ``DocumentIdentification/TypeVersion``."""


PEPPOL_IDENTIFIERS: dict[str, PeppolIdentifiers] = {
    "peppol-tsr": PeppolIdentifiers(TSR_DOCUMENT_TYPE, REPORTING_PROFILE, "1.0"),
    "peppol-eusr": PeppolIdentifiers(EUSR_DOCUMENT_TYPE, REPORTING_PROFILE, "1.1"),
    "peppol-mls": PeppolIdentifiers(MLS_DOCUMENT_TYPE, MLS_PROCESS, "2.1"),
}
"""By profile (the envelope's ``profile``): the identifiers a Peppol transport puts in the
SBDH and the AS4 header when it sends one of these documents."""
DOCUMENT = "document"
"""The output kind of the document as it is sent."""


@dataclass(frozen=True, slots=True)
class AddressStage:
    """Refuses anything but a report or an MLS, keeps it, and decides its envelope."""

    name: str = "address"
    reads: tuple[str, ...] = ("profile", "document_kind")
    adds: tuple[str, ...] = ()

    def run(self, state: DocumentIn, tools: Tools) -> dict[str, Any]:
        profile = require(state.profile, "profile")
        if profile not in OWN_PROFILES:
            raise FieldError(
                f"the Peppol out flow sends reports and MLS only, not a {profile} document",
                field="profile",
                rule="peppol-out.profile",
            )
        receiver = str(state.source.metadata.get("receiver") or "")
        if ":" not in receiver:
            raise FieldError(
                "the submission names no receiver (scheme:value)",
                field="metadata.receiver",
                rule="peppol-out.receiver",
            )
        state.keep(DOCUMENT, "application/xml", state.source.data)
        state.transport = TransportFacts(
            body=DOCUMENT,
            content_type="application/xml",
            document_kind=profile,
            profile=profile,
            sender=str(state.source.metadata.get("sender") or ""),
            receiver=receiver,
            document_number=str(state.source.metadata.get("document_number") or ""),
            filename=f"{state.source.document_id or profile}.xml",
            headers={"X-Lingang-Profile": profile},
        )
        state.facts.update(receiver=receiver, profile=profile)
        return {"receiver": receiver}


PEPPOL_OUT: Flow[DocumentIn] = Flow(
    name="peppol-out",
    direction="out",
    state_type=DocumentIn,
    stages=(
        IngestStage(what="the document"),
        IdentifyStage(),
        InboundValidateStage(),
        AddressStage(),
    ),
)
"""A Peppol report or MLS of our own, to its receiver."""

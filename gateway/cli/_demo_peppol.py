"""The demo's loopback Peppol network, and what the demo shows of a Peppol delivery.

:class:`PeppolNetwork` starts, on 127.0.0.1, the three parts a sending access point meets in
the Peppol network (:mod:`adapters.peppol.testing`): an SML (a DNS server answering U-NAPTR
``Meta:SMP`` records for its zone), an SMP over HTTPS serving signed service metadata, and a
receiving access point (corner 3) that verifies and decrypts AS4 messages and answers signed
receipts. Its certificates come from a Peppol-like test PKI
(:func:`~gateway.signing.peppol_pki.make_peppol_pki`). It registers every Singapore
participant (scheme ``0195``) of the demo's partner directory for its profile's invoice and
credit note, and describes the gateway's ``peppol`` adapter that sends to it: the adapter's
DNS resolver asks the loopback SML only, so nothing of the machine's own DNS or network is
used.

:func:`peppol_leg` reads one delivered document's Peppol leg: the send report kept with the
AS4 receipt (SML/SMP lookup, MessageId, the verified receipt) and what the receiving access
point got (the SBDH's facts, and its payload checked by the gateway's inbound flow with the
official rules).
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters.peppol.identifiers import (
    DocumentTypeId,
    ParticipantId,
    ProcessId,
    profile_document_type,
)
from adapters.peppol.sbdh import parse_sbdh
from adapters.peppol.testing import As4TestReceiver, DnsTestServer, SmpEntry, SmpTestServer
from adapters.peppol.wssec import Credentials
from gateway.errors import LingangError
from gateway.flows import DOCUMENT_IN, Source
from gateway.jobs import FlowRunner
from gateway.mapping.profiles import PROFILE_SPECS
from gateway.settings import AdapterConfig
from gateway.signing.peppol_pki import PeppolIssued, PeppolTestPki, make_peppol_pki
from gateway.signing.truststore import TrustStore
from gateway.store import Store
from gateway.testing.tls import TlsFiles

SML_ZONE = "sml.lingang.demo."
"""The loopback SML's DNS zone (a name under no real domain)."""
PEPPOL_SCHEME = "0195:"
"""Singapore UEN: the directory's receivers that the demo registers in the Peppol network."""
PEPPOL_ADAPTER = "peppol"
VALIDATED_OUTPUT = "signed"
"""The output holding the document as validated and sent (a Peppol document carries no
enveloped signature: it travels as validated, its detached signature kept beside it)."""


def _credentials(issued: PeppolIssued) -> Credentials:
    return Credentials(issued.key, issued.cert)


def singapore_participants(directory_toml: str) -> dict[ParticipantId, str]:
    """The partner directory's receivers under scheme ``0195``, with their profile."""
    partners = tomllib.loads(directory_toml).get("partners", [])
    return {
        ParticipantId.parse(str(entry["endpoint"])): str(entry.get("profile", "pint-sg"))
        for entry in partners
        if str(entry.get("endpoint", "")).startswith(PEPPOL_SCHEME)
    }


def registrations(profile: str) -> list[tuple[DocumentTypeId, ProcessId]]:
    """The document types (invoice, credit note) and process of ``profile`` in Peppol."""
    process = ProcessId(PROFILE_SPECS[profile].process_id or "")
    found: list[tuple[DocumentTypeId, ProcessId]] = []
    for credit_note in (False, True):
        doctype = profile_document_type(profile, credit_note=credit_note)
        if (doctype, process) not in found:
            found.append((doctype, process))
    return found


@dataclass
class PeppolNetwork:
    """The loopback SML, SMP and receiving access point, and who is registered in them."""

    pki: PeppolTestPki
    tls: TlsFiles
    sml: DnsTestServer
    smp: SmpTestServer
    ap: As4TestReceiver
    participants: dict[ParticipantId, str] = field(default_factory=dict)
    """Registered participants and their profile."""

    @classmethod
    async def start(cls, folder: Path, tls: TlsFiles, directory_toml: str) -> PeppolNetwork:
        """Make the test PKI under ``folder``, start the three servers (TLS from ``tls``) and
        register the directory's Singapore participants."""
        pki = make_peppol_pki(folder)
        server_tls = tls.server_context(require_client_cert=False)
        ap = As4TestReceiver(
            _credentials(pki.receiver),
            server_tls,
            check_signer=TrustStore((pki.ap_ca.cert,), what="access point certificate").check,
        )
        smp = SmpTestServer(_credentials(pki.smp), server_tls)
        sml = DnsTestServer(zone=SML_ZONE)
        network = cls(pki, tls, sml, smp, ap, singapore_participants(directory_toml))
        try:
            await ap.start()
            await smp.start()
            for participant, profile in network.participants.items():
                for doctype, process in registrations(profile):
                    smp.register(participant, SmpEntry(doctype, process, ap.url, pki.receiver.cert))
                sml.register(participant, smp.url)
            await sml.start()
        except BaseException:
            await network.stop()
            raise
        return network

    async def stop(self) -> None:
        await self.sml.stop()
        await self.smp.stop()
        await self.ap.stop()

    def adapter(self) -> AdapterConfig:
        """The gateway's ``peppol`` adapter, sending as our access point (the test PKI's
        ``ap-sender``), finding receivers through the loopback SML and SMP only."""
        return AdapterConfig(
            PEPPOL_ADAPTER,
            "peppol",
            {
                "key": str(self.pki.path("ap-sender.key.pem")),
                "cert": str(self.pki.path("ap-sender.pem")),
                "ap_trust": [str(self.pki.path("ap-ca.pem"))],
                "smp_trust": [str(self.pki.path("smp-ca.pem"))],
                "revocation": "off",
                "sml_zone": SML_ZONE,
                "sml_nameservers": [self.sml.nameserver],
                "tls_ca": str(self.tls.ca),
                "country_c1": "CN",
                "timeout": 30,
            },
        )

    def describe(self) -> list[str]:
        """Lines saying what runs where and who is registered."""
        lines = [
            f"Peppol SML (DNS, U-NAPTR): {self.sml.nameserver}, zone {SML_ZONE}",
            f"Peppol SMP (HTTPS, signed service metadata): {self.smp.url}",
            f"Peppol receiving access point (AS4): {self.ap.url}, "
            f"certificate {common_name(self.pki.receiver)}",
        ]
        for participant, profile in self.participants.items():
            lines.append(f"  registered in the SML and SMP: {participant.value} ({profile})")
        return lines


def common_name(issued: PeppolIssued) -> str:
    """The certificate's CN (a Peppol AP's seat id)."""
    from cryptography.x509.oid import NameOID

    names = issued.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else issued.cert.subject.rfc4514_string()


@dataclass
class PeppolLeg:
    """One document's Peppol delivery as the demo shows and checks it."""

    message_id: str = ""
    lookup: dict[str, Any] = field(default_factory=dict)
    receipt: dict[str, Any] = field(default_factory=dict)
    sbdh: dict[str, str] = field(default_factory=dict)
    """What the receiving access point read from the SBDH it got."""
    payload_profile: str = ""
    as_validated: bool = False
    """The payload is byte for byte the document the gateway validated (DESIGN: Peppol
    invoices travel exactly as validated)."""
    validation: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    """Why this leg does not count as delivered (none: it does)."""
    receipt_xml: bytes = b""
    """The signed AS4 receipt as the gateway keeps it."""
    received: bytes = b""
    """The SBDH (with the payload) as the receiving access point got it."""

    def files(self) -> dict[str, bytes]:
        """What ``--keep`` writes beside a document's outputs."""
        found = {"as4-receipt.xml": self.receipt_xml, "received-by-access-point.xml": self.received}
        return {name: data for name, data in found.items() if data}

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        """The leg, for a person: lookup, message, receipt, the receiver's view."""
        endpoint = self.lookup.get("endpoint") or {}
        out = [
            f"Peppol lookup: SML → SMP {self.lookup.get('smp_url') or '?'} → "
            f"endpoint {endpoint.get('url') or '?'} "
            f"({endpoint.get('transport_profile') or '?'})",
            f"AS4 MessageId {self.message_id}",
        ]
        if self.receipt:
            out.append(
                f"AS4 receipt: signed by {self.receipt.get('signer', '?')}, "
                f"{'verified' if self.receipt.get('verified') else 'NOT verified'}, "
                f"covers {len(self.receipt.get('references') or [])} signed part(s), "
                f"at {self.receipt.get('timestamp', '?')}"
            )
        if self.sbdh:
            out.append(
                f"receiving AP got the SBDH: {self.sbdh['sender']} → {self.sbdh['receiver']}, "
                f"COUNTRY_C1 {self.sbdh['country_c1']}"
            )
            out.append(f"  document type {self.sbdh['document_type']}")
            out.append(f"  process {self.sbdh['process']}")
            if self.as_validated:
                out.append("  payload: byte for byte the document the gateway validated")
        if self.validation:
            counts = self.validation.get("counts") or {}
            summary = ", ".join(f"{n} {flag}" for flag, n in counts.items() if n)
            verdict = "valid" if self.validation.get("valid") else "NOT valid"
            out.append(
                f"  payload (checked as received): {verdict} against "
                f"{self.validation.get('profile', '?')} ({summary or 'no findings'})"
            )
        out.extend(f"PROBLEM: {problem}" for problem in self.problems)
        return out


async def peppol_leg(
    network: PeppolNetwork, store: Store, runner: FlowRunner, submission_id: str
) -> PeppolLeg:
    """The Peppol leg of a delivered submission: the kept send report and the receiving
    access point's view, with what does not hold in :attr:`PeppolLeg.problems`."""
    leg = PeppolLeg()
    receipts = [
        r for r in await store.list_receipts(submission_id=submission_id) if "peppol" in r.kind
    ]
    if not receipts:
        leg.problems.append("no Peppol receipt was kept")
        return leg
    report = (receipts[-1].detail.get("details") or {}).get("report") or {}
    leg.receipt_xml = receipts[-1].data
    leg.message_id = str(report.get("message_id", ""))
    leg.lookup = dict(report.get("lookup") or {})
    leg.receipt = dict(report.get("receipt") or {})
    if not leg.receipt.get("verified"):
        leg.problems.append("the AS4 receipt was not verified")
    if leg.receipt.get("ref_to_message_id") != leg.message_id:
        leg.problems.append("the receipt answers another message")
    if (leg.lookup.get("endpoint") or {}).get("url") != network.ap.url:
        leg.problems.append("the SMP lookup did not find the receiving access point")
    received = network.ap.received.get(leg.message_id)
    if received is None:
        leg.problems.append("the receiving access point has no message with this MessageId")
        return leg
    leg.received = received
    validated = await store.get_output(submission_id, VALIDATED_OUTPUT)
    await _check_received(leg, received, runner, network, validated.data if validated else None)
    return leg


async def _check_received(
    leg: PeppolLeg,
    received: bytes,
    runner: FlowRunner,
    network: PeppolNetwork,
    validated: bytes | None,
) -> None:
    """Read the SBDH the access point received, compare its payload with the document the
    gateway validated (``validated``) and run the inbound flow on it."""
    try:
        sbdh = parse_sbdh(received)
    except LingangError as exc:
        leg.problems.append(f"the received SBDH cannot be read: {exc.message}")
        return
    header = sbdh.header
    leg.sbdh = {
        "sender": header.sender.value,
        "receiver": header.receiver.value,
        "document_type": header.document_type.uri(),
        "process": header.process.uri(),
        "country_c1": header.country_c1,
    }
    leg.as_validated = sbdh.payload == validated
    if not leg.as_validated:
        leg.problems.append("the payload is not the document the gateway validated")
    outcome = await runner.run(
        DOCUMENT_IN.name, Source(sbdh.payload, "application/xml", filename="received.xml")
    )
    report = outcome.output("report")
    if report is not None:
        leg.validation = json.loads(report.data)
    if not outcome.ok or not leg.validation.get("valid"):
        reason = outcome.error.message if outcome.error is not None else "no validation report"
        leg.problems.append(f"the received payload does not pass the official rules: {reason}")
        return
    profile = str(outcome.facts.get("profile", ""))
    kind = str(outcome.facts.get("document_kind", ""))
    leg.payload_profile = profile
    expected = profile_document_type(profile, credit_note=kind == "CreditNote")
    process = ProcessId(PROFILE_SPECS[profile].process_id or "")
    if header.document_type != expected:
        leg.problems.append(
            f"the SBDH names document type {header.document_type.uri()}, "
            f"the payload is {expected.uri()}"
        )
    if header.process != process:
        leg.problems.append(
            f"the SBDH names process {header.process.uri()}, {profile} uses {process.uri()}"
        )
    if not any(header.receiver.same_as(p) for p in network.participants):
        leg.problems.append(f"the SBDH's receiver {header.receiver.value} is not registered")

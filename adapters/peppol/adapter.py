"""The ``peppol`` adapter: deliver envelopes as a Peppol sending access point over AS4.

Options (the adapter's ``[adapters.<name>]`` table; paths relative to the data dir)::

    type = "peppol"
    key = "pki/ap-sender.key.pem"            # our AP key (RSA) and certificate (required)
    cert = "pki/ap-sender.pem"
    ap_trust = ["pki/ap-ca.pem"]             # CAs of access points (receipts, SMP endpoints)
    smp_trust = ["pki/smp-ca.pem"]           # CAs of SMPs (signed service metadata)
    revocation = "soft-fail"                 # OCSP → CRL: "off", "soft-fail" or "hard-fail"
    sml_zone = "production"                  # "production", "test" or a DNS zone (default:
                                             # the network of our certificate, cert)
    sml_nameservers = []                     # DNS servers to ask ("host" or "host:port")
    tls_ca = ""                              # CA bundle for TLS to SMPs and APs (default: system)
    country_c1 = "CN"                        # COUNTRY_C1 when the document names no C1 country
                                             # (the seller's; self-billing: the buyer's)
    sender = ""                              # sender participant when a document names none
                                             # (a Peppol invoice's is its own: BR-SBDH-2)
    timeout = 60                             # seconds per AS4 exchange
    smp_cache_seconds = 600                  # TTL of cached SMP answers

    receive_path = "/as4"                    # receive over AS4 here (adapters.peppol.receiver)
    receive_document_types = []              # document type values received (default: ours)
    crls = []                                # CRL files for the AP certificates (revocation)
    mls_type = ""                            # MLS_TYPE asked of receivers (ALWAYS_SEND, FAILURE_ONLY)
    replay_hold_seconds = 120                # a claimed, unstored document keeps replays out this long

    [[adapters.<name>.routes]]               # static routes override discovery
    participant = "0195:SGUEN201234567A"     # or "*"
    url = "https://ap.example.sg/as4"
    certificate = "partners/ap.pem"          # the receiving AP's certificate

Every delivered message's verified receipt is kept under ``<data>/peppol/receipts/`` by
message id (written atomically and durably): delivering the same envelope again answers that
receipt with ``duplicate=True`` and sends nothing. Until that receipt is kept, the built message
is kept under ``<data>/peppol/built/`` and a retry (also after a crash between the AP's answer
and the kept receipt) sends it again byte for byte (same MessageId, same signature), so the
receiving AP's original receipt for it verifies (:mod:`adapters.peppol.resend`). A retry on
another worker, without that folder, rebuilds the message with the same signed digests (ids
from the MessageId, timestamps from the envelope's ``created_at``:
:func:`adapters.peppol.as4.part_ids`), so the original receipt verifies there too.
"""

from __future__ import annotations

import hashlib
import json
import ssl
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography import x509

from adapters.base import AdapterContext, Envelope, InboundRoute, Receipt
from adapters.option_values import positive_number
from adapters.peppol import sml as sml_module
from adapters.peppol.discovery import Discovery, StaticRoute
from adapters.peppol.identifiers import DocumentTypeId, ParticipantId
from adapters.peppol.receiver import As4Receiver, receive_options
from adapters.peppol.resend import BuiltMessages
from adapters.peppol.sbdh import MLS_TYPES
from adapters.peppol.sender import As4Sender, SendReport
from adapters.peppol.smp import SmpClient
from adapters.peppol.trust import (
    ACCESS_POINT_UNITS,
    SMP_UNITS,
    common_name,
    load_certificates,
    peppol_network,
)
from adapters.peppol.wssec import Credentials
from gateway.errors import ConfigError, DeliveryError, InputError, PermanentDeliveryError
from gateway.private_files import private_dir, replace_private
from gateway.signing.revocation import RevocationChecker, load_crl
from gateway.signing.truststore import TrustStore
from gateway.store.peppol_instances import PeppolInstances

KNOWN_OPTIONS = frozenset(
    {
        "key",
        "cert",
        "ap_trust",
        "smp_trust",
        "revocation",
        "sml_zone",
        "sml_nameservers",
        "tls_ca",
        "country_c1",
        "sender",
        "timeout",
        "smp_cache_seconds",
        "routes",
        "receive_path",
        "receive_document_types",
        "crls",
        "mls_type",
        "replay_hold_seconds",
    }
)
RECEIPT_MEDIA_TYPE = "application/soap+xml"


def _list(raw: Any) -> tuple[str, ...]:
    """A list option, also given as one string (space or comma separated, from the environment)."""
    if raw is None:
        return ()
    if isinstance(raw, str):
        return tuple(part for part in raw.replace(",", " ").split() if part)
    return tuple(str(item) for item in raw)


def _paths(name: str, options: Mapping[str, Any], key: str, data_dir: Path) -> list[Path]:
    out = []
    for item in _list(options.get(key)):
        path = Path(str(item)).expanduser()
        out.append(path if path.is_absolute() else data_dir / path)
    return out


def build_sender(name: str, options: Mapping[str, Any], data_dir: Path) -> As4Sender:
    """The sender an option table describes; :class:`ConfigError` names the bad option."""
    where = f"adapters.{name}"
    unknown = sorted(set(options) - KNOWN_OPTIONS - {"type"})
    if unknown:
        raise ConfigError(f"adapter {name!r}: unknown options {unknown}", field=where)
    key_paths, cert_paths = (
        _paths(name, options, "key", data_dir),
        _paths(name, options, "cert", data_dir),
    )
    if len(key_paths) != 1 or len(cert_paths) != 1:
        raise ConfigError(
            f"adapter {name!r}: key and cert (our AP's) are required", field=f"{where}.key"
        )
    try:
        credentials = Credentials.from_pem(key_paths[0].read_bytes(), cert_paths[0].read_bytes())
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"adapter {name!r}: cannot load key {key_paths[0]} / cert {cert_paths[0]}: {exc}",
            field=f"{where}.key",
        ) from exc
    mode = str(options.get("revocation", "soft-fail"))
    if mode not in {"off", "soft-fail", "hard-fail"}:
        raise ConfigError(
            f"adapter {name!r}: revocation must be off, soft-fail or hard-fail",
            field=f"{where}.revocation",
        )
    crls = [load_crl(path.read_bytes()) for path in _paths(name, options, "crls", data_dir)]
    checker = None if mode == "off" else RevocationChecker(crls=crls)
    soft = mode != "hard-fail"

    def trust(key: str, what: str, refused_units: frozenset[str]) -> TrustStore | None:
        paths = _paths(name, options, key, data_dir)
        if not paths:
            return None
        return TrustStore.from_files(
            paths, what=what, revocation=checker, soft_fail=soft, refused_units=refused_units
        )

    ap_trust = trust("ap_trust", "access point certificate", SMP_UNITS)
    smp_trust = trust("smp_trust", "SMP certificate", ACCESS_POINT_UNITS)
    if ap_trust is None or smp_trust is None:
        raise ConfigError(
            f"adapter {name!r}: ap_trust and smp_trust are required", field=f"{where}.ap_trust"
        )
    tls = _paths(name, options, "tls_ca", data_dir)
    context = ssl.create_default_context(cafile=str(tls[0]) if tls else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    network = peppol_network(credentials.cert)
    zone = str(options.get("sml_zone") or network or "production")
    zone = {"production": sml_module.PRODUCTION_ZONE, "test": sml_module.TEST_ZONE}.get(zone, zone)
    _check_sml_network(name, zone, network)
    routes: dict[str, StaticRoute] = {}
    for index, raw in enumerate(options.get("routes") or []):
        try:
            participant = str(raw["participant"])
            cert_path = _paths(name, raw, "certificate", data_dir)[0]
            route = StaticRoute(participant, str(raw["url"]), load_certificates(cert_path)[0])
        except (KeyError, IndexError, TypeError) as exc:
            raise ConfigError(
                f"adapter {name!r}: route {index} needs participant, url and certificate",
                field=f"{where}.routes",
            ) from exc
        if not route.url.startswith("https://"):
            raise ConfigError(
                f"adapter {name!r}: route {index} url must be https://", field=f"{where}.routes"
            )
        routes[
            participant.lower()
            if participant == "*"
            else ParticipantId.parse(participant).value.lower()
        ] = route
    timeout = positive_number(name, options, "timeout", 60)
    discovery = Discovery(
        smp=SmpClient(
            smp_trust,
            ap_trust,
            ssl_context=context,
            timeout=timeout,
            ttl=positive_number(name, options, "smp_cache_seconds", 600),
            network=network,
        ),
        sml=sml_module.SmlLookup(zone=zone, nameservers=_list(options.get("sml_nameservers"))),
        static=routes,
    )
    sender_text = str(options.get("sender") or "")
    return As4Sender(
        credentials=credentials,
        discovery=discovery,
        ap_trust=ap_trust,
        country_c1=str(options.get("country_c1", "CN")),
        ssl_context=context,
        timeout=timeout,
        default_sender=ParticipantId.parse(sender_text, field=f"{where}.sender")
        if sender_text
        else None,
        mls_type=_mls_type(name, options),
    )


def _check_sml_network(name: str, zone: str, network: str | None) -> None:
    """OpenPeppol's production SML serves the production network and its test SML the test
    network: our certificate's network (:func:`peppol_network`) must be the zone's, or every
    lookup would find SMPs and access points of the other network. A zone of one's own (a
    private or loopback SML) is not compared."""
    zones = {sml_module.PRODUCTION_ZONE: "production", sml_module.TEST_ZONE: "test"}
    expected = zones.get(zone.rstrip(".") + ".")
    if network is not None and expected is not None and expected != network:
        raise ConfigError(
            f"adapter {name!r}: sml_zone {zone!r} is the Peppol {expected} network's SML, but "
            f"our AP certificate (cert) is of the {network} network",
            field=f"adapters.{name}.sml_zone",
        )


def _mls_type(name: str, options: Mapping[str, Any]) -> str | None:
    """The ``MLS_TYPE`` our SBDHs ask receivers for (none: their default, ``FAILURE_ONLY``)."""
    value = str(options.get("mls_type") or "")
    if value and value not in MLS_TYPES:
        raise ConfigError(
            f"adapter {name!r}: mls_type must be one of {MLS_TYPES}",
            field=f"adapters.{name}.mls_type",
        )
    return value or None


PEPPOL_FACTS = "peppol"
"""The key of a transmission's facts in a receipt's details (for the reporting records and
MLS correlation: keys of ``gateway.delivery.peppol_recording``)."""


def transmission_facts(sbdh_report: Mapping[str, Any], c3_seat: str) -> dict[str, str]:
    """The facts of a sent transmission from the SBDH part of the send report."""
    document_type = DocumentTypeId.parse(str(sbdh_report["document_type"]))
    process_scheme, _, process = str(sbdh_report["process"]).partition("::")
    return {
        "instance_id": str(sbdh_report["instance_id"]),
        "c3_seat": c3_seat,
        "doctype": document_type.value,
        "doctype_scheme": document_type.scheme,
        "process": process,
        "process_scheme": process_scheme,
        "c1_country": str(sbdh_report.get("country_c1") or ""),
        "sender": str(sbdh_report["sender"]),
    }


class PeppolAdapter:
    """Delivers envelopes over Peppol AS4 (see the module docstring)."""

    def __init__(
        self,
        name: str,
        sender: As4Sender,
        receipts_dir: Path,
        receiver: As4Receiver | None = None,
    ):
        self.name = name
        self.sender = sender
        self.receipts_dir = receipts_dir
        self.receiver = receiver
        """The AS4 endpoint (``receive_path`` set and this process receives)."""

    @classmethod
    def from_config(
        cls, name: str, options: Mapping[str, Any], context: AdapterContext
    ) -> PeppolAdapter:
        sender = build_sender(name, options, context.data_dir)
        sender.built = BuiltMessages(context.data_dir / "peppol" / "built")
        receiving = receive_options(
            name,
            options,
            credentials=sender.credentials,
            ap_trust=sender.ap_trust,
            artefacts_home=context.artefacts_home,
        )
        replay_hold = timedelta(seconds=positive_number(name, options, "replay_hold_seconds", 120))
        receiver = (
            As4Receiver(
                name,
                receiving,
                context.inbound,
                max_bytes=context.max_body_bytes,
                instances=(
                    PeppolInstances(
                        context.store.connector,
                        clock=context.store.clock,
                        in_flight=replay_hold,
                    )
                    if context.store is not None
                    else None
                ),
            )
            if receiving is not None and context.inbound is not None
            else None
        )
        return cls(name, sender, context.data_dir / "peppol" / "receipts", receiver)

    def inbound_routes(self) -> Sequence[InboundRoute]:
        """``POST <receive_path>`` when receiving is configured (see
        :mod:`adapters.peppol.receiver`)."""
        return self.receiver.routes() if self.receiver is not None else []

    def _receipt_path(self, message_id: str) -> Path:
        return self.receipts_dir / hashlib.sha256(message_id.encode()).hexdigest()

    def endpoint_key(self, envelope: Envelope) -> str:
        """One circuit breaker per receiving participant (its AP is found per message)."""
        return f"peppol:{envelope.receiver.lower()}"

    async def deliver(self, envelope: Envelope) -> Receipt:
        """Send over AS4 under the envelope's message id; keep and answer the verified receipt."""
        kept = self._receipt_path(envelope.message_id)
        if kept.with_suffix(".json").exists():
            details = json.loads(kept.with_suffix(".json").read_text("utf-8"))
            facts = details.pop(PEPPOL_FACTS, None)
            return Receipt(
                message_id=envelope.message_id,
                adapter=self.name,
                remote_id=str(details.get("receipt", {}).get("message_id", "")),
                duplicate=True,
                body=kept.with_suffix(".xml").read_bytes(),
                content_type=RECEIPT_MEDIA_TYPE,
                details={"report": details, **({PEPPOL_FACTS: facts} if facts else {})},
            )
        try:
            receiver = (
                ParticipantId.parse(envelope.receiver, field="receiver")
                if envelope.receiver
                else None
            )
            sender = (
                ParticipantId.parse(envelope.sender, field="sender") if envelope.sender else None
            )
        except InputError as exc:
            raise PermanentDeliveryError(exc.message, field=exc.field, rule=exc.rule) from exc
        report = SendReport(envelope.message_id)
        try:
            sent = await self.sender.send(
                envelope.body,
                message_id=envelope.message_id,
                receiver=receiver,
                sender=sender,
                report=report,
                profile=envelope.profile,
                created=envelope.created_at,
            )
        except DeliveryError as exc:
            exc.details.setdefault("report", report.as_dict())
            raise
        facts = transmission_facts(report.sbdh, common_name(sent.endpoint.certificate))
        private_dir(self.receipts_dir)
        replace_private(kept.with_suffix(".xml"), sent.receipt.raw)
        replace_private(
            kept.with_suffix(".json"),
            json.dumps({**report.as_dict(), PEPPOL_FACTS: facts}).encode(),
        )
        self.sender.forget_built(envelope.message_id, sent)
        return Receipt(
            message_id=envelope.message_id,
            adapter=self.name,
            remote_id=sent.receipt.message_id,
            body=sent.receipt.raw,
            content_type=RECEIPT_MEDIA_TYPE,
            details={"report": report.as_dict(), PEPPOL_FACTS: facts},
        )

    def certificates(self) -> dict[str, x509.Certificate]:
        """Our own certificate, watched for expiry (``adapter:<name>:ap`` at ``/metrics``
        and ``/healthz``): a Peppol AP certificate lasts two years at most, and every
        partner refuses messages signed with an expired one."""
        return {"ap": self.sender.credentials.cert}

    async def ping(self) -> bool:
        """Whether our own certificate is still valid (the network is asked per message)."""
        from datetime import UTC, datetime

        return self.sender.credentials.cert.not_valid_after_utc > datetime.now(UTC)

    async def aclose(self) -> None:
        await self.sender.aclose()

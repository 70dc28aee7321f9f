"""A loopback Peppol network for tests and benchmarks: an SML (DNS, U-NAPTR), an SMP over
HTTPS serving signed metadata, and a receiving AS4 access point built on this package's codec.

Test material only. Each server listens on 127.0.0.1 on a free port; faults can be switched
on to exercise the sender's error handling (an SMP that is down or signs wrongly, an AP that
answers ebMS errors or bad receipts).
"""

from __future__ import annotations

import asyncio
import base64
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, cast
from urllib.parse import unquote

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree

from adapters.peppol import as4, ns, signals, xmldsig
from adapters.peppol.errors import EbmsError
from adapters.peppol.identifiers import (
    PARTICIPANT_SCHEME,
    TRANSPORT_PROFILE_AS4,
    DocumentTypeId,
    ParticipantId,
    ProcessId,
)
from adapters.peppol.sbdh import parse_sbdh
from adapters.peppol.sml import sml_name
from adapters.peppol.smp import IDS, SMP, WSA, service_path
from adapters.peppol.wssec import Credentials
from gateway.errors import LingangError

__all__ = ["As4TestReceiver", "DnsTestServer", "SmpRedirect", "SmpTestServer"]


class _DnsProtocol(asyncio.DatagramProtocol):
    def __init__(self, server: DnsTestServer):
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        if self.server.down:
            return
        query = dns.message.from_wire(data)
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        question = query.question[0]
        name = question.name.to_text().lower()
        if self.server.servfail:
            response.set_rcode(dns.rcode.SERVFAIL)
        elif name in self.server.records:
            if question.rdtype == dns.rdatatype.NAPTR:
                url = self.server.records[name]
                rrset = dns.rrset.from_text(
                    question.name,
                    60,
                    dns.rdataclass.IN,
                    dns.rdatatype.NAPTR,
                    f'100 10 "U" "Meta:SMP" "!^.*$!{url}!" .',
                    *self.server.more_naptr.get(name, ()),
                )
                response.answer.append(rrset)
        else:
            response.set_rcode(dns.rcode.NXDOMAIN)
        assert self.transport is not None
        self.transport.sendto(response.to_wire(), addr)


@dataclass
class DnsTestServer:
    """An authoritative DNS server for an SML zone answering NAPTR ``Meta:SMP`` records."""

    zone: str = "sml.lingang.test."
    records: dict[str, str] = field(default_factory=dict)
    more_naptr: dict[str, list[str]] = field(default_factory=dict)
    """More NAPTR records (their text: order, preference, flags, service, regexp,
    replacement) beside a registered name's own (order 100, preference 10)."""
    down: bool = False
    """Answer nothing (the client times out)."""
    servfail: bool = False
    port: int = 0
    _transport: asyncio.DatagramTransport | None = None

    def register(self, participant: ParticipantId, smp_url: str) -> None:
        self.records[sml_name(participant, self.zone).lower()] = smp_url

    @property
    def nameserver(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _DnsProtocol(self), local_addr=("127.0.0.1", 0)
        )
        self._transport = transport
        self.port = transport.get_extra_info("sockname")[1]

    async def stop(self) -> None:
        if self._transport is not None:
            self._transport.close()


@dataclass(frozen=True, slots=True)
class SmpEntry:
    """One registration on the test SMP."""

    doctype: DocumentTypeId
    process: ProcessId
    endpoint_url: str
    ap_cert: x509.Certificate
    transport_profile: str = TRANSPORT_PROFILE_AS4
    expires: datetime | None = None
    """The endpoint's ``ServiceExpirationDate``, when it has one."""
    activates: datetime | None = None
    """The endpoint's ``ServiceActivationDate``, when it has one."""


def _e(
    parent: etree._Element, ns_uri: str, local: str, text: str | None = None, **attrs: str
) -> etree._Element:
    el = etree.SubElement(parent, f"{{{ns_uri}}}{local}", attrib=attrs)
    if text is not None:
        el.text = text
    return el


def signed_metadata(
    participant: ParticipantId,
    entry: SmpEntry,
    signer: Credentials,
    *,
    answer_participant: str | None = None,
) -> bytes:
    """A ``SignedServiceMetadata`` document for one registration, signed by ``signer``."""
    root = etree.Element(
        f"{{{SMP}}}SignedServiceMetadata", nsmap={"smp": SMP, "ids": IDS, "wsa": WSA}
    )
    info = _e(_e(root, SMP, "ServiceMetadata"), SMP, "ServiceInformation")
    _e(
        info,
        IDS,
        "ParticipantIdentifier",
        answer_participant or participant.value,
        scheme=participant.scheme,
    )
    _e(info, IDS, "DocumentIdentifier", entry.doctype.value, scheme=entry.doctype.scheme)
    process = _e(_e(info, SMP, "ProcessList"), SMP, "Process")
    _e(process, IDS, "ProcessIdentifier", entry.process.value, scheme=entry.process.scheme)
    endpoint = _e(
        _e(process, SMP, "ServiceEndpointList"),
        SMP,
        "Endpoint",
        transportProfile=entry.transport_profile,
    )
    _e(_e(endpoint, WSA, "EndpointReference"), WSA, "Address", entry.endpoint_url)
    _e(endpoint, SMP, "RequireBusinessLevelSignature", "false")
    if entry.activates is not None:
        _e(endpoint, SMP, "ServiceActivationDate", entry.activates.isoformat())
    if entry.expires is not None:
        _e(endpoint, SMP, "ServiceExpirationDate", entry.expires.isoformat())
    der = entry.ap_cert.public_bytes(serialization.Encoding.DER)
    _e(endpoint, SMP, "Certificate", base64.b64encode(der).decode())
    _e(endpoint, SMP, "ServiceDescription", "Lingang loopback AP")
    _e(endpoint, SMP, "TechnicalContactUrl", "mailto:ops@lingang.test")
    xmldsig.sign_enveloped(root, signer.key, signer.cert.public_bytes(serialization.Encoding.DER))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def signed_redirect(href: str, certificate_uid: str, signer: Credentials) -> bytes:
    """A ``SignedServiceMetadata`` holding an ``smp:Redirect`` to ``href`` (the full URL of
    the service metadata at the other SMP), naming its certificate, signed by ``signer``."""
    root = etree.Element(f"{{{SMP}}}SignedServiceMetadata", nsmap={"smp": SMP})
    redirect = _e(_e(root, SMP, "ServiceMetadata"), SMP, "Redirect", href=href)
    _e(redirect, SMP, "CertificateUID", certificate_uid)
    xmldsig.sign_enveloped(root, signer.key, signer.cert.public_bytes(serialization.Encoding.DER))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@dataclass(frozen=True, slots=True)
class SmpRedirect:
    """Where the test SMP redirects a participant's service metadata lookups: the base URL
    of the other SMP (the request's path is kept) and the ``CertificateUID`` it names."""

    base_url: str
    certificate_uid: str


@dataclass
class SmpTestServer:
    """An SMP over HTTPS: ``/{participant}`` and ``/{participant}/services/{doctype}``."""

    signer: Credentials
    ssl_context: ssl.SSLContext
    entries: dict[str, list[SmpEntry]] = field(default_factory=dict)
    redirects: dict[str, SmpRedirect] = field(default_factory=dict)
    """Participants (lower-case value) whose service metadata this SMP answers with a signed
    ``smp:Redirect`` (:meth:`redirect`)."""
    fault: str = ""
    """``down`` (503), ``broken-signature``, ``wrong-participant``, ``redirect`` (an HTTP 302,
    not an ``smp:Redirect``)."""
    requests: int = 0
    paths: list[str] = field(default_factory=list)
    """Each request's path as it came on the wire (percent-encoding untouched)."""
    port: int = 0
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def register(self, participant: ParticipantId, entry: SmpEntry) -> None:
        self.entries.setdefault(participant.value.lower(), []).append(entry)

    def redirect(self, participant: ParticipantId, base_url: str, certificate_uid: str) -> None:
        """Answer every service metadata request for ``participant`` with a signed
        ``smp:Redirect`` to the same path at ``base_url``, naming ``certificate_uid``."""
        self.redirects[participant.value.lower()] = SmpRedirect(base_url, certificate_uid)

    def _redirect_for(self, raw_path: str) -> SmpRedirect | None:
        head, marker, _ = unquote(raw_path).partition("/services/")
        if not marker:
            return None
        value = head.lstrip("/")
        prefix = f"{PARTICIPANT_SCHEME}::"
        if value.lower().startswith(prefix):
            value = value[len(prefix) :]
        return self.redirects.get(value.lower())

    def service_group(self, participant: ParticipantId, entries: list[SmpEntry]) -> bytes:
        """The participant's ``ServiceGroup`` listing a reference per registration."""
        root = etree.Element(f"{{{SMP}}}ServiceGroup", nsmap={"smp": SMP, "ids": IDS})
        _e(root, IDS, "ParticipantIdentifier", participant.value, scheme=participant.scheme)
        collection = _e(root, SMP, "ServiceMetadataReferenceCollection")
        for entry in entries:
            _e(
                collection,
                SMP,
                "ServiceMetadataReference",
                href=self.url + service_path(participant, entry.doctype),
            )
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        self.paths.append(request.raw_path)
        if self.fault == "down":
            return web.Response(status=503, text="maintenance")
        if self.fault == "redirect":
            raise web.HTTPFound("https://127.0.0.1:1/elsewhere")
        redirect = self._redirect_for(request.raw_path)
        if redirect is not None:
            body = signed_redirect(
                redirect.base_url.rstrip("/") + request.raw_path,
                redirect.certificate_uid,
                self.signer,
            )
            return web.Response(status=200, body=body, content_type="text/xml")
        raw = unquote(request.raw_path)
        for key, entries in self.entries.items():
            participant = ParticipantId(key)
            group = unquote(service_path(participant))
            if raw.lower() == group.lower():
                return web.Response(
                    status=200,
                    content_type="text/xml",
                    body=self.service_group(participant, entries),
                )
            for entry in entries:
                if raw.lower() == unquote(service_path(participant, entry.doctype)).lower():
                    body = signed_metadata(
                        participant,
                        entry,
                        self.signer,
                        answer_participant="0195:SGUEN000000000X"
                        if self.fault == "wrong-participant"
                        else None,
                    )
                    if self.fault == "broken-signature":
                        body = body.replace(b"Lingang loopback AP", b"Lingang loopback AQ")
                    return web.Response(status=200, body=body, content_type="text/xml")
        return web.Response(status=404, text="not found")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self.ssl_context)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


OVERSIZE_ANSWER = 2 * 1024 * 1024
"""The size of the ``oversize-*`` faults' answers (more than a sender should read)."""


@dataclass
class As4TestReceiver:
    """A receiving access point (corner 3) on the codec: verifies, decrypts, deduplicates by
    MessageId, keeps the SBDH and answers a signed receipt (or an ebMS error)."""

    credentials: Credentials
    ssl_context: ssl.SSLContext
    check_signer: Callable[[x509.Certificate], object]
    fault: str = ""
    """``not-serviced``, ``retry-later`` (EBMS:0005), ``http-500``, ``tampered-receipt``,
    ``other-digests``, ``foreign-signer``, ``unsigned-receipt``, ``other-message-receipt``
    (a signed receipt for another MessageId), ``redirect`` (HTTP 307 to this endpoint),
    ``reset``, ``oversize-answer`` (HTTP 200) and ``oversize-503``: an answer of
    :data:`OVERSIZE_ANSWER` bytes; ``busy-503``: HTTP 503 with ``Retry-After: 45``."""
    foreign: Credentials | None = None
    check_sbdh: bool = True
    """Parse the received SBDH (off for very large test payloads)."""
    max_payload: int = 256 * 1024 * 1024
    received: dict[str, bytes] = field(default_factory=dict)
    """SBDH bytes by MessageId (one copy per message id)."""
    deliveries: int = 0
    refusals: list[str] = field(default_factory=list)
    port: int = 0
    path: str = "/as4"
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}{self.path}"

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.deliveries += 1
        if self.fault == "http-500":
            return web.Response(status=500, text="internal error")
        if self.fault == "busy-503":
            return web.Response(status=503, text="busy", headers={"Retry-After": "45"})
        if self.fault == "redirect":
            return web.Response(status=307, headers={"Location": self.url})
        if self.fault in ("oversize-answer", "oversize-503"):
            return web.Response(
                status=503 if self.fault == "oversize-503" else 200,
                body=b"<" + b" " * OVERSIZE_ANSWER,
                headers={"Content-Type": signals.SOAP_CONTENT_TYPE},
            )
        if self.fault == "reset":
            assert request.transport is not None
            request.transport.close()
            return web.Response(status=500)
        try:
            incoming = as4.parse_user_message(
                request.headers.get("Content-Type", ""),
                body,
                credentials=self.credentials,
                check_signer=self.check_signer,
                max_payload=self.max_payload,
            )
            if self.check_sbdh:
                as4.check_header_matches_sbdh(incoming.header, parse_sbdh(incoming.sbdh).header)
        except LingangError as exc:
            code = exc.ebms_code if isinstance(exc, as4.As4Invalid) else "EBMS:0004"
            self.refusals.append(code)
            error = EbmsError(code=code, severity="failure", description=exc.message)
            return self._soap(signals.build_error("", [error], self.credentials))
        message_id = incoming.header.message_id
        if self.fault == "not-serviced":
            return self._soap(
                signals.build_error(
                    message_id,
                    [signals.not_serviced(message_id, "receiver not serviced")],
                    self.credentials,
                )
            )
        if self.fault == "retry-later":
            error = EbmsError(code="EBMS:0005", severity="failure", description="backend busy")
            return self._soap(signals.build_error(message_id, [error], self.credentials))
        self.received.setdefault(message_id, incoming.sbdh)
        signer = (
            self.foreign if self.fault == "foreign-signer" and self.foreign else self.credentials
        )
        if self.fault == "other-digests":
            first = incoming.signed_info.find("{http://www.w3.org/2000/09/xmldsig#}Reference")
            assert first is not None
            value = first.find("{http://www.w3.org/2000/09/xmldsig#}DigestValue")
            assert value is not None
            value.text = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
        if self.fault == "other-message-receipt":
            other = replace(incoming.header, message_id=f"other-{message_id}")
            incoming = replace(incoming, header=other)
        receipt = signals.build_receipt(incoming, signer)
        if self.fault == "unsigned-receipt":
            receipt = _unsigned(receipt)
        if self.fault == "tampered-receipt":
            receipt = receipt.replace(b"<eb:Timestamp>", b"<eb:Timestamp>1", 1)
        return self._soap(receipt)

    @staticmethod
    def _soap(body: bytes) -> web.Response:
        return web.Response(
            status=200, body=body, headers={"Content-Type": signals.SOAP_CONTENT_TYPE}
        )

    async def start(self) -> None:
        app = web.Application(client_max_size=512 * 1024 * 1024)
        app.router.add_post(self.path, self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self.ssl_context)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def _unsigned(signal: bytes) -> bytes:
    """Our own signal message without its ``wsse:Security`` header (a receipt nobody signed)."""
    root = etree.fromstring(signal)
    for security in root.iterfind("S12:Header/wsse:Security", ns.NSMAP):
        parent = security.getparent()
        assert parent is not None
        parent.remove(security)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def large_document(base: bytes, size: int) -> bytes:
    """``base`` (a UBL invoice) grown to about ``size`` bytes by repeating its first
    ``cac:InvoiceLine`` (for memory and throughput tests)."""
    start = base.index(b"<cac:InvoiceLine>")
    end = base.index(b"</cac:InvoiceLine>", start) + len(b"</cac:InvoiceLine>")
    line = base[start:end]
    copies = max(0, (size - len(base)) // len(line))
    return b"".join((base[:end], line * copies, base[end:]))

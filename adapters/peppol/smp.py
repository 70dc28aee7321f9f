"""SMP client (Peppol SMP 1.x, BusDox): fetch and trust a participant's service metadata.

``GET {smp}/{participant}/services/{doctype}`` over HTTPS only, HTTP redirects (3xx) refused.
The ``SignedServiceMetadata`` must carry an enveloped signature that verifies against a
certificate from the SMP trust store; the participant and document type in the answer must be
the ones asked for, and the process too; the ``peppol-transport-as4-v2_0`` endpoint is chosen
(active, https, its certificate from the AP trust store). The SMP's signing certificate and
the endpoint's must be of our Peppol network (:attr:`SmpClient.network`: production or test,
``smp.signer-network`` / ``smp.endpoint-network``). Answers are cached for ``ttl``.

A signed ``smp:Redirect`` (:mod:`adapters.peppol.smp_redirect`) is followed once: its ``href``
(the full URL of the service metadata at the other SMP, https only: ``smp.redirect-https``)
is fetched, and the answer there is trusted like any SMP answer and must, besides, be signed
by the certificate the redirect's ``CertificateUID`` names (``smp.redirect-certificate-uid``)
and hold the service information itself (another redirect: ``smp.redirect-repeated``).

Outcomes are distinct: :class:`ParticipantNotRegistered` (the SMP does not know the
participant), :class:`DocumentTypeNotSupported` (it does, but not for this document type,
process or transport), :class:`SmpUnavailable` (network, 5xx, 429: retryable) and
:class:`SmpAnswerInvalid` (anything that must not be trusted).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import ssl
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from urllib.parse import quote, unquote, urlsplit

import aiohttp
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from lxml import etree
from yarl import URL

from adapters.peppol import ns, xmldsig
from adapters.peppol.errors import (
    DocumentTypeNotSupported,
    EndpointNotYetActive,
    ParticipantNotRegistered,
    SmpAnswerInvalid,
    SmpUnavailable,
)
from adapters.peppol.identifiers import (
    DOCTYPE_SCHEME_WILDCARD,
    TRANSPORT_PROFILE_AS4,
    DocumentTypeId,
    ParticipantId,
    ProcessId,
)
from adapters.peppol.smp_redirect import MAX_REDIRECTS, Redirect, certificate_uid_matches
from adapters.peppol.trust import check_network
from gateway.bounded_body import read_bounded
from gateway.errors import LingangError, VerificationError
from gateway.signing.truststore import TrustStore
from gateway.xmlsafe import XmlLimits, parse_xml

SMP = "http://busdox.org/serviceMetadata/publishing/1.0/"
IDS = "http://busdox.org/transport/identifiers/1.0/"
WSA = "http://www.w3.org/2005/08/addressing"
SMP_NS = {"smp": SMP, "ids": IDS, "wsa": WSA, "ds": ns.DS}
SMP_LIMITS = XmlLimits(max_bytes=2 * 1024 * 1024, max_depth=32, max_elements=20_000)

log = logging.getLogger("lingang.peppol.smp")


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where and to whom to send: the receiving AP for one participant and document type."""

    url: str
    certificate: x509.Certificate
    transport_profile: str = TRANSPORT_PROFILE_AS4
    process: ProcessId | None = None
    smp_url: str = ""
    source: str = "smp"
    """``smp`` or ``static`` (a configured route)."""
    description: str = ""
    technical_contact: str = ""
    document_type: str = ""
    """The registration that matched (``scheme::value``; a wildcard one for PINT)."""
    smp_redirect: str = ""
    """Where the participant's SMP (``smp_url``) redirected the lookup, when it did: the URL
    whose signed answer named this endpoint."""
    valid_until: datetime | None = None
    """The earlier of the endpoint's ``ServiceExpirationDate`` and its certificate's end: a
    cached answer is not used past it."""

    def as_dict(self) -> dict[str, str]:
        return {
            "url": self.url,
            "transport_profile": self.transport_profile,
            "process": self.process.uri() if self.process else "",
            "smp_url": self.smp_url,
            "source": self.source,
            "certificate_subject": self.certificate.subject.rfc4514_string(),
            "certificate_issuer": self.certificate.issuer.rfc4514_string(),
            "certificate_not_after": self.certificate.not_valid_after_utc.isoformat(),
            "description": self.description,
            "technical_contact": self.technical_contact,
            "document_type": self.document_type,
            "smp_redirect": self.smp_redirect,
        }


def service_path(participant: ParticipantId, doctype: DocumentTypeId | None = None) -> str:
    """The URL path of the service group (or of one service's metadata)."""
    path = "/" + quote(participant.uri(), safe="")
    if doctype is not None:
        path += "/services/" + quote(doctype.uri(), safe="")
    return path


_URI_TEXT = re.compile(r"^(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$")


def request_url(url: str) -> URL:
    """``url`` as the request will carry it: exactly as written when it is a valid URI, so
    that the percent-encoded ``{scheme}::{value}`` segments keep ``%3A``, ``%23`` and ``%40``
    (the SMP specification's URL-encoded identifiers; yarl would otherwise decode them, and
    reserved characters and their percent-encodings are not equivalent, RFC 3986 §2.2); a URL
    with characters a URI cannot hold (an SMP's redirect ``href``) is encoded by yarl."""
    return URL(url, encoded=True) if _URI_TEXT.match(url) else URL(url)


def registered_document_types(service_group: bytes) -> list[DocumentTypeId]:
    """The document types a ``ServiceGroup`` lists (from its ``ServiceMetadataReference``
    hrefs); :class:`SmpAnswerInvalid` when it is not a service group."""
    try:
        root = parse_xml(service_group, limits=SMP_LIMITS, what="SMP service group")
    except LingangError as exc:
        raise SmpAnswerInvalid(
            f"the SMP service group is not usable XML: {exc.message}", rule=exc.rule
        ) from exc
    if root.tag != f"{{{SMP}}}ServiceGroup":
        raise SmpAnswerInvalid(f"the SMP answered {root.tag}, not ServiceGroup", rule="smp.root")
    found: list[DocumentTypeId] = []
    for reference in root.iterfind(
        "smp:ServiceMetadataReferenceCollection/smp:ServiceMetadataReference", SMP_NS
    ):
        href = reference.get("href", "")
        _, marker, tail = href.rpartition("/services/")
        if not marker:
            continue
        scheme, separator, value = unquote(tail).partition("::")
        if separator:
            found.append(DocumentTypeId(value, scheme))
    return found


def best_wildcard(
    wanted: DocumentTypeId, registered: list[DocumentTypeId]
) -> DocumentTypeId | None:
    """The most specific ``peppol-doctype-wildcard`` registration that covers ``wanted``: same
    root and syntax version, a customization ending in ``*`` that ``wanted``'s customization
    starts with (Peppol Policy for use of Identifiers, the wildcard scheme); ``None`` if none."""
    if wanted.scheme != DOCTYPE_SCHEME_WILDCARD or "##" not in wanted.value:
        return None
    root, _, rest = wanted.value.partition("##")
    customization, _, version = rest.rpartition("::")
    best: tuple[int, DocumentTypeId] | None = None
    for candidate in registered:
        if candidate.scheme != DOCTYPE_SCHEME_WILDCARD or "##" not in candidate.value:
            continue
        c_root, _, c_rest = candidate.value.partition("##")
        c_customization, _, c_version = c_rest.rpartition("::")
        if c_root != root or c_version != version or not c_customization.endswith("*"):
            continue
        prefix = c_customization[:-1]
        if customization.startswith(prefix) and (best is None or len(prefix) > best[0]):
            best = (len(prefix), candidate)
    return best[1] if best else None


def _date(text: str | None) -> datetime | None:
    if not text:
        return None
    parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class SignedAnswer:
    """A verified ``SignedServiceMetadata``: its signer and either the service information
    or a redirect."""

    signer: x509.Certificate
    info: etree._Element | None
    redirect: Redirect | None


def _require_whole_answer_signed(signature: etree._Element) -> None:
    """The signature must cover the whole answer: one ``ds:Reference``, ``URI=""``, with the
    enveloped-signature transform (the SMP specification's enveloped signature over
    ``SignedServiceMetadata``). A reference to a part (``#id``) or to something outside
    (``cid:``) would leave the rest of the answer open to change: ``smp.signature-coverage``."""
    references = signature.findall("ds:SignedInfo/ds:Reference", SMP_NS)
    transforms = [
        transform.get("Algorithm", "")
        for reference in references[:1]
        for transform in reference.iterfind("ds:Transforms/ds:Transform", SMP_NS)
    ]
    if len(references) != 1 or references[0].get("URI") != "" or ns.ENVELOPED not in transforms:
        uris = [reference.get("URI") for reference in references]
        raise SmpAnswerInvalid(
            f"the SMP signature must have one enveloped reference to the whole answer "
            f'(URI=""), not {uris}',
            rule="smp.signature-coverage",
        )


def read_service_metadata(
    data: bytes, smp_trust: TrustStore | None, *, legacy_sha1: bool = False
) -> SignedAnswer:
    """Parse ``SignedServiceMetadata`` and verify its enveloped signature (and, with a trust
    store, its signer); :class:`SmpAnswerInvalid` else.

    RSA-SHA1 and SHA-1 digests are refused unless ``legacy_sha1``: Peppol SMP 1.3 moved the
    signature to RSA-SHA256 (SHA-256 digests), required since 31 May 2024."""
    try:
        root = parse_xml(data, limits=SMP_LIMITS, what="SMP answer")
    except LingangError as exc:
        raise SmpAnswerInvalid(
            f"the SMP answer is not usable XML: {exc.message}", rule=exc.rule
        ) from exc
    if root.tag != f"{{{SMP}}}SignedServiceMetadata":
        raise SmpAnswerInvalid(
            f"the SMP answered {root.tag}, not SignedServiceMetadata", rule="smp.root"
        )
    signature = root.find("ds:Signature", SMP_NS)
    if signature is None:
        raise SmpAnswerInvalid("the SMP answer is not signed", rule="smp.signature")
    _require_whole_answer_signed(signature)
    cert_text = signature.findtext("ds:KeyInfo/ds:X509Data/ds:X509Certificate", "", SMP_NS)
    try:
        cert = x509.load_der_x509_certificate(base64.b64decode("".join(cert_text.split())))
        cert.public_key()  # parsed lazily: a certificate can be read but its key not
    except ValueError as exc:
        raise SmpAnswerInvalid(
            "the SMP signature carries no readable certificate", rule="smp.signature"
        ) from exc
    try:
        if smp_trust is not None:
            smp_trust.check(cert, signer=True)
        key = cert.public_key()
        from cryptography.hazmat.primitives.asymmetric import rsa

        if not isinstance(key, rsa.RSAPublicKey):
            raise VerificationError("the SMP certificate has no RSA key", check="smp.key")
        xmldsig.verify_signature(root, signature, key, enveloped=True, legacy_sha1=legacy_sha1)
    except VerificationError as exc:
        raise SmpAnswerInvalid(
            f"the SMP signature is not valid: {exc.message}", rule=exc.rule
        ) from exc
    redirect = root.find("smp:ServiceMetadata/smp:Redirect", SMP_NS)
    if redirect is not None:
        href = (redirect.get("href") or "").strip()
        uid = (redirect.findtext("smp:CertificateUID", "", SMP_NS) or "").strip()
        if not href or not uid:
            raise SmpAnswerInvalid(
                "the SMP's Redirect lacks its href or its CertificateUID",
                rule="smp.structure",
            )
        return SignedAnswer(cert, None, Redirect(href, uid))
    info = root.find("smp:ServiceMetadata/smp:ServiceInformation", SMP_NS)
    if info is None:
        raise SmpAnswerInvalid("the SMP answer has no ServiceInformation", rule="smp.structure")
    return SignedAnswer(cert, info, None)


def read_signed_metadata(
    data: bytes, smp_trust: TrustStore | None, *, legacy_sha1: bool = False
) -> etree._Element:
    """The ``ServiceInformation`` of a verified answer (:func:`read_service_metadata`); a
    redirect is :class:`SmpAnswerInvalid` here (``smp.redirect``: :class:`SmpClient` follows
    it)."""
    answer = read_service_metadata(data, smp_trust, legacy_sha1=legacy_sha1)
    if answer.info is None:
        raise SmpAnswerInvalid(
            "the SMP answered with a Redirect, which is not followed here", rule="smp.redirect"
        )
    return answer.info


def check_redirect_target(redirect: Redirect, answer: SignedAnswer) -> etree._Element:
    """The service information the redirect's target answered: not one more redirect
    (``smp.redirect-repeated``), signed by the certificate the ``CertificateUID`` names
    (``smp.redirect-certificate-uid``)."""
    if answer.redirect is not None:
        raise SmpAnswerInvalid(
            f"the SMP at {redirect.href} redirects again (to {answer.redirect.href}); a "
            f"lookup follows {MAX_REDIRECTS} redirect, no more",
            rule="smp.redirect-repeated",
        )
    if not certificate_uid_matches(answer.signer, redirect.certificate_uid):
        raise SmpAnswerInvalid(
            f"the SMP at {redirect.href} signs with {answer.signer.subject.rfc4514_string()}, "
            f"not the certificate the redirect names ({redirect.certificate_uid!r})",
            rule="smp.redirect-certificate-uid",
        )
    assert answer.info is not None
    return answer.info


def endpoint_certificate(text: str) -> x509.Certificate:
    """An endpoint's ``smp:Certificate``: "a PEM base 64 encoded X509 DER formatted value" (the
    SMP XSD), the base64 alone or with its PEM armour (``-----BEGIN CERTIFICATE-----``), which
    some SMPs publish; :class:`ValueError` when it is neither."""
    armoured = text.strip()
    if armoured.startswith("-----BEGIN CERTIFICATE-----"):
        return x509.load_pem_x509_certificate(armoured.encode("ascii", "replace"))
    return x509.load_der_x509_certificate(base64.b64decode("".join(text.split()), validate=True))


def choose_endpoint(
    info: etree._Element,
    participant: ParticipantId,
    doctype: DocumentTypeId,
    process: ProcessId | None,
    ap_trust: TrustStore | None,
    *,
    now: datetime | None = None,
    smp_url: str = "",
    network: str | None = None,
) -> Endpoint:
    """Check the identifiers in ``info`` and pick the active AS4 v2 endpoint; its certificate
    must be trusted (``ap_trust``) and of our Peppol ``network``
    (``smp.endpoint-network``, :func:`adapters.peppol.trust.check_network`)."""
    got_participant = info.find("ids:ParticipantIdentifier", SMP_NS)
    got_doctype = info.find("ids:DocumentIdentifier", SMP_NS)
    if got_participant is None or not ParticipantId(
        (got_participant.text or "").strip(), got_participant.get("scheme", "")
    ).same_as(participant):
        raise SmpAnswerInvalid(
            f"the SMP answered for participant {got_participant.text if got_participant is not None else None!r}, "
            f"not {participant}",
            rule="smp.participant-mismatch",
        )
    if (
        got_doctype is None
        or (got_doctype.text or "").strip() != doctype.value
        or got_doctype.get("scheme", "") != doctype.scheme
    ):
        raise SmpAnswerInvalid(
            f"the SMP answered for document type {got_doctype.text if got_doctype is not None else None!r}, "
            f"not {doctype.uri()}",
            rule="smp.doctype-mismatch",
        )
    moment = now or datetime.now(UTC)
    next_activation: datetime | None = None
    processes = info.findall("smp:ProcessList/smp:Process", SMP_NS)
    matching = [
        p
        for p in processes
        if process is None
        or (
            (p.findtext("ids:ProcessIdentifier", "", SMP_NS) or "").strip() == process.value
            and (p.find("ids:ProcessIdentifier", SMP_NS).get("scheme", "") or "")  # type: ignore[union-attr]
            == process.scheme
        )
    ]
    if not matching:
        raise DocumentTypeNotSupported(
            f"{participant} accepts {doctype.value} but not in process {process.uri() if process else '?'}",
            rule="smp.process",
        )
    for proc in matching:
        for endpoint in proc.iterfind("smp:ServiceEndpointList/smp:Endpoint", SMP_NS):
            if endpoint.get("transportProfile") != TRANSPORT_PROFILE_AS4:
                continue
            try:
                start = _date(endpoint.findtext("smp:ServiceActivationDate", None, SMP_NS))
                end = _date(endpoint.findtext("smp:ServiceExpirationDate", None, SMP_NS))
            except ValueError as exc:
                raise SmpAnswerInvalid(
                    f"an endpoint date is malformed: {exc}", rule="smp.endpoint-date"
                ) from exc
            if start and moment < start and not (end and end < start):
                next_activation = min(start, next_activation or start)
            if (start and moment < start) or (end and moment > end):
                continue
            address = (
                endpoint.findtext("wsa:EndpointReference/wsa:Address", "", SMP_NS) or ""
            ).strip()
            if urlsplit(address).scheme != "https":
                raise SmpAnswerInvalid(
                    f"the AS4 endpoint {address!r} is not https", rule="smp.endpoint-https"
                )
            text = endpoint.findtext("smp:Certificate", "", SMP_NS) or ""
            try:
                cert = endpoint_certificate(text)
            except ValueError as exc:
                raise SmpAnswerInvalid(
                    "the endpoint certificate is unreadable", rule="smp.endpoint-certificate"
                ) from exc
            if ap_trust is not None:
                try:
                    ap_trust.check(cert, moment=moment)
                except VerificationError as exc:
                    raise SmpAnswerInvalid(
                        f"the receiving AP's certificate is not trusted: {exc.message}",
                        rule="smp.endpoint-certificate",
                    ) from exc
            try:
                check_network(
                    cert, network, "the receiving AP's certificate", rule="smp.endpoint-network"
                )
            except VerificationError as exc:
                raise SmpAnswerInvalid(exc.message, rule=exc.rule) from exc
            pid = proc.find("ids:ProcessIdentifier", SMP_NS)
            return Endpoint(
                url=address,
                certificate=cert,
                process=ProcessId((pid.text or "").strip(), pid.get("scheme", ""))
                if pid is not None
                else None,
                smp_url=smp_url,
                description=(endpoint.findtext("smp:ServiceDescription", "", SMP_NS) or "").strip(),
                technical_contact=(
                    endpoint.findtext("smp:TechnicalContactUrl", "", SMP_NS) or ""
                ).strip(),
                document_type=doctype.uri(),
                valid_until=min(d for d in (end, cert.not_valid_after_utc) if d is not None),
            )
    if next_activation is not None:
        raise EndpointNotYetActive(
            f"{participant}'s {TRANSPORT_PROFILE_AS4} endpoint for {doctype.value} becomes "
            f"active at {next_activation.isoformat()} (its ServiceActivationDate; the SMP XSD: "
            '"Senders should ignore services that are not yet activated")',
            rule="smp.endpoint-not-yet-active",
            retry_after=(next_activation - moment).total_seconds(),
        )
    raise DocumentTypeNotSupported(
        f"{participant} has no active {TRANSPORT_PROFILE_AS4} endpoint for {doctype.value}",
        rule="smp.transport-profile",
    )


@dataclass
class SmpClient:
    """Fetches, verifies and caches service metadata (one HTTP session per client)."""

    smp_trust: TrustStore | None
    ap_trust: TrustStore | None
    ssl_context: ssl.SSLContext | None = None
    timeout: float = 10.0
    ttl: float = 600.0
    legacy_sha1: bool = False
    """Accept SMP answers still signed with RSA-SHA1 (before Peppol SMP 1.3)."""
    network: str | None = None
    """Our Peppol network (``production`` or ``test``: :func:`adapters.peppol.trust.
    peppol_network` of our AP certificate): the SMP's signing certificate and the endpoint
    certificate it publishes must be of it (``None``: not compared)."""
    _cache: dict[tuple[str, str, str, str], tuple[float, Endpoint]] = field(default_factory=dict)
    _session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                connector=aiohttp.TCPConnector(ssl=self.ssl_context if self.ssl_context else True),
            )
        return self._session

    async def _get(self, url: str) -> tuple[int, bytes]:
        if urlsplit(url).scheme != "https":
            raise SmpAnswerInvalid(f"SMP URL {url!r} is not https", rule="smp.https-only")
        try:
            async with self._client().get(request_url(url), allow_redirects=False) as response:
                read = await read_bounded(response.content, SMP_LIMITS.max_bytes)
                status = response.status
        except TimeoutError as exc:
            raise SmpUnavailable(f"the SMP did not answer within {self.timeout}s ({url})") from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise SmpUnavailable(f"the SMP could not be reached ({url}): {exc!r}") from exc
        if read is None:
            raise SmpAnswerInvalid("the SMP answer is too large", rule="smp.size")
        body = read
        if status in (429,) or status >= 500:
            raise SmpUnavailable(f"the SMP answered HTTP {status} ({url})", rule=f"http.{status}")
        if 300 <= status < 400:
            raise SmpAnswerInvalid(
                f"the SMP answered a redirect (HTTP {status}), which is refused",
                rule="smp.redirect",
            )
        return status, body

    async def endpoint(
        self,
        smp_url: str,
        participant: ParticipantId,
        doctype: DocumentTypeId,
        process: ProcessId | None,
    ) -> Endpoint:
        """The AS4 endpoint for one participant, document type and process."""
        key = (smp_url, participant.value.lower(), doctype.uri(), process.uri() if process else "")
        cached = self._cache.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        base = smp_url.rstrip("/")
        status, body = await self._get(base + service_path(participant, doctype))
        requested = doctype
        if status == 404:
            group_status, group = await self._get(base + service_path(participant))
            if group_status == 404:
                raise ParticipantNotRegistered(
                    f"the SMP {base} does not know {participant}", field="participant"
                )
            if group_status != 200:
                raise SmpAnswerInvalid(
                    f"the SMP answered HTTP {group_status}", rule=f"http.{group_status}"
                )
            wildcard = best_wildcard(doctype, registered_document_types(group))
            if wildcard is None:
                raise DocumentTypeNotSupported(
                    f"{participant} does not accept {doctype.uri()} (the SMP has no metadata for it)",
                    field="doctype",
                )
            requested = wildcard
            status, body = await self._get(base + service_path(participant, wildcard))
        if status != 200:
            raise SmpAnswerInvalid(f"the SMP answered HTTP {status}", rule=f"http.{status}")
        found = await asyncio.to_thread(
            self._trusted_endpoint, body, participant, requested, process, base
        )
        if isinstance(found, Redirect):
            found = await self._redirected(found, participant, requested, process, base)
        self._cache[key] = (time.monotonic() + self._keep_for(found), found)
        return found

    def _keep_for(self, found: Endpoint) -> float:
        """Seconds to reuse ``found``: :attr:`ttl`, cut at its :attr:`Endpoint.valid_until` (the
        SMP XSD: "Senders should ignore services that are expired")."""
        if found.valid_until is None:
            return self.ttl
        left = (found.valid_until - datetime.now(UTC)).total_seconds()
        return max(0.0, min(self.ttl, left))

    async def _redirected(
        self,
        redirect: Redirect,
        participant: ParticipantId,
        doctype: DocumentTypeId,
        process: ProcessId | None,
        smp_url: str,
    ) -> Endpoint:
        """Follow the one redirect an SMP may answer (see the module docstring)."""
        if urlsplit(redirect.href).scheme != "https":
            raise SmpAnswerInvalid(
                f"the SMP {smp_url} redirects to {redirect.href!r}, which is not https",
                rule="smp.redirect-https",
            )
        log.info(
            "following an SMP redirect",
            extra={"smp_url": smp_url, "href": redirect.href, "participant": participant.value},
        )
        status, body = await self._get(redirect.href)
        if status != 200:
            raise SmpAnswerInvalid(
                f"the SMP {smp_url} redirects to {redirect.href}, which answered HTTP {status}",
                rule="smp.redirect-target",
            )
        found = await asyncio.to_thread(
            self._trusted_endpoint, body, participant, doctype, process, smp_url, redirect
        )
        assert isinstance(found, Endpoint)
        return found

    def _trusted_endpoint(
        self,
        body: bytes,
        participant: ParticipantId,
        doctype: DocumentTypeId,
        process: ProcessId | None,
        smp_url: str,
        following: Redirect | None = None,
    ) -> Endpoint | Redirect:
        """Verify the answer and pick the endpoint (in a thread: revocation may ask the
        network); the redirect, when the SMP answered one and none is being ``following``."""
        try:
            answer = read_service_metadata(body, self.smp_trust, legacy_sha1=self.legacy_sha1)
            try:
                check_network(
                    answer.signer,
                    self.network,
                    "the SMP's signing certificate",
                    rule="smp.signer-network",
                )
            except VerificationError as exc:
                raise SmpAnswerInvalid(exc.message, rule=exc.rule) from exc
            if following is not None:
                info = check_redirect_target(following, answer)
            elif answer.redirect is not None:
                return answer.redirect
            else:
                assert answer.info is not None
                info = answer.info
            found = choose_endpoint(
                info,
                participant,
                doctype,
                process,
                self.ap_trust,
                smp_url=smp_url,
                network=self.network,
            )
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise SmpAnswerInvalid(
                f"the SMP answer cannot be processed: {exc}", rule="smp.unreadable"
            ) from exc
        if following is not None:
            found = replace(found, smp_redirect=following.href)
        return found

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

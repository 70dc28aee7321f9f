"""SML (a real DNS server on loopback) and SMP (HTTPS, signed metadata): found, not there,
and could-not-look, each a distinct typed error."""

from __future__ import annotations

import base64
import hashlib
import re
import ssl
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from adapters.peppol.errors import (
    DnsFailure,
    DocumentTypeNotSupported,
    ParticipantNotRegistered,
    SmpAnswerInvalid,
    SmpUnavailable,
)
from adapters.peppol.identifiers import (
    BIS3_INVOICE,
    BIS3_PROCESS,
    PINT_PROCESS,
    PINT_SG_CREDIT_NOTE,
    PINT_SG_INVOICE,
    DocumentTypeId,
    ProcessId,
)
from adapters.peppol.sml import SmlLookup, apply_naptr_regexp, sml_name
from adapters.peppol.smp import SmpClient, best_wildcard, choose_endpoint, read_signed_metadata
from adapters.peppol.testing import DnsTestServer, SmpEntry, SmpTestServer
from gateway.signing.peppol_pki import PeppolIssued, PeppolTestPki
from gateway.signing.truststore import TrustStore
from gateway.testing.tls import TlsFiles
from tests.peppol.conftest import RECEIVER, UNKNOWN, ZONE, credentials

SMP_EXAMPLES = "phax-peppol-commons/smp-examples"


def test_sml_name_is_base32_sha256_of_the_lower_case_value() -> None:
    digest = hashlib.sha256(b"0195:sguen200254321z").digest()
    label = base64.b32encode(digest).decode().rstrip("=").lower()
    assert sml_name(RECEIVER, "sml.example.") == f"{label}.iso6523-actorid-upis.sml.example."
    assert "=" not in label and len(label) == 52


@pytest.mark.parametrize(
    ("participant", "label"),
    [
        # Peppol Policy for use of Identifiers, POLICY 7 example (case does not matter)
        ("0088:123abc", "y7dzfxaf3d4cjz4kcgrxtec6twvcga4ky7zwa5boif6mswd4tdrq"),
        ("0088:123ABC", "y7dzfxaf3d4cjz4kcgrxtec6twvcga4ky7zwa5boif6mswd4tdrq"),
        # the Peppol SML specification's example
        ("0010:5798000000001", "xukhfqabqziki3ykvr2fhr4snfa3pf5vpq6k4tonv3lmvsy5arvq"),
    ],
)
def test_sml_name_matches_the_published_examples(participant: str, label: str) -> None:
    from adapters.peppol.identifiers import ParticipantId

    zone = "acc.edelivery.tech.ec.europa.eu."
    assert sml_name(ParticipantId(participant), zone) == f"{label}.iso6523-actorid-upis.{zone}"


def test_naptr_regexp() -> None:
    assert apply_naptr_regexp("!^.*$!https://smp.example.org!", "x.y.") == "https://smp.example.org"
    with pytest.raises(ValueError):
        apply_naptr_regexp("!^a$!b", "x")


def sml(dns_server: DnsTestServer) -> SmlLookup:
    return SmlLookup(zone=ZONE, nameservers=(dns_server.nameserver,), timeout=1.0)


async def test_sml_finds_the_smp(dns_server: DnsTestServer, smp: SmpTestServer) -> None:
    assert await sml(dns_server).smp_url(RECEIVER) == smp.url


async def test_sml_unknown_participant_is_not_registered(dns_server: DnsTestServer) -> None:
    with pytest.raises(ParticipantNotRegistered) as caught:
        await sml(dns_server).smp_url(UNKNOWN)
    assert not caught.value.retryable


@pytest.mark.parametrize("fault", ["down", "servfail"])
async def test_sml_failure_is_retryable_never_not_registered(
    dns_server: DnsTestServer, fault: str
) -> None:
    setattr(dns_server, fault, True)
    with pytest.raises(DnsFailure) as caught:
        await sml(dns_server).smp_url(RECEIVER)
    assert caught.value.retryable


async def test_an_unusable_naptr_record_gives_way_to_the_next(
    dns_server: DnsTestServer, smp: SmpTestServer
) -> None:
    """Records are tried by order, then preference (RFC 3403): one whose regexp does not
    apply (a malformed one, or one for another name) no longer ends the look-up."""
    name = sml_name(RECEIVER, ZONE).lower()
    dns_server.more_naptr[name] = [
        '10 10 "U" "Meta:SMP" "!^nomatch$!https://never.example!" .',
        '20 10 "U" "Meta:SMP" "!broken" .',
        '30 10 "U" "Meta:SMPx" "!^.*$!https://other-service.example!" .',
    ]
    assert await sml(dns_server).smp_url(RECEIVER) == smp.url


async def test_when_no_naptr_record_is_usable_the_failure_is_final_and_names_each(
    dns_server: DnsTestServer,
) -> None:
    name = sml_name(UNKNOWN, ZONE).lower()
    dns_server.records[name] = "x!y"  # its own record then has four fields: unusable
    dns_server.more_naptr[name] = ['10 10 "U" "Meta:SMP" "!^nomatch$!https://never.example!" .']
    with pytest.raises(DnsFailure) as caught:
        await sml(dns_server).smp_url(UNKNOWN)
    assert not caught.value.retryable
    assert "does not match" in str(caught.value) and "is not !pattern!" in str(caught.value)


def client(
    pki: PeppolTestPki, tls: TlsFiles, smp_trust: TrustStore, ap_trust: TrustStore
) -> SmpClient:
    return SmpClient(
        smp_trust, ap_trust, ssl_context=ssl.create_default_context(cafile=str(tls.ca)), timeout=2
    )


async def test_smp_gives_the_as4_endpoint_and_caches(
    pki: PeppolTestPki,
    tls: TlsFiles,
    smp: SmpTestServer,
    smp_trust: TrustStore,
    ap_trust: TrustStore,
) -> None:
    smp_client = client(pki, tls, smp_trust, ap_trust)
    try:
        found = await smp_client.endpoint(smp.url, RECEIVER, PINT_SG_INVOICE, PINT_PROCESS)
        again = await smp_client.endpoint(smp.url, RECEIVER, PINT_SG_INVOICE, PINT_PROCESS)
    finally:
        await smp_client.aclose()
    assert found == again and smp.requests == 1
    assert found.url.startswith("https://127.0.0.1:") and found.certificate == pki.receiver.cert
    assert found.process == PINT_PROCESS


@pytest.mark.parametrize(
    ("participant", "doctype", "process", "error"),
    [
        (UNKNOWN, PINT_SG_INVOICE, PINT_PROCESS, ParticipantNotRegistered),
        (RECEIVER, BIS3_INVOICE, BIS3_PROCESS, DocumentTypeNotSupported),
        (RECEIVER, PINT_SG_CREDIT_NOTE, ProcessId("urn:other:process"), DocumentTypeNotSupported),
    ],
)
async def test_smp_says_what_is_missing(
    pki: PeppolTestPki,
    tls: TlsFiles,
    smp: SmpTestServer,
    smp_trust: TrustStore,
    ap_trust: TrustStore,
    participant: object,
    doctype: object,
    process: object,
    error: type[Exception],
) -> None:
    smp_client = client(pki, tls, smp_trust, ap_trust)
    try:
        with pytest.raises(error) as caught:
            await smp_client.endpoint(smp.url, participant, doctype, process)  # type: ignore[arg-type]
    finally:
        await smp_client.aclose()
    assert not getattr(caught.value, "retryable", True)


@pytest.mark.parametrize(
    ("fault", "error", "rule"),
    [
        ("down", SmpUnavailable, "http.503"),
        ("broken-signature", SmpAnswerInvalid, "xmldsig.digest"),
        ("wrong-participant", SmpAnswerInvalid, "smp.participant-mismatch"),
        ("redirect", SmpAnswerInvalid, "smp.redirect"),
    ],
)
async def test_smp_faults(
    pki: PeppolTestPki,
    tls: TlsFiles,
    smp: SmpTestServer,
    smp_trust: TrustStore,
    ap_trust: TrustStore,
    fault: str,
    error: type[Exception],
    rule: str,
) -> None:
    smp.fault = fault
    smp_client = client(pki, tls, smp_trust, ap_trust)
    try:
        with pytest.raises(error) as caught:
            await smp_client.endpoint(smp.url, RECEIVER, PINT_SG_INVOICE, PINT_PROCESS)
    finally:
        await smp_client.aclose()
    assert getattr(caught.value, "rule", None) == rule
    assert getattr(caught.value, "retryable", None) is (error is SmpUnavailable)


async def test_smp_unreachable_is_retryable(
    pki: PeppolTestPki, tls: TlsFiles, smp_trust: TrustStore, ap_trust: TrustStore
) -> None:
    smp_client = client(pki, tls, smp_trust, ap_trust)
    try:
        with pytest.raises(SmpUnavailable) as caught:
            await smp_client.endpoint(
                "https://127.0.0.1:9", RECEIVER, PINT_SG_INVOICE, PINT_PROCESS
            )
        with pytest.raises(SmpAnswerInvalid):
            await smp_client.endpoint("http://127.0.0.1:9", RECEIVER, PINT_SG_INVOICE, PINT_PROCESS)
    finally:
        await smp_client.aclose()
    assert caught.value.retryable


async def test_smp_signed_by_an_access_point_key_is_refused(
    pki: PeppolTestPki,
    tls: TlsFiles,
    smp: SmpTestServer,
    smp_trust: TrustStore,
    ap_trust: TrustStore,
) -> None:
    smp.signer = credentials(pki.sender)  # a valid Peppol AP certificate, but not an SMP's
    smp_client = client(pki, tls, smp_trust, ap_trust)
    try:
        with pytest.raises(SmpAnswerInvalid, match="not from a trusted CA"):
            await smp_client.endpoint(smp.url, RECEIVER, PINT_SG_INVOICE, PINT_PROCESS)
    finally:
        await smp_client.aclose()


def _smp_reissued(pki: PeppolTestPki, value: x509.ExtensionType) -> PeppolIssued:
    """The SMP's certificate and key, re-issued by the SMP CA with ``value`` critical (in
    place of its extension of the same kind, if any)."""
    template = pki.smp
    builder = (
        x509.CertificateBuilder()
        .subject_name(template.cert.subject)
        .issuer_name(pki.smp_ca.cert.subject)
        .public_key(template.key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(template.cert.not_valid_before_utc)
        .not_valid_after(template.cert.not_valid_after_utc)
    )
    for extension in template.cert.extensions:
        if extension.oid != value.oid:
            builder = builder.add_extension(extension.value, critical=extension.critical)
    builder = builder.add_extension(value, critical=True)
    return PeppolIssued(builder.sign(pki.smp_ca.key, hashes.SHA256()), template.key)


SMP_CERTIFICATE_REFUSALS = {
    "unknown critical extension (RFC 5280 4.2)": (
        x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.55555.7.1"), b"\x05\x00"),
        "1.3.6.1.4.1.55555.7.1",
    ),
    "keyUsage for encipherment only (RFC 5280 4.2.1.3)": (
        x509.KeyUsage(False, False, True, False, False, False, False, False, False),
        "RFC 5280 4.2.1.3",
    ),
}


@pytest.mark.parametrize("case", sorted(SMP_CERTIFICATE_REFUSALS))
async def test_smp_signed_with_a_refused_smp_certificate_is_refused(
    pki: PeppolTestPki,
    tls: TlsFiles,
    smp: SmpTestServer,
    smp_trust: TrustStore,
    ap_trust: TrustStore,
    case: str,
) -> None:
    """An SMP certificate from the SMP CA, but with a critical extension the gateway does not
    process or a keyUsage that forbids signing: the answer it signed is not trusted."""
    value, named = SMP_CERTIFICATE_REFUSALS[case]
    smp.signer = credentials(_smp_reissued(pki, value))
    smp_client = client(pki, tls, smp_trust, ap_trust)
    try:
        with pytest.raises(SmpAnswerInvalid, match=re.escape(named)):
            await smp_client.endpoint(smp.url, RECEIVER, PINT_SG_INVOICE, PINT_PROCESS)
    finally:
        await smp_client.aclose()
        smp.signer = credentials(pki.smp)


async def test_endpoint_certificate_not_from_the_ap_ca_is_refused(
    pki: PeppolTestPki,
    tls: TlsFiles,
    smp: SmpTestServer,
    smp_trust: TrustStore,
    ap_trust: TrustStore,
) -> None:
    entry = smp.entries[RECEIVER.value.lower()][0]
    smp.entries[RECEIVER.value.lower()][0] = replace(entry, ap_cert=pki.rogue.cert)
    smp_client = client(pki, tls, smp_trust, ap_trust)
    try:
        with pytest.raises(SmpAnswerInvalid) as caught:
            await smp_client.endpoint(smp.url, RECEIVER, PINT_SG_INVOICE, PINT_PROCESS)
    finally:
        await smp_client.aclose()
    assert caught.value.rule == "smp.endpoint-certificate"


def test_real_signed_metadata(reference: Path) -> None:
    """Upstream's examples: 2 and 3 verify, 1 is upstream's invalid one (digest broken).
    They are signed with RSA-SHA1, which Peppol SMP 1.3 retired: accepted only when asked."""
    for good in ("signed-service-metadata2.xml", "signed-service-metadata3-c14n-inclusive.xml"):
        data = (reference / SMP_EXAMPLES / good).read_bytes()
        read_signed_metadata(data, None, legacy_sha1=True)
        with pytest.raises(SmpAnswerInvalid) as refused:
            read_signed_metadata(data, None)
        assert refused.value.rule == "xmldsig.signature-method"
    with pytest.raises(SmpAnswerInvalid) as caught:
        read_signed_metadata(
            (reference / SMP_EXAMPLES / "signed-service-metadata1.xml").read_bytes(),
            None,
            legacy_sha1=True,
        )
    assert caught.value.rule == "xmldsig.digest"


def test_real_metadata_endpoint_choice(reference: Path) -> None:
    info = read_signed_metadata(
        (reference / SMP_EXAMPLES / "signed-service-metadata3-c14n-inclusive.xml").read_bytes(),
        None,
        legacy_sha1=True,
    )
    from datetime import UTC, datetime

    from adapters.peppol.identifiers import DocumentTypeId, ParticipantId

    participant = ParticipantId("0106:55872255")
    doctype = DocumentTypeId(
        info.findtext("{http://busdox.org/transport/identifiers/1.0/}DocumentIdentifier") or "",
        "busdox-docid-qns",
    )
    process = ProcessId("urn:www.cenbii.eu:profile:bii04:ver1.0")
    found = choose_endpoint(
        info, participant, doctype, process, None, now=datetime(2019, 1, 1, tzinfo=UTC)
    )
    assert found.url == "https://ap.econnect.eu/as4/v1"
    with pytest.raises(DocumentTypeNotSupported):  # expired in 2020
        choose_endpoint(
            info, participant, doctype, process, None, now=datetime(2026, 1, 1, tzinfo=UTC)
        )
    with pytest.raises(SmpAnswerInvalid):
        choose_endpoint(info, ParticipantId("0106:1"), doctype, process, None)
    assert SmpEntry  # the harness type is importable for other suites


PINT_ROOT_WILDCARD = DocumentTypeId(
    "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##urn:peppol:pint:billing-1*::2.1",
    "peppol-doctype-wildcard",
)


def test_best_wildcard_is_the_most_specific_covering_registration() -> None:
    sg_star = DocumentTypeId(
        PINT_ROOT_WILDCARD.value.replace("billing-1*", "billing-1@sg-1*"), PINT_ROOT_WILDCARD.scheme
    )
    credit_star = DocumentTypeId(
        PINT_ROOT_WILDCARD.value.replace("Invoice-2::Invoice", "CreditNote-2::CreditNote"),
        PINT_ROOT_WILDCARD.scheme,
    )
    exact = PINT_SG_INVOICE
    assert best_wildcard(PINT_SG_INVOICE, [PINT_ROOT_WILDCARD, sg_star, exact]) == sg_star
    assert best_wildcard(PINT_SG_INVOICE, [PINT_ROOT_WILDCARD, credit_star]) == PINT_ROOT_WILDCARD
    assert best_wildcard(PINT_SG_INVOICE, [credit_star, exact]) is None
    assert best_wildcard(BIS3_INVOICE, [PINT_ROOT_WILDCARD]) is None  # busdox-docid-qns: exact only


async def test_pint_sg_found_through_a_wildcard_registration(
    pki: PeppolTestPki,
    tls: TlsFiles,
    smp: SmpTestServer,
    smp_trust: TrustStore,
    ap_trust: TrustStore,
) -> None:
    from adapters.peppol.identifiers import ParticipantId

    other = ParticipantId("0195:SGUEN201612345D")
    smp.register(
        other,
        SmpEntry(PINT_ROOT_WILDCARD, PINT_PROCESS, "https://127.0.0.1:1/as4", pki.receiver.cert),
    )
    smp_client = client(pki, tls, smp_trust, ap_trust)
    try:
        found = await smp_client.endpoint(smp.url, other, PINT_SG_INVOICE, PINT_PROCESS)
        with pytest.raises(DocumentTypeNotSupported):
            await smp_client.endpoint(smp.url, other, PINT_SG_CREDIT_NOTE, PINT_PROCESS)
    finally:
        await smp_client.aclose()
    assert (
        found.document_type == PINT_ROOT_WILDCARD.uri() and found.url == "https://127.0.0.1:1/as4"
    )


def _resigned(data: bytes, pki: PeppolTestPki, reference_uri: str, target: str | None) -> bytes:
    """``data`` re-signed with the SMP's key so that its one reference is ``reference_uri``
    (an ``Id``'d part, or a ``cid:`` the answer cannot hold), then its endpoint address
    changed outside what that reference covers."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from lxml import etree

    from adapters.peppol import ns, xmldsig

    root = etree.fromstring(data)
    signature = root.find(ns.q("ds", "Signature"))
    assert signature is not None
    signed_info = signature.find(ns.q("ds", "SignedInfo"))
    assert signed_info is not None
    reference = signed_info.find(ns.q("ds", "Reference"))
    assert reference is not None
    reference.set("URI", reference_uri)
    transforms = reference.find(ns.q("ds", "Transforms"))
    assert transforms is not None
    for transform in list(transforms):
        transforms.remove(transform)
    if target is None:
        algorithm = ns.ATTACHMENT_SIGNATURE_TRANSFORM
    else:
        algorithm = ns.EXC_C14N
        part = root.find(f".//{{http://busdox.org/transport/identifiers/1.0/}}{target}")
        assert part is not None
        part.set("Id", reference_uri[1:])
        digest = hashlib.sha256(xmldsig.exc_c14n(part, [])).digest()
        reference.findall(ns.q("ds", "DigestValue"))[0].text = base64.b64encode(digest).decode()
    etree.SubElement(transforms, ns.q("ds", "Transform"), Algorithm=algorithm)
    value = pki.smp.key.sign(xmldsig.exc_c14n(signed_info, []), padding.PKCS1v15(), hashes.SHA256())
    value_element = signature.find(ns.q("ds", "SignatureValue"))
    assert value_element is not None
    value_element.text = base64.b64encode(value).decode()
    address = root.find(".//{http://www.w3.org/2005/08/addressing}Address")
    assert address is not None
    address.text = "https://attacker.example/as4"
    return etree.tostring(root)


@pytest.mark.parametrize(
    ("reference_uri", "target"),
    [("#covered", "ParticipantIdentifier"), ("#covered", "DocumentIdentifier"), ("cid:x", None)],
)
def test_a_signature_over_part_of_the_answer_is_refused(
    pki: PeppolTestPki, smp_trust: TrustStore, reference_uri: str, target: str | None
) -> None:
    """The SMP's signature must cover the whole SignedServiceMetadata (one enveloped reference,
    URI=""): a valid SMP signature over a part only, or over nothing in the answer, leaves the
    endpoint address and certificate open to change."""
    from adapters.peppol.testing import signed_metadata

    entry = SmpEntry(PINT_SG_INVOICE, PINT_PROCESS, "https://ap.example/as4", pki.receiver.cert)
    data = signed_metadata(RECEIVER, entry, credentials(pki.smp))
    read_signed_metadata(data, smp_trust)  # the whole answer signed: trusted
    with pytest.raises(SmpAnswerInvalid) as caught:
        read_signed_metadata(_resigned(data, pki, reference_uri, target), smp_trust)
    assert caught.value.rule == "smp.signature-coverage"


async def test_under_the_peppol_root_an_smp_and_an_ap_certificate_are_still_apart(
    pki: PeppolTestPki, tls: TlsFiles, smp: SmpTestServer
) -> None:
    """With the root as the anchor of both stores (it issues both kinds), an SMP answer signed
    with an access point's certificate, and an endpoint named with an SMP's certificate, are
    refused, by the certificates' kind (their subject OU)."""
    from adapters.peppol.trust import ACCESS_POINT_UNITS, SMP_UNITS

    pool = (pki.ap_ca.cert, pki.smp_ca.cert)
    ap_trust = TrustStore((pki.root.cert,), pool, refused_units=SMP_UNITS)
    smp_trust = TrustStore((pki.root.cert,), pool, refused_units=ACCESS_POINT_UNITS)
    smp_client = client(pki, tls, smp_trust, ap_trust)
    try:
        assert (await smp_client.endpoint(smp.url, RECEIVER, PINT_SG_INVOICE, PINT_PROCESS)).url
        smp.signer = credentials(pki.sender)
        with pytest.raises(SmpAnswerInvalid, match="PEPPOL TEST AP certificate"):
            await smp_client.endpoint(smp.url, RECEIVER, PINT_SG_CREDIT_NOTE, PINT_PROCESS)
        smp.signer = credentials(pki.smp)
        entry = smp.entries[RECEIVER.value.lower()][1]
        smp.entries[RECEIVER.value.lower()][1] = replace(entry, ap_cert=pki.smp.cert)
        with pytest.raises(SmpAnswerInvalid) as caught:
            await smp_client.endpoint(smp.url, RECEIVER, PINT_SG_CREDIT_NOTE, PINT_PROCESS)
        assert caught.value.rule == "smp.endpoint-certificate"
    finally:
        await smp_client.aclose()


async def test_smp_request_paths_keep_the_percent_encoded_identifiers(
    pki: PeppolTestPki,
    tls: TlsFiles,
    smp: SmpTestServer,
    smp_trust: TrustStore,
    ap_trust: TrustStore,
) -> None:
    """``GET {smp}/{scheme}::{participant}/services/{scheme}::{doctype}`` with both identifiers
    URL-encoded whole: the ``::``, ``:``, ``#`` and ``@`` inside them go as ``%3A``, ``%23`` and
    ``%40`` on the wire, not decoded by the HTTP client on the way."""
    smp_client = client(pki, tls, smp_trust, ap_trust)
    try:
        await smp_client.endpoint(smp.url, RECEIVER, PINT_SG_INVOICE, PINT_PROCESS)
        with pytest.raises(DocumentTypeNotSupported):
            await smp_client.endpoint(smp.url, RECEIVER, BIS3_INVOICE, BIS3_PROCESS)
    finally:
        await smp_client.aclose()
    group = "/iso6523-actorid-upis%3A%3A0195%3ASGUEN200254321Z"
    assert smp.paths == [
        group + "/services/peppol-doctype-wildcard%3A%3Aurn%3Aoasis%3Anames%3Aspecification"
        "%3Aubl%3Aschema%3Axsd%3AInvoice-2%3A%3AInvoice%23%23urn%3Apeppol%3Apint%3Abilling-1"
        "%40sg-1%3A%3A2.1",
        group + "/services/busdox-docid-qns%3A%3Aurn%3Aoasis%3Anames%3Aspecification%3Aubl"
        "%3Aschema%3Axsd%3AInvoice-2%3A%3AInvoice%23%23urn%3Acen.eu%3Aen16931%3A2017%23compliant"
        "%23urn%3Afdc%3Apeppol.eu%3A2017%3Apoacc%3Abilling%3A3.0%3A%3A2.1",
        group,
    ]


async def test_a_cached_endpoint_is_not_used_past_its_expiration(
    pki: PeppolTestPki,
    tls: TlsFiles,
    smp: SmpTestServer,
    smp_trust: TrustStore,
    ap_trust: TrustStore,
) -> None:
    """A cached SMP answer is reused for the TTL, but not past the endpoint's
    ServiceExpirationDate ("Senders should ignore services that are expired"): the SMP is
    asked again, and its expired endpoint is not used."""
    import asyncio
    from datetime import UTC, datetime, timedelta

    entries = smp.entries[RECEIVER.value.lower()]
    expires = datetime.now(UTC) + timedelta(seconds=1)
    entries[0] = replace(entries[0], expires=expires)
    smp_client = client(pki, tls, smp_trust, ap_trust)
    try:
        found = await smp_client.endpoint(smp.url, RECEIVER, PINT_SG_INVOICE, PINT_PROCESS)
        assert found.valid_until == expires and smp.requests == 1
        await asyncio.sleep(max(0.0, (expires - datetime.now(UTC)).total_seconds()) + 0.2)
        with pytest.raises(DocumentTypeNotSupported):
            await smp_client.endpoint(smp.url, RECEIVER, PINT_SG_INVOICE, PINT_PROCESS)
    finally:
        await smp_client.aclose()
    assert smp.requests == 2


@pytest.mark.parametrize("form", ["base64", "base64 in lines", "pem"])
def test_the_endpoint_certificate_is_read_with_or_without_its_pem_armour(
    pki: PeppolTestPki, ap_trust: TrustStore, form: str
) -> None:
    """``smp:Certificate`` holds "a PEM base 64 encoded X509 DER formatted value" (the SMP XSD):
    the base64 alone, folded in lines, or with the PEM armour some SMPs publish."""
    import textwrap

    from cryptography.hazmat.primitives import serialization
    from lxml import etree

    from adapters.peppol.testing import signed_metadata

    entry = SmpEntry(PINT_SG_INVOICE, PINT_PROCESS, "https://ap.example/as4", pki.receiver.cert)
    root = etree.fromstring(signed_metadata(RECEIVER, entry, credentials(pki.smp)))
    holder = root.find(".//{http://busdox.org/serviceMetadata/publishing/1.0/}Certificate")
    info = root.find(".//{http://busdox.org/serviceMetadata/publishing/1.0/}ServiceInformation")
    assert holder is not None and info is not None
    der = base64.b64encode(pki.receiver.cert.public_bytes(serialization.Encoding.DER)).decode()
    holder.text = {
        "base64": der,
        "base64 in lines": "\n" + textwrap.fill(der, 64) + "\n",
        "pem": pki.receiver.cert.public_bytes(serialization.Encoding.PEM).decode(),
    }[form]
    found = choose_endpoint(info, RECEIVER, PINT_SG_INVOICE, PINT_PROCESS, ap_trust)
    assert found.certificate == pki.receiver.cert
    holder.text = "-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----"
    with pytest.raises(SmpAnswerInvalid) as caught:
        choose_endpoint(info, RECEIVER, PINT_SG_INVOICE, PINT_PROCESS, ap_trust)
    assert caught.value.rule == "smp.endpoint-certificate"


def test_an_endpoint_not_active_yet_is_retried_at_its_activation(reference: Path) -> None:
    """The real answer's endpoint activates on 2018-08-15: asked before, the lookup is not
    final ("Senders should ignore services that are not yet activated", the SMP XSD, but the
    participant will receive then): retryable, after the time left; after 2020-08-04 (expired)
    it is final."""
    from datetime import UTC, datetime

    from adapters.peppol.errors import EndpointNotYetActive
    from adapters.peppol.identifiers import ParticipantId

    info = read_signed_metadata(
        (reference / SMP_EXAMPLES / "signed-service-metadata3-c14n-inclusive.xml").read_bytes(),
        None,
        legacy_sha1=True,
    )
    participant = ParticipantId("0106:55872255")
    doctype = DocumentTypeId(
        info.findtext("{http://busdox.org/transport/identifiers/1.0/}DocumentIdentifier") or "",
        "busdox-docid-qns",
    )
    process = ProcessId("urn:www.cenbii.eu:profile:bii04:ver1.0")
    before = datetime(2018, 8, 14, 23, 0, tzinfo=UTC)
    with pytest.raises(EndpointNotYetActive) as caught:
        choose_endpoint(info, participant, doctype, process, None, now=before)
    assert caught.value.retryable and caught.value.retry_after == 3600
    assert caught.value.rule == "smp.endpoint-not-yet-active"
    assert "2018-08-15T00:00:00+00:00" in caught.value.message
    from gateway.errors import from_wire

    back = from_wire(caught.value.to_wire())  # as it crosses processes
    assert isinstance(back, EndpointNotYetActive) and back.retry_after == 3600
    with pytest.raises(DocumentTypeNotSupported) as expired:
        choose_endpoint(
            info, participant, doctype, process, None, now=datetime(2021, 1, 1, tzinfo=UTC)
        )
    assert not expired.value.retryable


async def test_a_send_to_an_endpoint_not_active_yet_waits_for_it(
    pki: PeppolTestPki,
    tls: TlsFiles,
    smp: SmpTestServer,
    dns_server: DnsTestServer,
    reference: Path,
    tmp_path: Path,
) -> None:
    from datetime import UTC, datetime, timedelta

    from adapters.base import AdapterContext
    from adapters.peppol import PeppolAdapter
    from gateway.errors import TransientDeliveryError
    from tests.peppol.conftest import adapter_options
    from tests.peppol.test_peppol_adapter import INVOICE, envelope_for

    entries = smp.entries[RECEIVER.value.lower()]
    entries[0] = replace(entries[0], activates=datetime.now(UTC) + timedelta(hours=2))
    adapter = PeppolAdapter.from_config(
        "peppol", adapter_options(pki, tls, dns_server), AdapterContext(data_dir=tmp_path)
    )
    try:
        with pytest.raises(TransientDeliveryError) as caught:
            await adapter.deliver(envelope_for(reference, INVOICE, "sub-later.peppol@lingang"))
    finally:
        await adapter.aclose()
    assert caught.value.retry_after is not None
    assert 2 * 3600 - 60 < caught.value.retry_after <= 2 * 3600
    assert "ServiceActivationDate" in caught.value.message

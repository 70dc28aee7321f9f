"""SMP redirects (Peppol SMP 1.x ``smp:Redirect``): the participant's SMP answers a signed
Redirect to a second SMP (HTTPS, its own certificate with a ``UID``); the client follows it
once, trusts the answer there like any SMP answer, and requires it to be signed by the
certificate the redirect names. Everything else a redirect can be is refused, each with its
own rule, and none is retryable."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import unquote

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from adapters.base import Envelope
from adapters.peppol import PeppolAdapter
from adapters.peppol.errors import SmpAnswerInvalid
from adapters.peppol.identifiers import PINT_PROCESS, PINT_SG_INVOICE
from adapters.peppol.smp import SmpClient, service_path
from adapters.peppol.smp_redirect import certificate_uid_matches, distinguished_name_pairs
from adapters.peppol.testing import As4TestReceiver, SmpEntry, SmpTestServer
from gateway.signing.peppol_pki import PeppolIssued, PeppolTestPki, issue_smp
from gateway.signing.truststore import TrustStore
from gateway.testing.tls import TlsFiles
from tests.peppol.conftest import RECEIVER, credentials

TARGET_UID = "LGTEST-SMP-0004"
"""The ``UID`` attribute of the second SMP's certificate."""


@pytest.fixture(scope="module")
def target_smp_key(pki: PeppolTestPki) -> PeppolIssued:
    return issue_smp(pki.smp_ca, "PSG000004", uid=TARGET_UID)


@pytest.fixture
async def target(
    tls: TlsFiles, target_smp_key: PeppolIssued, receiver: As4TestReceiver, pki: PeppolTestPki
) -> AsyncIterator[SmpTestServer]:
    """The SMP a lookup is redirected to: it knows the receiver's PINT SG registration."""
    server = SmpTestServer(
        credentials(target_smp_key), tls.server_context(require_client_cert=False)
    )
    server.register(
        RECEIVER, SmpEntry(PINT_SG_INVOICE, PINT_PROCESS, receiver.url, pki.receiver.cert)
    )
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def smp_client(
    tls: TlsFiles, smp_trust: TrustStore, ap_trust: TrustStore
) -> AsyncIterator[SmpClient]:
    made = SmpClient(
        smp_trust, ap_trust, ssl_context=ssl.create_default_context(cafile=str(tls.ca)), timeout=2
    )
    yield made
    await made.aclose()


def _forget(smp: SmpTestServer) -> None:
    """The participant's SMP keeps no registration of its own: it only redirects."""
    smp.entries.pop(RECEIVER.value.lower(), None)


async def test_a_signed_redirect_is_followed_once(
    smp: SmpTestServer,
    target: SmpTestServer,
    smp_client: SmpClient,
    receiver: As4TestReceiver,
    pki: PeppolTestPki,
) -> None:
    _forget(smp)
    smp.redirect(RECEIVER, target.url, TARGET_UID)
    found = await smp_client.endpoint(smp.url, RECEIVER, PINT_SG_INVOICE, PINT_PROCESS)
    assert found.url == receiver.url and found.certificate == pki.receiver.cert
    assert found.smp_url == smp.url
    path = service_path(RECEIVER, PINT_SG_INVOICE)
    assert unquote(found.smp_redirect) == unquote(target.url + path)
    assert found.as_dict()["smp_redirect"] == found.smp_redirect
    assert (smp.requests, target.requests) == (1, 1)
    again = await smp_client.endpoint(smp.url, RECEIVER, PINT_SG_INVOICE, PINT_PROCESS)
    assert again == found and (smp.requests, target.requests) == (1, 1)  # cached


async def test_a_redirect_naming_the_subject_dn_is_followed(
    smp: SmpTestServer,
    target: SmpTestServer,
    smp_client: SmpClient,
    target_smp_key: PeppolIssued,
) -> None:
    """Peppol SMPs publish the destination certificate's subject DN as its CertificateUID
    (Java's form: most significant first, ``, `` between): that names it too."""
    subject = target_smp_key.cert.subject
    java_form = ", ".join(a.rfc4514_string() for a in subject)  # C=SG, O=…, …, UID=…
    _forget(smp)
    smp.redirect(RECEIVER, target.url, java_form)
    found = await smp_client.endpoint(smp.url, RECEIVER, PINT_SG_INVOICE, PINT_PROCESS)
    assert found.smp_redirect.startswith(target.url)


async def test_a_second_redirect_is_refused(
    smp: SmpTestServer, target: SmpTestServer, smp_client: SmpClient
) -> None:
    _forget(smp)
    smp.redirect(RECEIVER, target.url, TARGET_UID)
    target.redirect(RECEIVER, smp.url, "PSG000003")
    with pytest.raises(SmpAnswerInvalid) as caught:
        await smp_client.endpoint(smp.url, RECEIVER, PINT_SG_INVOICE, PINT_PROCESS)
    assert caught.value.rule == "smp.redirect-repeated" and not caught.value.retryable
    assert (smp.requests, target.requests) == (1, 1)  # no third request


async def test_a_redirect_that_is_not_https_is_refused_unasked(
    smp: SmpTestServer, target: SmpTestServer, smp_client: SmpClient
) -> None:
    _forget(smp)
    smp.redirect(RECEIVER, target.url.replace("https://", "http://"), TARGET_UID)
    with pytest.raises(SmpAnswerInvalid) as caught:
        await smp_client.endpoint(smp.url, RECEIVER, PINT_SG_INVOICE, PINT_PROCESS)
    assert caught.value.rule == "smp.redirect-https" and not caught.value.retryable
    assert target.requests == 0


@pytest.mark.parametrize(
    "uid",
    [
        "LGTEST-SMP-9999",  # another UID
        "CN=PSG000004,OU=PEPPOL TEST SMP,O=Lingang Gateway Test,C=SG",  # the DN without its UID
        "CN=PSG000003,OU=PEPPOL TEST SMP,O=Lingang Gateway Test,C=SG,UID=LGTEST-SMP-0004",
    ],
)
async def test_a_redirect_to_an_smp_signing_with_another_certificate_is_refused(
    smp: SmpTestServer, target: SmpTestServer, smp_client: SmpClient, uid: str
) -> None:
    _forget(smp)
    smp.redirect(RECEIVER, target.url, uid)
    with pytest.raises(SmpAnswerInvalid) as caught:
        await smp_client.endpoint(smp.url, RECEIVER, PINT_SG_INVOICE, PINT_PROCESS)
    assert caught.value.rule == "smp.redirect-certificate-uid" and not caught.value.retryable


@pytest.mark.parametrize(
    ("fault", "rule"),
    [
        ("broken-signature", "xmldsig.digest"),
        ("wrong-participant", "smp.participant-mismatch"),
        ("redirect", "smp.redirect"),  # an HTTP 302 at the target: refused as everywhere
        ("unregistered", "smp.redirect-target"),
        ("untrusted-signer", ""),
    ],
)
async def test_the_redirected_answer_is_trusted_like_any_smp_answer(
    smp: SmpTestServer,
    target: SmpTestServer,
    smp_client: SmpClient,
    pki: PeppolTestPki,
    fault: str,
    rule: str,
) -> None:
    """The target SMP's answer gets every check the first SMP's would: signature and its
    signer's trust (an AP certificate whose subject carries the right UID is still no SMP's),
    the identifiers asked for, no HTTP redirect, and it must know the registration."""
    _forget(smp)
    uid = TARGET_UID
    if fault == "unregistered":
        target.entries.clear()
    elif fault == "untrusted-signer":
        target.signer = credentials(pki.sender)
        uid = pki.sender.cert.subject.rfc4514_string()
    else:
        target.fault = fault
    smp.redirect(RECEIVER, target.url, uid)
    with pytest.raises(SmpAnswerInvalid) as caught:
        await smp_client.endpoint(smp.url, RECEIVER, PINT_SG_INVOICE, PINT_PROCESS)
    if fault == "untrusted-signer":
        assert "not from a trusted CA" in caught.value.message
    else:
        assert caught.value.rule == rule
    assert not caught.value.retryable


async def test_a_document_is_delivered_through_a_redirected_lookup(
    adapter: PeppolAdapter,
    smp: SmpTestServer,
    target: SmpTestServer,
    receiver: As4TestReceiver,
    reference: Path,
) -> None:
    """SML → SMP → signed Redirect → second SMP → AS4: the send report names both SMPs."""
    _forget(smp)
    smp.redirect(RECEIVER, target.url, TARGET_UID)
    invoice = "openpeppol-pint-sg-1.4.1/trn-invoice/example/PINT-SG INV example 09 - Zero rated GST.xml"  # fmt: skip
    envelope = Envelope(
        message_id="redirected-1@lingang",
        body=(reference / invoice).read_bytes(),
        receiver=RECEIVER.value,
        profile="pint-sg",
    )
    receipt = await adapter.deliver(envelope)
    report = receipt.details["report"]
    assert report["outcome"] == "delivered" and envelope.message_id in receiver.received
    assert report["lookup"]["smp_url"] == smp.url
    assert report["lookup"]["endpoint"]["smp_redirect"].startswith(target.url + "/")


def test_certificate_uid_forms(target_smp_key: PeppolIssued, pki: PeppolTestPki) -> None:
    cert = target_smp_key.cert
    assert certificate_uid_matches(cert, TARGET_UID)
    assert certificate_uid_matches(cert, f"  {TARGET_UID} ")
    assert certificate_uid_matches(cert, cert.subject.rfc4514_string())
    assert certificate_uid_matches(
        cert, "c=sg; o=lingang gateway test; ou=peppol test smp; cn=psg000004; uid=lgtest-smp-0004"
    )
    assert certificate_uid_matches(
        cert, "OID.2.5.4.6=SG,O=Lingang Gateway Test,OU=PEPPOL TEST SMP+CN=PSG000004,UID=LGTEST-SMP-0004"
    )  # fmt: skip
    assert not certificate_uid_matches(cert, "")
    assert not certificate_uid_matches(cert, "lgtest-smp-0004")  # a UID value is exact
    assert not certificate_uid_matches(cert, "PSG000004")  # the CN alone names no certificate
    assert not certificate_uid_matches(cert, "CN=PSG000004")
    assert not certificate_uid_matches(cert, "XX=SG,CN=PSG000004")
    assert not certificate_uid_matches(pki.smp.cert, TARGET_UID)  # no UID attribute at all
    assert distinguished_name_pairs(r'CN=a\,b,O="x, y",OU=\41') == frozenset(
        {("2.5.4.3", "a,b"), ("2.5.4.10", "x, y"), ("2.5.4.11", "a")}
    )
    assert distinguished_name_pairs("not a name") is None
    assert cert.subject.get_attributes_for_oid(NameOID.USER_ID)[0].value == TARGET_UID
    assert isinstance(cert, x509.Certificate)

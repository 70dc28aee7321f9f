"""The operator is warned before the gateway's own certificates expire: the TLS server
certificate it serves, its signing certificate and its Peppol AP certificate (two years at
most; a silent expiry stops all traffic). Certificates made here with short validity; the
API served over real TLS with the certificate under watch."""

from __future__ import annotations

import json
import logging
import re
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
import trustme
from aiohttp import web

from gateway.api import api_runner, create_app
from gateway.service import open_services
from gateway.settings import (
    AdapterConfig,
    PipelineSettings,
    ServerSettings,
    Settings,
    SigningSettings,
    StoreSettings,
)
from gateway.signing.peppol_pki import make_peppol_pki
from gateway.testing.pint import SCHEMA

DAY = 86400.0


@dataclass
class Served:
    base: str
    session: aiohttp.ClientSession

    async def get(self, path: str) -> tuple[int, bytes]:
        async with self.session.get(self.base + path) as response:
            return response.status, await response.read()


def _leaf(ca: trustme.CA, folder: Path, name: str, not_after: datetime) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 ending at ``not_after``: (chain PEM, key PEM) files."""
    leaf = ca.issue_cert("127.0.0.1", not_after=not_after)
    cert, key = folder / f"{name}.pem", folder / f"{name}.key"
    cert.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    key.write_bytes(leaf.private_key_pem.bytes())
    return cert, key


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


async def _serve(
    tmp_path: Path,
    ca: trustme.CA,
    signing_ends: datetime,
    more: tuple[AdapterConfig, ...] = (),
) -> AsyncIterator[Served]:
    now = datetime.now(UTC)
    tls_cert, tls_key = _leaf(ca, tmp_path, "server", now + timedelta(days=3))
    sign_cert, sign_key = _leaf(ca, tmp_path, "signing", signing_ends)
    pki = make_peppol_pki(tmp_path / "peppol", now=now - timedelta(days=360))  # AP: 5 days left
    peppol = {
        "key": str(pki.path("ap-sender.key.pem")),
        "cert": str(pki.path("ap-sender.pem")),
        "ap_trust": [str(pki.path("ap-ca.pem"))],
        "smp_trust": [str(pki.path("smp-ca.pem"))],
        "revocation": "off",
    }
    settings = Settings(
        data_dir=tmp_path / "home",
        store=StoreSettings(f"sqlite:///{tmp_path}/gateway.db"),
        server=ServerSettings(tls_cert=tls_cert, tls_key=tls_key),
        signing=SigningSettings(key=sign_key, cert=sign_cert),
        pipeline=PipelineSettings(validate=False, sign=False),
        adapters={
            "peppol": AdapterConfig(name="peppol", type="peppol", options=peppol),
            **{config.name: config for config in more},
        },
    )
    services = await open_services(settings)
    runner = api_runner(create_app(services))
    await runner.setup()
    server_ssl = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ssl.load_cert_chain(tls_cert, tls_key)
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_ssl)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    client_ssl = ssl.create_default_context()
    ca.configure_trust(client_ssl)
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=client_ssl))
    try:
        yield Served(f"https://127.0.0.1:{port}", session)
    finally:
        await session.close()
        await runner.cleanup()
        await services.close()


def _expiry_seconds(metrics: bytes) -> dict[str, float]:
    found = re.findall(
        rb'^lingang_certificate_expiry_seconds\{role="([^"]+)"\} (\S+)$', metrics, re.M
    )
    return {role.decode(): float(value) for role, value in found}


async def test_metrics_and_health_warn_of_certificates_about_to_expire(
    tmp_path: Path, ca: trustme.CA, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="lingang.service")
    async for served in _serve(tmp_path, ca, datetime.now(UTC) + timedelta(days=400)):
        status, raw = await served.get("/metrics")
        assert status == 200
        left = _expiry_seconds(raw)
        assert set(left) == {"server-tls", "signing", "adapter:peppol:ap"}, left
        assert 2.9 * DAY < left["server-tls"] <= 3 * DAY
        assert 4.9 * DAY < left["adapter:peppol:ap"] <= 5 * DAY
        assert 399 * DAY < left["signing"] <= 400 * DAY

        status, raw = await served.get("/healthz")
        body = json.loads(raw)
        assert status == 200, body
        check = body["checks"]["certificates"]
        assert check["status"] == "ok"
        assert [(w["role"], round(w["days_left"])) for w in check["warnings"]] == [
            ("server-tls", 3),
            ("adapter:peppol:ap", 5),
        ]
    warned = [r.getMessage() for r in caplog.records if "renew it" in r.getMessage()]
    assert len(warned) == 2 and "server-tls" in warned[0] and "adapter:peppol:ap" in warned[1]


async def test_an_expired_certificate_fails_the_health_check(
    tmp_path: Path, ca: trustme.CA
) -> None:
    async for served in _serve(tmp_path, ca, datetime.now(UTC) - timedelta(days=1)):
        status, raw = await served.get("/healthz")
        body = json.loads(raw)
        assert status == 503, body
        check = body["checks"]["certificates"]
        assert check["status"] == "fail"
        assert check["warnings"][0]["role"] == "signing"
        assert check["warnings"][0]["days_left"] < 0
        status, raw = await served.get("/metrics")
        assert _expiry_seconds(raw)["signing"] < -0.9 * DAY


def test_the_certificate_of_a_signing_key_in_a_token_is_watched(
    tmp_path: Path, ca: trustme.CA
) -> None:
    """``[signing] pkcs11`` keeps the key in an HSM; its ``cert`` expires all the same."""
    from gateway.service import _signing_certificate

    ends = datetime.now(UTC) + timedelta(days=10)
    cert, _ = _leaf(ca, tmp_path, "signing", ends)
    signing = SigningSettings(
        pkcs11=tmp_path / "libtoken.so", pkcs11_token="lingang", pkcs11_label="signer", cert=cert
    )
    watched = _signing_certificate(Settings.for_data_dir(tmp_path, signing=signing))
    assert watched is not None
    assert abs((watched.not_valid_after_utc - ends).total_seconds()) < 2


def _pint(tmp_path: Path, reference: Path, ca: trustme.CA, now: datetime) -> AdapterConfig:
    """A DCSA PINT platform whose x5c signing certificate ends in 6 days, trusting a partner
    (IQAX) by two certificates, one expired yesterday, and a carrier's ending in 20 days."""
    folder = tmp_path / "pint"
    folder.mkdir()
    signing = ca.issue_cert("aeot.example", not_after=now + timedelta(days=6))
    (folder / "aeot.pem").write_bytes(signing.cert_chain_pems[0].bytes())
    (folder / "aeot.key").write_bytes(signing.private_key_pem.bytes())
    partner = trustme.CA()
    (folder / "iqax.pem").write_bytes(
        partner.issue_cert("iqax.example", not_after=now + timedelta(days=200))
        .cert_chain_pems[0]
        .bytes()
        + partner.issue_cert("old.iqax.example", not_after=now - timedelta(days=1))
        .cert_chain_pems[0]
        .bytes()
    )
    carrier = partner.issue_cert("carrier.iqax.example", not_after=now + timedelta(days=20))
    (folder / "carrier.pem").write_bytes(carrier.cert_chain_pems[0].bytes())
    options = {
        "platform": "AEOT",
        "signing_key": str(folder / "aeot.key"),
        "signing_chain": [str(folder / "aeot.pem")],
        "envelope_schema": str(reference / SCHEMA),
        "partners": {
            "IQAX": {
                "url": "https://iqax.example",
                "certificates": [str(folder / "iqax.pem")],
                "carrier_certificates": [str(folder / "carrier.pem")],
            }
        },
    }
    return AdapterConfig(name="pint", type="dcsa_pint", options=options)


async def test_pint_platform_and_partner_certificates_are_watched(
    tmp_path: Path, reference: Path, ca: trustme.CA, caplog: pytest.LogCaptureFixture
) -> None:
    """The PINT platform's x5c certificate is the gateway's own (warned, fails once expired);
    a partner's certificates are trusted ones: warned of, expired too, without failing
    ``/healthz``. Until now none of them was watched."""
    caplog.set_level(logging.WARNING, logger="lingang.service")
    now = datetime.now(UTC)
    more = (_pint(tmp_path, reference, ca, now),)
    async for served in _serve(tmp_path, ca, now + timedelta(days=400), more):
        status, raw = await served.get("/metrics")
        left = _expiry_seconds(raw)
        assert 5.9 * DAY < left["adapter:pint:signing"] <= 6 * DAY
        assert 199 * DAY < left["adapter:pint:partner:IQAX:1"] <= 200 * DAY
        assert left["adapter:pint:partner:IQAX:2"] < -0.9 * DAY
        assert 19 * DAY < left["adapter:pint:carrier:IQAX:1"] <= 20 * DAY

        status, raw = await served.get("/healthz")
        body = json.loads(raw)
        assert status == 200, body
        check = body["checks"]["certificates"]
        assert check["status"] == "ok"
        assert [w["role"] for w in check["warnings"]] == [
            "adapter:pint:partner:IQAX:2",
            "server-tls",
            "adapter:peppol:ap",
            "adapter:pint:signing",
            "adapter:pint:carrier:IQAX:1",
        ]
    warned = [r.getMessage() for r in caplog.records if "IQAX:2" in r.getMessage()]
    assert len(warned) == 1 and "ask that partner for its renewed certificate" in warned[0]

"""Throw-away PINT platforms for tests, the demo and the benchmark: keys, parties and
transport documents made from the DCSA conformance template. Never use these for anything real."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from gateway.pint.build import chain_entry, issuance_manifest, transaction
from gateway.pint.checksums import document_checksum, jws_checksum
from gateway.pint.codes import ActionCode
from gateway.pint.title import Party
from gateway.signing.jose import CompactSigner, KeySet, PrivateKey, jwks_of
from gateway.store.ebl import NewTitle
from gateway.testing.tls import TlsFiles

TEMPLATE = Path("ebl/dcsa/conformance-templates/pint-3.0.0-transport-document.json")
"""The DCSA conformance kit's PINT transport document, under the reference folder."""
SCHEMA = Path("ebl/dcsa/jsonschema/EBL_PINT_v3.0.0.EblEnvelope.schema.json")
"""The official PINT envelope schema, under the reference folder."""


def transport_document(reference_root: Path, number: str, **changes: Any) -> dict[str, Any]:
    """A transport document from the DCSA conformance template with its placeholders filled."""
    text = (reference_root / TEMPLATE).read_text("utf-8")
    text = (
        text.replace("TRANSPORT_DOCUMENT_REFERENCE_PLACEHOLDER", number)
        .replace("SHIPPING_INSTRUCTION_REFERENCE_PLACEHOLDER", f"SI-{number}")
        .replace("BOOKING_REFERENCE_PLACEHOLDER", f"BK-{number}")
    )
    document: dict[str, Any] = json.loads(text)
    document.update(changes)
    return document


def make_key(kind: str) -> PrivateKey:
    """A fresh key: ``ed25519``, ``p256`` or ``rsa``."""
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if kind == "p256":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass(slots=True)
class DemoPlatform:
    """One platform: its code, signing key, one party of its own, and a carrier it issues for."""

    code: str
    key: PrivateKey
    party: Party
    algorithm: str = ""
    carrier_key: PrivateKey | None = None
    carrier: Party | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def signer(self) -> CompactSigner:
        return CompactSigner(self.key, self.algorithm)

    @property
    def party_code(self) -> str:
        return min(self.party.codes)[1]

    @property
    def carrier_code(self) -> str:
        assert self.carrier is not None
        return min(self.carrier.codes)[1]

    def write(self, folder: Path) -> dict[str, Path]:
        """PEM private key, JWKS of the public key (and the carrier's) under ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        paths = {"key": folder / f"{self.code}.key.pem", "jwks": folder / f"{self.code}.jwks.json"}
        paths["key"].write_bytes(pem(self.key))
        paths["jwks"].write_text(json.dumps(jwks_of([self.key])), "utf-8")
        if self.carrier_key is not None:
            paths["carrier_key"] = folder / f"{self.code}.carrier.key.pem"
            paths["carrier_jwks"] = folder / f"{self.code}.carrier.jwks.json"
            paths["carrier_key"].write_bytes(pem(self.carrier_key))
            paths["carrier_jwks"].write_text(json.dumps(jwks_of([self.carrier_key])), "utf-8")
        return paths


def pem(key: PrivateKey) -> bytes:
    """A private key as unencrypted PKCS#8 PEM."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def platform(code: str, kind: str, party_code: str, *, carrier: bool = False) -> DemoPlatform:
    """A test platform with a key of ``kind`` and one party (code ``party_code`` issued by the
    platform itself, as ``lingang ebl … --to PLATFORM:PARTY`` names parties)."""
    made = DemoPlatform(
        code, make_key(kind), Party(code, f"{party_code} Ltd", frozenset({(code, party_code)}))
    )
    if carrier:
        made.carrier_key = make_key("p256")
        made.carrier = Party(code, "COSCO", frozenset({(code, "COSCO")}))
    return made


def key_sets(platforms: list[DemoPlatform]) -> tuple[KeySet, KeySet]:
    """``(platform keys, carrier keys)`` knowing every platform of ``platforms``."""
    keys, carriers = KeySet(), KeySet()
    for each in platforms:
        keys.add(each.key, each.code)
        if each.carrier_key is not None:
            carriers.add(each.carrier_key, each.code)
    return keys, carriers


@dataclass(frozen=True, slots=True)
class PlatformHome:
    """One platform's gateway home: its configuration and its port."""

    platform: DemoPlatform
    home: Path
    port: int
    config: Path

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def store(self) -> Path:
        return self.home / "gateway.db"


def write_platform_homes(
    root: Path,
    platforms: list[DemoPlatform],
    *,
    reference_root: Path,
    tls: TlsFiles,
    ports: list[int],
    store_urls: list[str] | None = None,
    worker_count: int = 1,
) -> list[PlatformHome]:
    """A ``lingang.toml`` per platform: TLS on 127.0.0.1, the ``dcsa_pint`` adapter named
    ``pint`` knowing every other platform as a partner (keys by JWKS, TLS by the test CA)."""
    keys = {p.code: p.write(root / "keys") for p in platforms}
    homes = []
    for index, (each, port) in enumerate(zip(platforms, ports, strict=True)):
        home = root / each.code
        home.mkdir(parents=True, exist_ok=True)
        store_url = store_urls[index] if store_urls else f"sqlite:///{home / 'gateway.db'}"
        lines = [
            f"data_dir = {json.dumps(str(home))}",
            "log_level = 'INFO'",
            "[store]",
            f"url = {json.dumps(store_url)}",
            "[server]",
            "host = '127.0.0.1'",
            f"port = {port}",
            f"tls_cert = {json.dumps(str(tls.server_cert))}",
            f"tls_key = {json.dumps(str(tls.server_key))}",
            "[worker]",
            f"count = {worker_count}",
            "concurrency = 16",
            "lease_seconds = 3.0",
            "poll_seconds = 0.1",
            "max_attempts = 10000",
            "retry_base_seconds = 0.2",
            "retry_cap_seconds = 1.0",
            "breaker_failures = 100000",
            "breaker_cooldown_seconds = 0.5",
            "[pipeline]",
            "validate = false",
            "sign = false",
            "[adapters.pint]",
            "type = 'dcsa_pint'",
            f"platform = {json.dumps(each.code)}",
            f"signing_key = {json.dumps(str(keys[each.code]['key']))}",
            f"envelope_schema = {json.dumps(str(reference_root / SCHEMA))}",
            f"parties = {{ {json.dumps(each.party_code)} = {json.dumps(each.party.name)} }}",
            "timeout = 10.0",
        ]
        if each.carrier is not None:
            lines += [
                f"carrier = {json.dumps(each.carrier_code)}",
                f"carrier_key = {json.dumps(str(keys[each.code]['carrier_key']))}",
            ]
        for other, other_port in zip(platforms, ports, strict=True):
            if other is each:
                continue
            lines += [
                f"[adapters.pint.partners.{other.code}]",
                f"url = {json.dumps(f'https://127.0.0.1:{other_port}')}",
                f"jwks = {json.dumps(str(keys[other.code]['jwks']))}",
                f"ca = {json.dumps(str(tls.ca))}",
            ]
            if "carrier_jwks" in keys[other.code]:
                lines.append(f"carrier_jwks = {json.dumps(str(keys[other.code]['carrier_jwks']))}")
        config = home / "lingang.toml"
        config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        homes.append(PlatformHome(each, home, port, config))
    return homes


class InProcessPlatform:
    """A platform of :func:`write_platform_homes` run inside this process: its store, its
    ``dcsa_pint`` adapter and its receiving endpoints on TLS (no API, no workers)."""

    def __init__(self, home: PlatformHome, tls: TlsFiles) -> None:
        self.home = home
        self.tls = tls
        self.store: Any = None
        self.adapter: Any = None
        self._runner: Any = None

    async def start(self) -> InProcessPlatform:
        from aiohttp import web

        from adapters.base import AdapterContext
        from adapters.dcsa_pint import PintAdapter
        from gateway.settings import Settings
        from gateway.store import open_store

        settings = Settings.load(self.home.config)
        self.store = await open_store(settings.store.url)
        limit = settings.limits.max_body_bytes
        context = AdapterContext(data_dir=self.home.home, store=self.store, max_body_bytes=limit)
        self.adapter = PintAdapter.from_config("pint", settings.adapters["pint"].options, context)
        app = web.Application(client_max_size=limit)
        for route in self.adapter.inbound_routes():
            app.router.add_route(route.method, route.path, route.handler)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(
            self._runner,
            "127.0.0.1",
            self.home.port,
            ssl_context=self.tls.server_context(require_client_cert=False),
        )
        await site.start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self.adapter is not None:
            await self.adapter.aclose()
        if self.store is not None:
            await self.store.close()


def issue_and_transfer(document: dict[str, Any]) -> NewTitle:
    """What an eBL registry holds after platform WAVE's carrier COSCO issued ``document`` to
    WAVE's SHIPPER-1 (with a carrier-signed issuance manifest) and SHIPPER-1 transferred it to
    BOLE's BUYER-1: two signed chain entries, state ``transferred`` (for pages and benchmarks
    that show a chain; the keys are thrown away)."""
    carrier = platform("WAVE", "p256", "SHIPPER-1", carrier=True)
    buyer = platform("BOLE", "p256", "BUYER-1")
    assert carrier.carrier is not None and carrier.carrier_key is not None
    td = document_checksum(document)
    issuance = issuance_manifest(document, carrier.party, CompactSigner(carrier.carrier_key))
    first = chain_entry(
        carrier.signer,
        "WAVE",
        td,
        [transaction(ActionCode.ISSUE, carrier.carrier, carrier.party)],
        issuance=issuance,
    )
    second = chain_entry(
        carrier.signer,
        "WAVE",
        td,
        [transaction(ActionCode.TRANSFER, carrier.party, buyer.party)],
        previous=first,
    )
    return NewTitle(
        td_checksum=td,
        reference=str(document["transportDocumentReference"]),
        state="transferred",
        possessor="BOLE:BOLE/BUYER-1",
        chain=[first, second],
        checksums=[jws_checksum(first), jws_checksum(second)],
        title={},
        transport_document=document,
    )

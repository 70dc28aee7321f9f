"""The ``dcsa_pint`` adapter: a PINT 3.0 platform — sends envelope transfers (the ``transfer``
job hands it the stored envelope) and serves the receiving endpoints in ``lingang serve``.

It keeps title in the gateway's store (the eBL registry), so it needs the store from its
context; options are in :mod:`adapters.dcsa_pint.options`.
"""

from __future__ import annotations

import json
import logging
import ssl
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import aiohttp
from cryptography import x509

from adapters.base import AdapterContext, Envelope, InboundRoute, Receipt
from adapters.dcsa_pint.ctr import ControlTrackingRegistry, transfer_record
from adapters.dcsa_pint.options import PintOptions
from adapters.dcsa_pint.platform import PintPlatform
from adapters.dcsa_pint.receiver import PintReceiver
from adapters.dcsa_pint.receiver_check import ReceiverAnswer
from adapters.dcsa_pint.sender import PintSender
from gateway.bounded_body import read_bounded
from gateway.errors import ConfigError, TransientDeliveryError
from gateway.store.ebl import EblRegistry
from gateway.store.ledger_records import TransferAssessor

log = logging.getLogger("lingang.pint")

RECORDED = frozenset({"RECE", "DUPE"})
"""Signed answers after which the transfer is recorded at the control tracking registry."""


class PintAdapter:
    """A PINT platform as a two-way adapter."""

    def __init__(
        self,
        name: str,
        options: PintOptions,
        registry: EblRegistry,
        *,
        max_body_bytes: int = 16 * 1024 * 1024,
        client_cert: Path | None = None,
        client_key: Path | None = None,
        export_gate: TransferAssessor | None = None,
    ) -> None:
        self.name = name
        self.options = options
        self.platform = PintPlatform(
            options,
            registry,
            name,
            fetch_jwks=self._fetch_jwks,
            export_gate=export_gate,
            validate_receiver=self._validate_receiver,
        )
        self.receiver = PintReceiver(
            self.platform,
            max_body_bytes=max_body_bytes,
            max_document_bytes=options.max_document_bytes,
        )
        self._client = (client_cert, client_key)
        self._session: aiohttp.ClientSession | None = None
        self._contexts: dict[str, Any] = {}
        self._keys_fetched = False
        self.ctr: ControlTrackingRegistry | None = None
        if options.control_tracking_registry is not None:
            context = None
            if options.control_tracking_registry_ca is not None:
                context = ssl.create_default_context(
                    cafile=str(options.control_tracking_registry_ca)
                )
            self.ctr = ControlTrackingRegistry(
                options.control_tracking_registry, ssl_context=context
            )

    @classmethod
    def from_config(
        cls, name: str, options: Mapping[str, Any], context: AdapterContext
    ) -> PintAdapter:
        if context.store is None:
            raise ConfigError(
                f"adapter {name!r}: dcsa_pint needs the gateway's store", field=f"adapters.{name}"
            )
        return cls(
            name,
            PintOptions.parse(name, options, context.data_dir),
            EblRegistry.of(context.store),
            max_body_bytes=context.max_body_bytes,
            client_cert=context.tls_cert,
            client_key=context.tls_key,
            export_gate=context.export_gate,
        )

    def _http(self, platform: str) -> tuple[aiohttp.ClientSession, dict[str, Any]]:
        if self._session is None:
            timeout = aiohttp.ClientTimeout(total=self.options.timeout)
            self._session = aiohttp.ClientSession(timeout=timeout)
        partner = self.options.partners.get(platform)
        if partner is not None and platform not in self._contexts:
            self._contexts[platform] = {"ssl": partner.ssl_context(*self._client)}
        return self._session, self._contexts.get(platform, {})

    def _sender(self, platform: str) -> PintSender:
        session, ssl = self._http(platform)
        return PintSender(self.name, self.options, session, ssl)

    async def _fetch_jwks(self, platform: str, url: str) -> dict[str, Any]:
        session, ssl = self._http(platform)
        try:
            async with session.get(url, **ssl) as response:
                if response.status != 200:
                    raise ValueError(f"HTTP {response.status}")
                data = await read_bounded(response.content, 1024 * 1024)
                if data is None:
                    raise ValueError("larger than 1 MiB")
                document = json.loads(data)
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
            log.warning(
                "cannot fetch JWKS", extra={"platform": platform, "url": url, "error": str(exc)}
            )
            return {"keys": []}
        return document if isinstance(document, dict) else {"keys": []}

    async def _validate_receiver(self, platform: str, provider: str, code: str) -> ReceiverAnswer:
        return await self._sender(platform).validate_receiver(platform, provider, code)

    async def deliver(self, envelope: Envelope) -> Receipt:
        """Run the envelope transfer in ``envelope`` (see :class:`PintSender`)."""
        if not self._keys_fetched:
            self._keys_fetched = True
            await self.platform.refresh_keys()
        try:
            receipt = await self._sender(envelope.receiver).send(envelope)
        except TransientDeliveryError as exc:
            if "unknown signing key" in str(exc):
                await self.platform.refresh_keys()
            raise
        code = str(receipt.details.get("responseCode", ""))
        if self.ctr is not None and code in RECORDED:
            record = transfer_record(
                envelope.body,
                sending=self.options.platform,
                receiving=envelope.receiver,
                code=code,
                message_id=envelope.message_id,
            )
            session, _ = self._http(envelope.receiver)
            await self.ctr.record(session, record)
        return receipt

    def endpoint_key(self, envelope: Envelope) -> str:
        return f"{self.name}:{envelope.receiver}"

    def inbound_routes(self) -> Sequence[InboundRoute]:
        return self.receiver.routes()

    def certificates(self) -> dict[str, x509.Certificate]:
        """The certificates this platform sends in ``x5c`` (``signing``, its CAs), watched for
        expiry (``adapter:<name>:signing`` at ``/metrics`` and ``/healthz``): partners
        requiring ``x5c`` refuse every envelope signed under an expired one."""
        return dict(self.options.own_certificates)

    def trusted_certificates(self) -> dict[str, x509.Certificate]:
        """The certificates of partners this platform trusts (their platform and carrier keys
        given as certificates, the ``x5c`` anchors), watched for expiry: a partner's
        certificate expiring is the operator's cue to get its renewed one, before its
        envelopes signed with the new key are refused (BSIG)."""
        return dict(self.options.trusted_certificates)

    async def ping(self) -> bool:
        return True

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

"""Service wiring: from :class:`~gateway.settings.Settings` to the live handles a process uses.

``open_services(settings)`` opens the store (and migrates it), loads the validator, the signer
and the partner directory once, builds every configured adapter (a configured adapter that
cannot load stops start-up with :class:`~gateway.settings.ConfigError`), and assembles the
:class:`~gateway.pipeline.Pipeline`. The HTTP API (``gateway.api.create_app(services)``), the
workers and the CLI all take a :class:`Services`; ``await services.close()`` releases it all.

Typical use::

    settings = Settings.load("lingang.toml")
    services = await open_services(settings)
    try:
        submission, created = await services.pipeline.submit(
            tenant_id, body, content_type="application/xml", filename="f.xml",
            metadata={"receiver": "0195:T08GB0001A"}, idempotency_key="abc")
    finally:
        await services.close()
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from adapters.base import AdapterContext, BodySigner
from adapters.registry import AdapterRegistry
from gateway.errors import LingangError
from gateway.pipeline import Pipeline
from gateway.pipeline.routing import Router
from gateway.pipeline.runner import ProcessStageRunner
from gateway.pipeline.stages import Toolbox
from gateway.pipeline.standard import standard_stages
from gateway.settings import ConfigError, Settings
from gateway.store import Store, open_store

__all__ = ["ConfigError", "Services", "Settings", "open_services"]

log = logging.getLogger("lingang.service")

WARM_PROFILES = ("pint-sg", "pint", "bis3")
"""UBL profiles compiled in the background at start (the default profile is compiled first,
before start-up finishes)."""


@dataclass(slots=True)
class Services:
    """Everything a gateway process shares: one per process, closed once."""

    settings: Settings
    store: Store
    pipeline: Pipeline
    adapters: AdapterRegistry
    validator: Any = None
    """``gateway.validation.Validator`` or ``None`` when validation is off."""
    signer: Any = None
    """``gateway.signing.XadesSigner`` or ``None`` when no signing key is configured."""
    partners: Any = None
    """``gateway.partners.PartnerDirectory`` loaded from ``settings.pipeline.partners``, or ``None``."""
    started_at: float = field(default_factory=time.time)
    _closed: bool = False

    async def health(self) -> dict[str, Any]:
        """Ping the store and every adapter: ``{"store": bool, "adapters": {name: bool}}``."""
        try:
            await self.store.ping()
            store_ok = True
        except Exception:
            store_ok = False
        return {"store": store_ok, "adapters": await self.adapters.ping_all()}

    async def close(self) -> None:
        """Close adapters, the stages thread and the store. Idempotent."""
        if self._closed:
            return
        self._closed = True
        await self.adapters.aclose()
        await self.pipeline.aclose()
        await self.store.close()


async def open_services(settings: Settings, *, store: Store | None = None) -> Services:
    """Open everything the settings describe (``store`` may be given already opened)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    validator = load_validator(settings, compile_rules=settings.pipeline.stage_processes == 0)
    signer = load_signer(settings)
    partners = load_partners(settings)
    context = AdapterContext(
        data_dir=settings.data_dir,
        body_signer=load_body_signer(settings),
        tls_cert=settings.server.tls_cert,
        tls_key=settings.server.tls_key,
    )
    registry = AdapterRegistry.build(settings.adapters, context)
    router = Router(settings.routing, registry.names())
    opened = store if store is not None else await open_store(settings.store.url)
    toolbox = Toolbox(
        default_profile=settings.pipeline.default_profile,
        validator=validator,
        signer=signer,
        partners=partners,
        options={"max_body_bytes": settings.limits.max_body_bytes},
    )
    runner = (
        ProcessStageRunner(settings.pipeline.stage_processes, settings)
        if settings.pipeline.stage_processes > 0
        else None
    )
    pipeline = Pipeline(
        opened,
        stages=standard_stages(toolbox),
        toolbox=toolbox,
        adapters=registry,
        router=router,
        runner=runner,
    )
    pipeline.warm_in_background(WARM_PROFILES)
    log.info(
        "services open",
        extra={"store": _redact(settings.store.url), "adapters": registry.names()},
    )
    return Services(
        settings=settings,
        store=opened,
        pipeline=pipeline,
        adapters=registry,
        validator=validator,
        signer=signer,
        partners=partners,
    )


def load_validator(settings: Settings, *, compile_rules: bool = True) -> Any:
    """The shared validator (official artefacts from the data dir), or ``None`` if disabled.

    The artefacts of the configured profiles are checked at once (a missing one stops the
    start). With ``compile_rules`` they are compiled too; a process whose stages run in child
    processes only checks them (the children compile, and no Schematron engine starts here).
    """
    if not settings.pipeline.validate:
        return None
    from gateway.validation import Validator

    # TODO(merge): Validator.default(settings.artefacts_home, settings.validation)
    validator = Validator.default(settings.artefacts_home)
    profiles = sorted({settings.pipeline.default_profile, *settings.routing.profiles})
    if compile_rules:
        validator.warm(profiles)
    else:
        for profile in profiles:
            for doc_type in validator.profile(profile).rules:
                validator.artefact_paths(profile, doc_type)
    return validator


def load_signer(settings: Settings) -> Any:
    """The XAdES signer from the configured key and certificate, or ``None``."""
    if not settings.pipeline.sign or settings.signing.key is None or settings.signing.cert is None:
        return None
    from gateway.signing import XadesSigner

    try:
        return XadesSigner.from_files(
            key=settings.signing.key, cert=settings.signing.cert, chain=list(settings.signing.chain)
        )
    except LingangError:
        raise
    except Exception as exc:
        raise ConfigError(f"cannot load the signing key: {exc}", field="signing") from exc


def load_body_signer(settings: Settings) -> BodySigner | None:
    """The detached-JWS signer for transport bodies (same key as documents), or ``None``."""
    if settings.signing.key is None:
        return None
    from adapters.https.jws import DetachedJwsSigner

    return DetachedJwsSigner.from_files(settings.signing.key, settings.signing.cert)


def load_partners(settings: Settings) -> Any:
    """The partner directory from ``settings.pipeline.partners``, or ``None``."""
    if settings.pipeline.partners is None:
        return None
    from gateway.partners import PartnerDirectory

    return PartnerDirectory.load(settings.pipeline.partners)


def _redact(url: str) -> str:
    """A store URL without its password, for logs."""
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}"

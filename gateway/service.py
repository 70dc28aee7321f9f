"""Service wiring: from :class:`~gateway.settings.Settings` to the live handles a process uses.

``open_services(settings)`` opens the store (and migrates it), loads the stages' tools once
(validator, signer, partner directory), builds every configured adapter (one that cannot load
stops start-up with :class:`~gateway.errors.ConfigError`), and registers the job kinds:

=============  ==========================================================================
kind           what runs it
=============  ==========================================================================
``process``    :class:`~gateway.jobs.ProcessKind`: the submission's flow, then the route
``deliver``    :class:`~gateway.delivery.DeliverKind`: the stored envelope to its adapter
``receive``    :class:`~gateway.delivery.ReceiveKind`: the inbound flow on a received message
``transfer``   :class:`~gateway.delivery.TransferKind`: an eBL envelope transfer (DCSA PINT)
=============  ==========================================================================

The HTTP API (``gateway.api.create_app(services)``), the workers and the CLI all take a
:class:`Services`; ``await services.close()`` releases it all. Typical use::

    settings = Settings.load("lingang.toml")
    services = await open_services(settings)
    try:
        submission, created = await services.submissions.submit(
            tenant_id, body, content_type="application/xml", filename="f.xml",
            metadata={}, idempotency_key="abc")
    finally:
        await services.close()
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from adapters.base import AdapterContext, BodySigner
from gateway.delivery import (
    AdapterRegistry,
    DeliverKind,
    ReceiveKind,
    Router,
    RoutingPlanner,
    StoreInbound,
    TransferKind,
)
from gateway.flows import Tools, ToolsSpec, load_tools
from gateway.jobs import (
    CircuitBreaker,
    FlowRunner,
    JobKinds,
    ProcessFlowRunner,
    ProcessKind,
    RetryPolicy,
    Submissions,
    ThreadFlowRunner,
    Worker,
    WorkerPool,
    default_worker_id,
)
from gateway.private_files import private_dir
from gateway.settings import Settings
from gateway.store import Store, open_store

__all__ = ["Services", "Settings", "open_services", "tools_spec"]

log = logging.getLogger("lingang.service")

WARM_PROFILES = ("pint-sg", "pint", "bis3")
"""UBL profiles compiled in the background when a process starts (the configured ones are
compiled before start-up finishes)."""


@dataclass(slots=True)
class Services:
    """Everything a gateway process shares: one per process, closed once."""

    settings: Settings
    store: Store
    submissions: Submissions
    adapters: AdapterRegistry
    kinds: JobKinds
    runner: FlowRunner
    tools: Tools
    inbound: StoreInbound
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

    def worker_pool(self, count: int, *, prefix: str = "") -> WorkerPool:
        """``count`` workers over this process's store and job kinds; the pool's start also
        queues processing for orphaned submissions."""
        section = self.settings.worker
        policy = RetryPolicy(
            base_seconds=section.retry_base_seconds,
            cap_seconds=section.retry_cap_seconds,
            max_attempts=section.max_attempts,
        )
        breaker = CircuitBreaker(
            self.store,
            failure_threshold=section.breaker_failures,
            cooldown_seconds=section.breaker_cooldown_seconds,
            memory_seconds=section.breaker_memory_seconds,
        )
        workers = [
            Worker(
                self.store,
                self.kinds,
                worker_id=default_worker_id(index, prefix),
                concurrency=section.concurrency,
                lease_seconds=section.lease_seconds,
                poll_seconds=section.poll_seconds,
                policy=policy,
                breaker=breaker,
            )
            for index in range(count)
        ]
        return WorkerPool(workers, on_start=self.submissions.recover_orphans)

    async def close(self) -> None:
        """Close adapters, the flow runner and the store. Idempotent."""
        if self._closed:
            return
        self._closed = True
        await self.adapters.aclose()
        self.runner.close()
        await self.store.close()


def tools_spec(settings: Settings) -> ToolsSpec:
    """What the stages load, as plain data (also what a stage process receives)."""
    pipeline = settings.pipeline
    profiles = (pipeline.default_profile, *settings.routing.profiles)
    return ToolsSpec(
        artefacts_dir=settings.artefacts_home if pipeline.validate else None,
        engine=settings.validation,
        signing_key=settings.signing.key if pipeline.sign else None,
        signing_cert=settings.signing.cert if pipeline.sign else None,
        signing_chain=settings.signing.chain,
        partners_file=pipeline.partners,
        default_profile=pipeline.default_profile,
        max_body_bytes=settings.limits.max_body_bytes,
        strict=pipeline.strict,
        profiles=tuple(dict.fromkeys(profiles)),
        warm_profiles=tuple(dict.fromkeys((*profiles, *WARM_PROFILES))),
    )


async def open_services(settings: Settings, *, store: Store | None = None) -> Services:
    """Open everything the settings describe (``store`` may be given already opened)."""
    private_dir(settings.data_dir)
    spec = tools_spec(settings)
    in_children = settings.pipeline.stage_processes > 0
    tools = load_tools(spec, compile_rules=not in_children)
    opened = store if store is not None else await open_store(settings.store.url)
    inbound = StoreInbound(opened)
    context = AdapterContext(
        data_dir=settings.data_dir,
        body_signer=load_body_signer(settings),
        tls_cert=settings.server.tls_cert,
        tls_key=settings.server.tls_key,
        inbound=inbound,
        max_body_bytes=settings.limits.max_body_bytes,
        store=opened,
    )
    registry = AdapterRegistry.build(settings.adapters, context)
    router = Router(settings.routing, registry.names())
    runner: FlowRunner = (
        ProcessFlowRunner(settings.pipeline.stage_processes, spec)
        if in_children
        else ThreadFlowRunner(tools)
    )
    runner.warm(spec.warm_profiles)
    kinds = JobKinds(
        [
            ProcessKind(opened, runner, RoutingPlanner(router, registry)),
            DeliverKind(opened, registry),
            ReceiveKind(opened, runner, registry, hand_on=settings.routing.inbound),
            TransferKind(opened, registry),
        ]
    )
    log.info(
        "services open",
        extra={"store": _redact(settings.store.url), "adapters": registry.names()},
    )
    return Services(
        settings=settings,
        store=opened,
        submissions=Submissions(opened, tools),
        adapters=registry,
        kinds=kinds,
        runner=runner,
        tools=tools,
        inbound=inbound,
    )


def load_body_signer(settings: Settings) -> BodySigner | None:
    """The detached-JWS signer for transport bodies (same key as documents), or ``None``."""
    if settings.signing.key is None:
        return None
    from gateway.signing.jws import DetachedJwsSigner

    return DetachedJwsSigner.from_files(settings.signing.key, settings.signing.cert)


def _redact(url: str) -> str:
    """A store URL without its password, for logs."""
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}"

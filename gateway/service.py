"""Service wiring: from :class:`~gateway.settings.Settings` to the live handles a process uses.

``open_services(settings)`` opens the store (and migrates it), loads the stages' tools once
(validator, signer, partner directory), builds every configured adapter (one that cannot load
stops start-up with :class:`~gateway.errors.ConfigError`), and registers the job kinds:

================  ========================================================================
kind              what runs it
================  ========================================================================
``process``       :class:`~gateway.jobs.ProcessKind`: the submission's flow, then the route
``deliver``       :class:`~gateway.delivery.DeliverKind`: the stored envelope to its adapter
``receive``       :class:`~gateway.delivery.ReceiveKind`: the inbound flow on a received message
``release``       :class:`~gateway.jobs.gate.ReleaseKind`: a released document's ledger entry
                  and delivery job (the export gate)
``report``        :class:`~gateway.delivery.peppol_reports.ReportKind`: the monthly Peppol
                  reports (registered, and scheduled, when ``[peppol] seat_id`` is set)
``transfer``      :class:`~gateway.delivery.TransferKind`: an eBL envelope transfer (DCSA PINT)
``housekeeping``  :class:`~gateway.jobs.housekeeping.HousekeepingKind`: hourly, forgets
                  idempotency keys past ``[limits] idempotency_hours`` and prunes by
                  ``[retention]`` (queued when a worker pool starts)
================  ========================================================================

Outbound documents pass the export gate: ``ProcessKind`` finishes them through the export
ledger (:class:`~gateway.jobs.gate.ExportGate` over :class:`~gateway.store.ledger.LedgerStore`),
which signs a ledger checkpoint with the gateway's key every ``[policy] checkpoint_every``
entries.

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
import re
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from adapters.base import AdapterContext, BodySigner, Receiving
from gateway.delivery import (
    AdapterRegistry,
    DeliverKind,
    ReceiveKind,
    Router,
    RoutingPlanner,
    StoreInbound,
    TransferKind,
)
from gateway.delivery.peppol_duties import PeppolDuties
from gateway.delivery.peppol_recording import LocalParticipants, PeppolRecorder
from gateway.errors import ConfigError
from gateway.flows import Tools, ToolsSpec, load_tools
from gateway.jobs import (
    CircuitBreaker,
    FlowRunner,
    HandedOutputs,
    IngestHandOffs,
    JobKinds,
    ProcessFlowRunner,
    ProcessKind,
    ReceivedSubmissions,
    RetryPolicy,
    Submissions,
    ThreadFlowRunner,
    Worker,
    WorkerPool,
    default_worker_id,
)
from gateway.jobs.gate import (
    ExportGate,
    HeldDocuments,
    ReleaseKind,
    Sign,
    TransferGate,
    jws_checkpoint_signer,
)
from gateway.jobs.housekeeping import HousekeepingKind, schedule_housekeeping
from gateway.jobs.metrics import JobMetrics
from gateway.private_files import private_dir
from gateway.render.mls import spis_participant
from gateway.settings import Settings
from gateway.signing.expiry import WatchedCertificate
from gateway.signing.gateway_key import TokenKey
from gateway.signing.reporting_key import DEFAULT_KEY_FILE, load_reporting_key
from gateway.store import Store, open_store
from gateway.store.ebl import EblRegistry
from gateway.store.ledger import LedgerStore
from gateway.store.retention import RetentionPolicy

__all__ = ["Services", "Settings", "check_assurance", "open_services", "tools_spec"]

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
    ledger: LedgerStore | None = None
    """The export gate's store (ledger, counts, holds)."""
    holds: HeldDocuments | None = None
    """Releases held documents on a tenant's behalf (the operator console uses it)."""
    hand_offs: IngestHandOffs = field(default_factory=IngestHandOffs)
    """The workers of this process new submissions' processing is handed to at ingest."""
    started_at: float = field(default_factory=time.time)
    job_metrics: JobMetrics = field(default_factory=JobMetrics)
    """What this process's workers did (``lingang_jobs_total``, ...), in its own registry:
    served at ``/metrics`` beside the API's families and by the ops listener."""
    certificates: tuple[WatchedCertificate, ...] = ()
    """The certificates this process presents or signs with, by role (TLS server, signing,
    each adapter's own): their expiry is at ``/metrics`` and ``/healthz``."""
    draining: bool = False
    """Set once the process has begun to shut down (SIGTERM): ``/readyz`` answers 503 at
    once, so load balancers stop sending while the workers finish their jobs; ``/livez``
    stays 200 until the process exits."""
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
                metrics=self.job_metrics,
            )
            for index in range(count)
        ]
        self.job_metrics.watch(workers)
        for worker in workers:
            self.hand_offs.add(worker)
        return WorkerPool(workers, on_start=self._on_pool_start)

    async def _on_pool_start(self) -> None:
        """What a worker pool does once it starts: queue the processing of orphaned
        submissions and the current hour's ``housekeeping`` job."""
        try:
            await self.submissions.recover_orphans()
        finally:  # a store hiccup there must not leave the hour without its housekeeping
            await schedule_housekeeping(self.store, self.store.clock())

    async def close(self) -> None:
        """Close adapters, the flow runner and the store. Idempotent."""
        if self._closed:
            return
        self._closed = True
        await self.adapters.aclose()
        self.runner.close()
        await self.store.close()


def retention_policy(settings: Settings) -> RetentionPolicy:
    """What ``[retention]`` lets the housekeeping job (and ``lingang prune``) delete."""
    kept = settings.retention
    return RetentionPolicy(kept.jobs_days, kept.documents_days, kept.receipts_days)


def tools_spec(settings: Settings) -> ToolsSpec:
    """What the stages load, as plain data (also what a stage process receives)."""
    pipeline = settings.pipeline
    profiles = (pipeline.default_profile, *settings.routing.profiles)
    return ToolsSpec(
        artefacts_dir=settings.artefacts_home if pipeline.validate else None,
        engine=settings.validation,
        signing_key=settings.signing.key if pipeline.sign else None,
        signing_token=signing_token(settings) if pipeline.sign else None,
        signing_cert=settings.signing.cert if pipeline.sign else None,
        signing_chain=settings.signing.chain,
        partners_file=pipeline.partners,
        default_profile=pipeline.default_profile,
        max_body_bytes=settings.limits.max_body_bytes,
        strict=pipeline.strict,
        profiles=tuple(dict.fromkeys(profiles)),
        warm_profiles=tuple(dict.fromkeys((*profiles, *WARM_PROFILES))),
        policy_file=settings.policy.file,
        subject_key_file=settings.policy.subject_key or settings.data_dir / "keys" / "subject.key",
        subject_key_from=settings.signing.key if settings.policy.subject_key is None else None,
        vc_key=settings.signing.vc_key,
        vc_did=settings.signing.vc_did,
        token_registry=settings.signing.token_registry,
        identity_dns=settings.signing.identity_dns,
        token_chain_id=settings.signing.token_chain_id,
        subject_key_env=settings.policy.subject_key_env,
        subject_key_id=settings.policy.subject_key_id,
        subject_key_pkcs11=(
            (
                settings.policy.subject_key_pkcs11,
                settings.policy.subject_key_token,
                settings.policy.subject_key_label,
            )
            if settings.policy.subject_key_pkcs11 is not None
            else None
        ),
    )


async def open_services(settings: Settings, *, store: Store | None = None) -> Services:
    """Open everything the settings describe (``store`` may be given already opened).

    Refuses to start (:class:`~gateway.errors.ConfigError`) when signing is on without a key
    and certificate; logs a warning when the operator turned validation or signing off."""
    check_assurance(settings)
    private_dir(settings.data_dir)
    spec = tools_spec(settings)
    in_children = settings.pipeline.stage_processes > 0
    tools = load_tools(spec, compile_rules=not in_children)
    opened = store
    if opened is None:
        idle = settings.store.idle_transaction_seconds
        opened = await open_store(settings.store.url, idle_transaction_seconds=idle)
    await warn_left_rows(opened)
    duties = peppol_duties(settings, opened)
    warn_shared_hand_on(settings, receiving_tenants(settings, duties.participants))
    try:
        await check_receiving_tenants(opened, settings, duties.participants)
    except ConfigError:
        if store is None:
            await opened.close()
        raise
    inbound = StoreInbound(opened, participants=duties.participants, duties=duties.duties)
    context = AdapterContext(
        data_dir=settings.data_dir,
        body_signer=load_body_signer(settings),
        tls_cert=settings.server.tls_cert,
        tls_key=settings.server.tls_key,
        inbound=inbound,
        max_body_bytes=settings.limits.max_body_bytes,
        store=opened,
        artefacts_home=settings.artefacts_home,
        export_gate=TransferGate(tools.policy, tools.subject_key, clock=opened.clock),
    )
    registry = AdapterRegistry.build(settings.adapters, context)
    await warn_unknown_operators(opened, registry)
    warn_unclaimed_receiving(settings, registry, duties.participants)
    await warn_unknown_hand_on_tenants(opened, settings)
    peppol = [name for name, adapter in settings.adapters.items() if adapter.type == "peppol"]
    router = Router(settings.routing, registry.names(), peppol=peppol)
    runner: FlowRunner = (
        ProcessFlowRunner(settings.pipeline.stage_processes, spec, pin=settings.pipeline.stage_pin)
        if in_children
        else ThreadFlowRunner(tools)
    )
    runner.warm(spec.warm_profiles)
    ledger = LedgerStore(opened.connector, clock=opened.clock)
    gate = ExportGate(
        ledger,
        sign=checkpoint_signer(settings),
        checkpoint_every=settings.policy.checkpoint_every,
        anchor=settings.policy.anchor_path(settings.data_dir),
    )
    handed = HandedOutputs()
    received = ReceivedSubmissions()
    hand_offs = IngestHandOffs()
    kinds = JobKinds(
        [
            ProcessKind(
                opened,
                runner,
                RoutingPlanner(router, registry),
                gate=gate,
                hand_off_seconds=settings.worker.lease_seconds,
                handed=handed,
                received=received,
            ),
            DeliverKind(opened, registry, handed, recorder=duties.recorder),
            ReceiveKind(
                opened,
                runner,
                registry,
                hand_on=settings.routing.inbound,
                hand_on_tenants=settings.routing.inbound_tenants,
                peppol=duties.duties,
                max_attempts=settings.worker.max_attempts,
            ),
            ReleaseKind(gate, tools.policy, store=opened),
            TransferKind(opened, registry),
            HousekeepingKind(
                opened,
                idempotency_hours=settings.limits.idempotency_hours,
                retention=retention_policy(settings),
            ),
        ]
    )
    if settings.peppol.seat_id:
        await _peppol_reporting(settings, opened, kinds, tools)
    await announce_hold_deciders(settings, opened)
    log.info(
        "services open",
        extra={"store": _redact(settings.store.url), "adapters": registry.names()},
    )
    certificates = watched_certificates(settings, registry)
    warn_expiring(certificates, settings.ops.certificate_warn_days)
    job_metrics = JobMetrics()
    if isinstance(runner, ProcessFlowRunner):
        job_metrics.watch_stages(lambda: runner.stage_processes)
    return Services(
        settings=settings,
        job_metrics=job_metrics,
        store=opened,
        submissions=Submissions(opened, tools, received, hand_offs),
        adapters=registry,
        kinds=kinds,
        runner=runner,
        tools=tools,
        inbound=inbound,
        ledger=ledger,
        holds=HeldDocuments(ledger),
        hand_offs=hand_offs,
        certificates=certificates,
    )


def watched_certificates(
    settings: Settings, registry: AdapterRegistry
) -> tuple[WatchedCertificate, ...]:
    """The certificates to watch: ``server-tls`` (``[server] tls_cert``), ``signing`` (the
    gateway's signing certificate, also of a PKCS#12 key) and ``adapter:<name>:<what>`` for
    each adapter that names its own (``certificates()``; a Peppol AP's ``ap``, a PINT
    platform's ``signing``) or those of partners it trusts (``trusted_certificates()``; a
    PINT partner's ``partner:<code>:<n>``). One that
    cannot be read is left out with a warning: start-up is the stages' and the listener's
    to refuse."""
    from gateway.signing.expiry import pem_leaf

    found: list[WatchedCertificate] = []
    tls = settings.server.tls_cert
    readers: list[tuple[str, Callable[[], x509.Certificate | None]]] = [
        ("server-tls", lambda: None if tls is None else pem_leaf(tls, field="server.tls_cert")),
        ("signing", lambda: _signing_certificate(settings)),
    ]
    for role, read in readers:
        try:
            certificate = read()
        except ConfigError as exc:
            log.warning("certificate %s not watched: %s", role, exc.message)
            continue
        if certificate is not None:
            found.append(WatchedCertificate.of(role, certificate))
    for name in registry.names():
        adapter = registry.get(name)
        for method, trusted in (("certificates", False), ("trusted_certificates", True)):
            listed = getattr(adapter, method, None)
            if callable(listed):
                for what, certificate in listed().items():
                    role = f"adapter:{name}:{what}"
                    found.append(WatchedCertificate.of(role, certificate, trusted=trusted))
    return tuple(found)


def _signing_certificate(settings: Settings) -> x509.Certificate | None:
    """The gateway's signing certificate (``[signing] cert``, also of a key in a token, or a
    PKCS#12 key's), or ``None`` without one."""
    signing = settings.signing
    if signing.key is None and signing.pkcs11 is None:
        return None
    from gateway.signing.expiry import pem_leaf

    if signing.cert is not None:
        return pem_leaf(signing.cert, field="signing.cert")
    from gateway.signing.gateway_key import is_pkcs12, load_gateway_key

    if signing.key is None or not is_pkcs12(signing.key):
        return None
    return load_gateway_key(signing.key, None, signing.chain).certificate


def warn_expiring(certificates: Collection[WatchedCertificate], warn_days: float) -> list[str]:
    """Log, at start, each certificate expired or expiring within ``warn_days``; the lines."""
    from datetime import UTC, datetime

    from gateway.signing.expiry import needing_attention

    now = datetime.now(UTC)
    due = needing_attention(certificates, now, warn_days)
    for watched in due:
        if watched.trusted:
            log.warning(
                "certificate %s: a partner's; ask that partner for its renewed certificate",
                watched.describe(now),
            )
        else:
            log.warning(
                "certificate %s: renew it before it stops the gateway's traffic",
                watched.describe(now),
            )
    return [w.describe(now) for w in due]


async def warn_left_rows(store: Store) -> list[str]:
    """Name, at every start, the eBL registry rows a migration could not map without guessing
    and left as it found them (e.g. a surrender recorded as final under the old rule whose
    chain the current title rules refuse), until someone changes them; the lines logged."""
    lines = [row.describe() for row in await EblRegistry.of(store).left_by_migrations()]
    for line in lines:
        log.warning(
            "eBL registry row left as an older gateway wrote it, not migrated: %s. It keeps "
            "its old state; see ebl_title_migrations for what it was and decide by hand",
            line,
        )
    return lines


def warn_shared_hand_on(settings: Settings, receiving: Collection[str]) -> list[str]:
    """Name, at start, the tenants whose received documents all go to the one ``[routing]
    inbound`` adapter when several tenants receive (``receiving``: ``[peppol]
    local_participants`` and the inboxes' ``inbound_tenant``): that adapter's local system
    then gets every one of those firms' documents, unless ``[routing.inbound_tenants]``
    gives each its own; the tenants named (none: no warning)."""
    routing = settings.routing
    if routing.inbound is None:
        return []
    shared = sorted(set(receiving) - set(routing.inbound_tenants))
    if len(shared) < 2:
        return []
    log.warning(
        "received documents of tenants %s all go to the adapter %r ([routing] inbound): "
        "that local system gets each of these firms' documents. Give each tenant its own "
        'in [routing.inbound_tenants] ("<tenant id>" = "<adapter>")',
        ", ".join(shared),
        routing.inbound,
    )
    return shared


async def warn_unknown_hand_on_tenants(store: Store, settings: Settings) -> list[str]:
    """Name, at start, each key of ``[routing.inbound_tenants]`` that is no tenant's id (a
    tenant's name written there, say): no received document carries it, so that tenant's
    documents go to ``[routing] inbound`` (or nowhere) instead of its own adapter; the ids
    named."""
    unknown = [
        tenant_id
        for tenant_id in sorted(settings.routing.inbound_tenants)
        if await store.get_tenant(tenant_id) is None
    ]
    for tenant_id in unknown:
        log.warning(
            "[routing.inbound_tenants] names %r, which is no tenant's id: its adapter %r gets "
            "nothing until it names one (tenant ids, not names, as `lingang tenants list` "
            "prints them)",
            tenant_id,
            settings.routing.inbound_tenants[tenant_id],
        )
    return unknown


async def check_receiving_tenants(
    store: Store, settings: Settings, participants: LocalParticipants
) -> None:
    """Refuse to start (:class:`ConfigError` naming the setting and its value) when ``[peppol]
    local_participants`` gives a participant to a tenant id no tenant has, or an adapter's
    ``inbound_tenant`` names one. Tenants are named by id there, as in
    ``[routing.inbound_tenants]`` (names are not unique, ids are). A tenant's name written
    instead would route that participant's documents to no firm that can read them, and an
    inbox's documents could not be stored at all (every sender answered with a conflict it
    did not cause). When the value is a tenant's name, the error gives that tenant's id."""
    entries = [
        _TenantSetting(
            tenant_id, "peppol.local_participants", f"{tenant_id}={participant}", f"={participant}"
        )
        for participant, tenant_id in sorted(participants.tenants.items())
    ]
    entries += [
        _TenantSetting(tenant, f"adapters.{name}.inbound_tenant", tenant)
        for name, tenant in _inbox_tenants(settings)
    ]
    for entry in entries:
        if await store.get_tenant(entry.tenant_id) is not None:
            continue
        ids = [t.id for t in await store.list_tenants() if t.name == entry.tenant_id]
        hint = (
            f"; {entry.tenant_id!r} is the name of the tenant with id {ids[0]!r}: write "
            f"{ids[0] + entry.suffix!r}"
            if len(ids) == 1
            else "; create the tenant first (lingang tenants add NAME) and write its id, as "
            "`lingang tenants list` prints it"
        )
        raise ConfigError(
            f"{entry.field} {entry.value!r} names {entry.tenant_id!r}, which is no tenant's "
            f"id{hint}",
            field=entry.field,
        )


@dataclass(frozen=True, slots=True)
class _TenantSetting:
    """A setting's value that names a tenant by id: the id, the setting (its field), the
    value as written, and what follows the id in it (a local participant's ``=scheme:id``)."""

    tenant_id: str
    field: str
    value: str
    suffix: str = ""


def receiving_tenants(settings: Settings, participants: LocalParticipants) -> set[str]:
    """The tenants documents are received for: those ``participants`` (``[peppol]
    local_participants``, as parsed at start) name and those of the adapters'
    ``inbound_tenant`` options (a received Message Level Status goes to the tenant whose
    document it answers, and is never handed on)."""
    return {*participants.tenants.values(), *(tenant for _, tenant in _inbox_tenants(settings))}


def _inbox_tenants(settings: Settings) -> list[tuple[str, str]]:
    """``(adapter, tenant id)`` for each adapter whose ``inbound_tenant`` names a tenant."""
    return [
        (name, tenant)
        for name, adapter in sorted(settings.adapters.items())
        if isinstance(tenant := adapter.options.get("inbound_tenant"), str) and tenant
    ]


async def warn_unknown_operators(store: Store, registry: AdapterRegistry) -> list[str]:
    """Name, at start, each id in an eBL platform adapter's ``tenants`` that is no tenant's
    id (a tenant's name written there, say): no key can use ``/v1/ebls`` for it, and the API
    answers its tenant 404; the lines logged."""
    lines = []
    for name in registry.names():
        options = getattr(getattr(registry.get(name), "platform", None), "options", None)
        for tenant_id in sorted(getattr(options, "tenants", ())):
            if await store.get_tenant(tenant_id) is None:
                lines.append(f"adapter {name!r}: tenants names {tenant_id!r}")
    for line in lines:
        log.warning(
            "%s, which is no tenant's id: /v1/ebls answers 404 until it names one (tenant ids, "
            "not names, as `lingang tenants list` prints them)",
            line,
        )
    return lines


def warn_unclaimed_receiving(
    settings: Settings, registry: AdapterRegistry, participants: LocalParticipants
) -> list[str]:
    """Name, at start, each Peppol adapter that receives (an AS4 endpoint) while ``[peppol]
    local_participants`` names no participant: it then takes documents for any receiver
    (none is refused ``PEPPOL:NOT_SERVICED``, as the Peppol AS4 profile has an access point
    do for a participant it does not serve), and they belong to no tenant (only
    ``lingang received --unclaimed`` shows them); the adapters named."""
    if participants.tenants:
        return []
    receiving = []
    for name, config in settings.adapters.items():
        adapter = registry.get(name)
        if config.type == "peppol" and isinstance(adapter, Receiving) and adapter.inbound_routes():
            receiving.append(name)
    for name in receiving:
        log.warning(
            "adapter %r receives over AS4 for any participant: [peppol] local_participants "
            "names none, so no receiver is refused as not serviced and no tenant sees what "
            "arrives (`lingang received --unclaimed` lists it). Name each participant with its "
            'tenant: local_participants = ["<tenant id>=<scheme>:<value>"]',
            name,
        )
    return receiving


def check_token_settings(settings: Settings) -> None:
    """``[signing] pkcs11`` is complete: the library exists, the token and key labels and the
    key's ``cert`` are given, and ``[signing] key`` is not set as well (one key signs);
    :class:`ConfigError` naming the setting otherwise. The token itself is opened when the
    signers are loaded."""
    signing = settings.signing
    module = signing.pkcs11
    assert module is not None
    problems = [
        ("key", signing.key is not None, "is set as well: give the key file or the token"),
        ("pkcs11", not module.is_file(), f"names {module}, which does not exist"),
        ("pkcs11_token", not signing.pkcs11_token, "is not set: the token's label"),
        ("pkcs11_label", not signing.pkcs11_label, "is not set: the key's label on the token"),
        ("cert", signing.cert is None, "is not set: the certificate of the key on the token"),
    ]
    for name, failed, why in problems:
        if failed:
            raise ConfigError(
                f"[signing] pkcs11 keeps the signing key in a token, but [signing] {name} {why}",
                field=f"signing.{name}",
                rule="signing.key-required",
            )
    assert signing.cert is not None
    if not signing.cert.is_file():
        raise ConfigError(
            f"[signing] cert names {signing.cert}, which does not exist",
            field="signing.cert",
            rule="signing.key-missing",
        )


def check_assurance(settings: Settings) -> None:
    """Signing on (the default) needs ``[signing] key`` and ``cert`` (a PKCS#12 key brings
    its certificate, so ``cert`` may then be left unset): without them the
    gateway would deliver unsigned documents, so it refuses to start, naming the setting.
    Validation or signing off is the operator's explicit choice (``[pipeline] validate`` /
    ``sign = false``, or ``LINGANG_VALIDATE`` / ``LINGANG_SIGN``; no API client can ask for
    it): logged here at start-up, and marked on every document it affects."""
    pipeline, signing = settings.pipeline, settings.signing
    if pipeline.sign and signing.pkcs11 is not None:
        check_token_settings(settings)
    elif pipeline.sign:
        from gateway.signing.gateway_key import is_pkcs12

        required = [("key", signing.key, "LINGANG_SIGNING_KEY")]
        if signing.key is None or not is_pkcs12(signing.key):
            required.append(("cert", signing.cert, "LINGANG_SIGNING_CERT"))
        for name, value, variable in required:
            if value is None:
                raise ConfigError(
                    f"signing is on ([pipeline] sign = true, the default) but [signing] {name} "
                    f"is not set ({variable}): documents would go out unsigned. Configure the "
                    f"gateway's signing {name}, or turn signing off explicitly with "
                    "[pipeline] sign = false",
                    field=f"signing.{name}",
                    rule="signing.key-required",
                )
            if not value.is_file():
                raise ConfigError(
                    f"[signing] {name} ({variable}) names {value}, which does not exist: "
                    "point it at the gateway's signing "
                    f"{'key' if name == 'key' else 'certificate'} (to try the gateway, "
                    "`lingang keys test-pki FOLDER` makes a throw-away one)",
                    field=f"signing.{name}",
                    rule="signing.key-missing",
                )
    else:
        log.warning(
            "signing is OFF ([pipeline] sign = false): documents are delivered unsigned, "
            "each marked 'signed: false' in its history"
        )
    if not pipeline.validate:
        log.warning(
            "validation is OFF ([pipeline] validate = false): documents are delivered without "
            "the official rules, each marked 'validated: false' in its history"
        )


async def announce_hold_deciders(settings: Settings, store: Store) -> None:
    """Say at start-up who can decide the export gate's held documents: with ``[policy]
    submitter_decisions`` every tenant's own key (a warning: the key that submits a document
    releases it); otherwise officers' keys, and when there is none, that only the command
    line on this host can (held documents wait until then)."""
    if settings.policy.submitter_decisions:
        log.warning(
            "[policy] submitter_decisions = true: any API key of a tenant releases and refuses "
            "that tenant's held documents, including the key that submitted them. Issue "
            "officer keys (lingang tenants add-key NAME --role officer) and turn it off"
        )
        return
    if await store.count_officer_keys() == 0:
        log.warning(
            "no compliance officer is configured: no API key has the officer role, so held "
            "documents can be released or refused only with `lingang policy release` / "
            "`lingang policy refuse` on this host. Issue one per tenant with: lingang tenants "
            "add-key NAME --role officer (or, to let tenants' submitting keys decide as before, "
            "[policy] submitter_decisions = true)"
        )


@dataclass(frozen=True, slots=True)
class PeppolParts:
    """The access point's pieces the kinds and the inbound sink take (``None``: not an
    access point, ``[peppol] seat_id`` unset)."""

    participants: LocalParticipants
    recorder: PeppolRecorder | None = None
    duties: PeppolDuties | None = None


def peppol_duties(settings: Settings, store: Store) -> PeppolParts:
    """Local participants, the reporting recorder and the MLS duties from ``[peppol]``."""
    peppol = settings.peppol
    participants = LocalParticipants.parse(peppol.local_participants)
    if not peppol.seat_id:
        return PeppolParts(participants)
    if not re.fullmatch(r"P[A-Z]{2}[0-9]{6}", peppol.seat_id):
        raise ConfigError(
            f"[peppol] seat_id {peppol.seat_id!r} is not a Peppol seat id (PXX000000)",
            field="peppol.seat_id",
        )
    key = load_reporting_key(peppol.reporting_key or settings.data_dir / DEFAULT_KEY_FILE)
    recorder = PeppolRecorder(
        store,
        key=key,
        seat_id=peppol.seat_id,
        transport_profile=peppol.transport_profile,
        local_country=peppol.local_country,
    )
    duties = PeppolDuties(
        store, seat_id=peppol.seat_id, recorder=recorder, tenant_id=peppol.report_tenant
    )
    if participants.tenants:  # MLS come addressed to our own SPIS id
        own = spis_participant(peppol.seat_id).lower()
        participants = LocalParticipants(participants.tenants, own=frozenset({own}))
    return PeppolParts(participants, recorder, duties)


async def _peppol_reporting(
    settings: Settings, store: Store, kinds: JobKinds, tools: Tools
) -> None:
    """Register the ``report`` kind and queue the report jobs due now (idempotent)."""
    from gateway.delivery.peppol_reports import ReportKind, ReportSettings, schedule_reports

    peppol = settings.peppol
    report = ReportSettings(
        peppol.seat_id, peppol.report_tenant, peppol.report_receiver, peppol.report_until_day
    )
    kinds.register(ReportKind(store, lambda: tools.validator, report))
    await schedule_reports(store, store.clock(), until_day=peppol.report_until_day)


def signing_token(settings: Settings) -> TokenKey | None:
    """Where ``[signing] pkcs11`` keeps the gateway's key, or ``None`` (a key file)."""
    signing = settings.signing
    if signing.pkcs11 is None:
        return None
    return TokenKey(signing.pkcs11, signing.pkcs11_token, signing.pkcs11_label)


def load_body_signer(settings: Settings) -> BodySigner | None:
    """The detached-JWS signer for transport bodies (same key as documents), or ``None``."""
    from gateway.signing.gateway_key import (
        is_pkcs12,
        load_gateway_key,
        load_private_key,
        load_token_key,
    )
    from gateway.signing.jws import DetachedJwsSigner, ProviderJwsSigner, b64url

    token = signing_token(settings)
    if token is not None:
        return ProviderJwsSigner(
            load_token_key(token, settings.signing.cert, settings.signing.chain)
        )
    key = settings.signing.key
    if key is None:
        return None
    if settings.signing.cert is None and not is_pkcs12(key):
        return DetachedJwsSigner(load_private_key(key))
    provider = load_gateway_key(key, settings.signing.cert, settings.signing.chain)
    thumbprint = b64url(provider.certificate.fingerprint(hashes.SHA256()))
    return DetachedJwsSigner(provider.private_key, thumbprint)


def checkpoint_signer(settings: Settings) -> Sign | None:
    """Signs export-ledger checkpoints with the gateway's key and certificate (a PKCS#12
    key brings its own; a key in a token signs there), or ``None`` without them."""
    from gateway.signing.gateway_key import is_pkcs12, load_gateway_key, load_token_key
    from gateway.signing.jws import DetachedJwsSigner, ProviderJwsSigner, b64url

    token = signing_token(settings)
    if token is not None and settings.signing.cert is not None:
        held = load_token_key(token, settings.signing.cert, settings.signing.chain)
        return jws_checkpoint_signer(
            ProviderJwsSigner(held), settings.signing.cert.read_text(encoding="ascii")
        )
    key = settings.signing.key
    if key is None:
        return None
    if settings.signing.cert is None and not is_pkcs12(key):
        return None
    provider = load_gateway_key(key, settings.signing.cert, settings.signing.chain)
    thumbprint = b64url(provider.certificate.fingerprint(hashes.SHA256()))
    signer = DetachedJwsSigner(provider.private_key, thumbprint)
    cert = settings.signing.cert
    if cert is not None:
        pem = cert.read_text(encoding="ascii")
    else:
        pem = provider.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
    return jws_checkpoint_signer(signer, pem)


def _redact(url: str) -> str:
    """A store URL without its password, for logs."""
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}"

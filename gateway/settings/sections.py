"""The typed sections of the settings, one frozen dataclass per TOML table, and the table of
environment variables that override their keys."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.delivery.config import AdapterConfig as AdapterConfig
from gateway.delivery.config import Routing as Routing
from gateway.mapping.profiles import PROFILE_SPECS
from gateway.validation.options import ENGINE_CHOICES, RULES_CHOICES, EngineOptions

HOME_ENV = "LINGANG_HOME"
"""Environment variable naming the data directory (artefacts, SQLite store, keys, outputs)."""


@dataclass(frozen=True, slots=True)
class StoreSettings:
    """``[store]``: where the gateway keeps its state."""

    url: str
    """``sqlite:///PATH`` or ``postgresql://…`` (default: ``gateway.db`` in ``data_dir``)."""
    idle_transaction_seconds: float = 30.0
    """PostgreSQL: seconds a gateway session may sit idle inside a transaction before the
    server ends it (``idle_in_transaction_session_timeout``; 0: the server's own setting). A
    replica frozen or cut off mid-transaction then stops holding the rows other replicas
    need to take its jobs over (:data:`gateway.store.postgres.IDLE_TRANSACTION_SECONDS`)."""


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """``[server]``: the HTTP API listener."""

    host: str = "127.0.0.1"
    port: int = 8080
    tls_cert: Path | None = None
    """Serve HTTPS with this certificate (PEM, chain included) and ``tls_key``."""
    tls_key: Path | None = None
    client_ca: Path | None = None
    """Require client certificates issued by this CA (mutual TLS)."""
    header_timeout: float = 10.0
    """Seconds a request's head may take to arrive (trickling does not extend it)."""
    body_timeout: float = 60.0
    """Seconds a request's body may take after its head."""
    idle_timeout: float = 75.0
    """Seconds a keep-alive connection may wait for its next request."""
    max_connections: int = 1000
    """Open connections at once; more are answered 503 with Retry-After."""

    @property
    def tls_enabled(self) -> bool:
        """Whether the API listens with TLS."""
        return self.tls_cert is not None and self.tls_key is not None


@dataclass(frozen=True, slots=True)
class SigningSettings:
    """``[signing]``: the gateway's own key (signatures on documents, detached XAdES, JWS)."""

    key: Path | None = None
    """A PEM private key (may be encrypted) or a PKCS#12 file (``.p12`` / ``.pfx``); a
    protected one's password is ``LINGANG_SIGNING_PASSWORD`` (environment only)."""
    cert: Path | None = None
    """The key's certificate; optional with a PKCS#12 key (the file's is used)."""
    chain: tuple[Path, ...] = ()
    """Intermediate certificates sent along with ``cert``."""
    pkcs11: Path | None = None
    """The PKCS#11 library of an HSM or token holding the signing key, instead of ``key``:
    the key labelled ``pkcs11_label`` on the token labelled ``pkcs11_token``, with its
    ``cert``; the user PIN only in the environment variable ``LINGANG_SIGNING_PIN``. The key
    never leaves the device (the gateway hashes, the token signs)."""
    pkcs11_token: str = ""
    pkcs11_label: str = ""
    previous_certs: tuple[Path, ...] = ()
    """Certificates of keys the gateway signed with before a key rotation: ``lingang ledger
    verify`` trusts the export-ledger checkpoints they signed, beside ``cert``'s."""
    vc_key: Path | None = None
    """The W3C VC issuer key (ECDSA P-256 PEM) signing the eBL's ``tradetrust-vc`` output."""
    vc_did: str | None = None
    """The ``did:web`` publishing ``vc_key`` as ``#keys-1`` (``lingang keys did-web``)."""
    token_registry: str | None = None
    """The TradeTrust token registry (``0x`` + 40 hex digits) holding the title of the eBLs
    this gateway issues as TradeTrust documents; unset: a placeholder, with a warning."""
    identity_dns: str | None = None
    """The DNS name whose TXT record names ``token_registry`` (TradeTrust's DNS-TXT proof)."""
    token_chain_id: str | None = None
    """The chain id of the registry's network (default: a local chain, 1337)."""


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    """``[worker]``: the job loop (leases, retries, circuit breaker)."""

    count: int = 2
    """Worker loops per process (``lingang serve`` without ``--no-worker``, ``lingang worker``)."""
    concurrency: int = 8
    """Jobs each worker runs at once."""
    lease_seconds: float = 30.0
    poll_seconds: float = 0.5
    max_attempts: int = 12
    """Attempts before a job is dead-lettered."""
    retry_base_seconds: float = 2.0
    """Backoff ceiling of the first retry (doubles each time, with jitter)."""
    retry_cap_seconds: float = 600.0
    breaker_failures: int = 5
    """Transport failures in a row that open an endpoint's circuit breaker."""
    breaker_cooldown_seconds: float = 30.0
    breaker_memory_seconds: float = 2.0
    """How long a worker trusts what it last saw of an endpoint's breaker (closed and clean)
    before asking the store again; another replica's opening is seen that much later."""


@dataclass(frozen=True, slots=True)
class LimitsSettings:
    """``[limits]``: what the API accepts."""

    max_body_bytes: int = 10 * 1024 * 1024
    idempotency_hours: float = 168.0
    """How long an ``Idempotency-Key`` (``POST /v1/documents``, the eBL actions) is
    remembered: the expiry policy draft-ietf-httpapi-idempotency-key-header §2.3 asks a
    resource to publish. Once older, the key is forgotten (the submission, its document,
    receipts and ledger entries stay) and a request with it is a new request. A week
    outlasts any client's retries across a long holiday outage (the outbox itself gives up
    within hours), while keys a client reuses by its own numbering become free again.
    0: never forgotten."""


@dataclass(frozen=True, slots=True)
class PipelineSettings:
    """``[pipeline]``: what happens to a submitted document."""

    default_profile: str = "pint-sg"
    partners: Path | None = None
    """A partner directory file (tenants may upload their own)."""
    artefacts: Path | None = None
    """Where the official artefacts are installed (default: ``data_dir``)."""
    validate: bool = True
    sign: bool = True
    stage_processes: int = 0
    """Child processes running the stage table (0: one thread of the gateway process). A
    file or environment that does not say gets :func:`default_stage_processes`; this
    field's own default (0) is for settings built in code (tests)."""
    stage_pin: bool = False
    """Pin each stage process, with its Schematron JVM, to one of the gateway process's
    cores, in turn (off: the kernel places them)."""
    strict: bool = False
    """Refuse fapiao with schema findings or non-conformant identifiers (otherwise each is
    a warning in the document's history)."""


SECTIONS: Mapping[str, type] = {
    "store": StoreSettings,
    "server": ServerSettings,
    "signing": SigningSettings,
    "worker": WorkerSettings,
    "limits": LimitsSettings,
    "pipeline": PipelineSettings,
    "validation": EngineOptions,
}
"""The typed tables, by name (``adapters`` and ``routing`` have their own shape)."""

NOT_IN_FILE: Mapping[str, frozenset[str]] = {
    "validation": frozenset({"work_dir", "explicit"}),
}
"""Section fields the loader derives instead of reading (``work_dir``: the artefacts
directory; ``explicit``: whether ``engine`` was set)."""

TOP_LEVEL: Mapping[str, type] = {"data_dir": Path, "log_level": str}
"""Keys outside any table."""

ENVIRONMENT: Mapping[str, str] = {
    "data_dir": HOME_ENV,
    "log_level": "LINGANG_LOG_LEVEL",
    "store.url": "LINGANG_STORE_URL",
    "server.host": "LINGANG_HOST",
    "server.port": "LINGANG_PORT",
    "server.tls_cert": "LINGANG_TLS_CERT",
    "server.tls_key": "LINGANG_TLS_KEY",
    "server.client_ca": "LINGANG_CLIENT_CA",
    "server.header_timeout": "LINGANG_HEADER_TIMEOUT",
    "server.body_timeout": "LINGANG_BODY_TIMEOUT",
    "server.idle_timeout": "LINGANG_IDLE_TIMEOUT",
    "server.max_connections": "LINGANG_MAX_CONNECTIONS",
    "signing.key": "LINGANG_SIGNING_KEY",
    "signing.cert": "LINGANG_SIGNING_CERT",
    "signing.chain": "LINGANG_SIGNING_CHAIN",
    "signing.pkcs11": "LINGANG_SIGNING_PKCS11",
    "signing.pkcs11_token": "LINGANG_SIGNING_PKCS11_TOKEN",
    "signing.pkcs11_label": "LINGANG_SIGNING_PKCS11_LABEL",
    "signing.previous_certs": "LINGANG_SIGNING_PREVIOUS_CERTS",
    "signing.vc_key": "LINGANG_SIGNING_VC_KEY",
    "signing.vc_did": "LINGANG_SIGNING_VC_DID",
    "signing.token_registry": "LINGANG_SIGNING_TOKEN_REGISTRY",
    "signing.identity_dns": "LINGANG_SIGNING_IDENTITY_DNS",
    "signing.token_chain_id": "LINGANG_SIGNING_TOKEN_CHAIN_ID",
    "worker.count": "LINGANG_WORKERS",
    "worker.concurrency": "LINGANG_CONCURRENCY",
    "worker.lease_seconds": "LINGANG_LEASE_SECONDS",
    "worker.poll_seconds": "LINGANG_POLL_SECONDS",
    "worker.max_attempts": "LINGANG_MAX_ATTEMPTS",
    "worker.retry_base_seconds": "LINGANG_RETRY_BASE_SECONDS",
    "worker.retry_cap_seconds": "LINGANG_RETRY_CAP_SECONDS",
    "worker.breaker_failures": "LINGANG_BREAKER_FAILURES",
    "worker.breaker_cooldown_seconds": "LINGANG_BREAKER_COOLDOWN",
    "worker.breaker_memory_seconds": "LINGANG_BREAKER_MEMORY",
    "limits.max_body_bytes": "LINGANG_MAX_BODY_BYTES",
    "limits.idempotency_hours": "LINGANG_IDEMPOTENCY_HOURS",
    "pipeline.default_profile": "LINGANG_DEFAULT_PROFILE",
    "pipeline.partners": "LINGANG_PARTNERS",
    "pipeline.artefacts": "LINGANG_ARTEFACTS",
    "pipeline.validate": "LINGANG_VALIDATE",
    "pipeline.sign": "LINGANG_SIGN",
    "pipeline.stage_processes": "LINGANG_STAGE_PROCESSES",
    "pipeline.stage_pin": "LINGANG_STAGE_PIN",
    "pipeline.strict": "LINGANG_STRICT",
    "validation.engine": "LINGANG_SCHEMATRON_ENGINE",
    "validation.saxon_jar": "LINGANG_SAXON_JAR",
    "validation.java_home": "JAVA_HOME",
    "validation.jvm_threads": "LINGANG_JVM_THREADS",
    "validation.jvm_options": "LINGANG_JVM_OPTIONS",
    "validation.jvm_warm_runs": "LINGANG_JVM_WARM_RUNS",
    "validation.rules": "LINGANG_RULES",
    "policy.file": "LINGANG_POLICY",
    "policy.subject_key": "LINGANG_SUBJECT_KEY",
    "policy.subject_key_env": "LINGANG_SUBJECT_KEY_ENV",
    "policy.subject_key_id": "LINGANG_SUBJECT_KEY_ID",
    "policy.subject_key_pkcs11": "LINGANG_SUBJECT_KEY_PKCS11",
    "policy.subject_key_token": "LINGANG_SUBJECT_KEY_TOKEN",
    "policy.subject_key_label": "LINGANG_SUBJECT_KEY_LABEL",
    "policy.ledger_anchor": "LINGANG_LEDGER_ANCHOR",
    "policy.submitter_decisions": "LINGANG_SUBMITTER_DECISIONS",
}
"""The environment variable that overrides each key (dotted ``table.key``)."""

ADAPTER_ENV_PREFIX = "LINGANG_ADAPTER_"
"""``LINGANG_ADAPTER_<NAME>_<OPTION>`` sets option ``<option>`` of adapter ``<name>``."""
ROUTE_DEFAULT_ENV = "LINGANG_ROUTE_DEFAULT"

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

CHOICES: Mapping[str, tuple[str, ...]] = {
    "log_level": LOG_LEVELS,
    "validation.engine": ENGINE_CHOICES,
    "validation.rules": RULES_CHOICES,
    "pipeline.default_profile": tuple(PROFILE_SPECS),
}
"""Keys whose value must be one of a few words (compared case-insensitively)."""

AT_LEAST_ONE: frozenset[str] = frozenset({"worker.concurrency"})
"""Numeric keys for which 0 means nothing sensible: a worker with no job slot never runs a
job (it was silently given one). ``[worker] count`` is not among them: 0 is ``lingang
serve`` with no in-process workers; ``lingang worker`` refuses it itself."""


def default_stage_processes() -> int:
    """``[pipeline] stage_processes`` when not configured: with more than one CPU, one per
    CPU up to 4 (each child waits on its Schematron JVM for much of a document, so two
    children keep two cores busy beside the API and the store; measured by ``bench.e2e``),
    else 0 (a thread)."""
    cpus = os.cpu_count() or 1
    return min(cpus, 4) if cpus > 1 else 0


def default_store_url(data_dir: Path) -> str:
    """The embedded store: ``gateway.db`` in ``data_dir``."""
    return f"sqlite:///{data_dir / 'gateway.db'}"


LOADED_DEFAULTS: Mapping[str, Callable[[Path], Any]] = {
    "store.url": default_store_url,
    "pipeline.stage_processes": lambda _data_dir: default_stage_processes(),
}
"""Defaults a loaded file gets that differ from (or are missing in) the dataclass, computed
from ``data_dir``."""


@dataclass(frozen=True, slots=True)
class PolicySettings:
    """``[policy]``: the cross-border data gate every outbound document passes."""

    file: Path | None = None
    """The export policy file (TOML; checked at start-up, re-read when it changes); none:
    the 2024 Provisions' defaults with no lists."""
    subject_key: Path | None = None
    """The key (32+ random bytes) that turns individuals into keyed hashes for the yearly
    counts; none: derived from the signing key, else ``keys/subject.key`` in ``data_dir``
    (created on first use, owner-only)."""
    subject_key_env: str = ""
    """The name of an environment variable holding the subject key (hex, 16+ bytes), e.g.
    set by a secrets manager; wins over ``subject_key`` (see ``gateway/policy/keys.py``)."""
    subject_key_pkcs11: Path | None = None
    """The PKCS#11 library of an HSM or token holding the subject key (wins over the
    others); with ``subject_key_token`` and ``subject_key_label``, the user PIN in the
    environment variable ``LINGANG_SUBJECT_KEY_PIN``; the MAC is computed on the token."""
    subject_key_token: str = ""
    subject_key_label: str = "lingang-subject"
    subject_key_id: str = ""
    """The operator's id of the subject key, recorded with every individual counted under
    it (rotation); default: the key's fingerprint (``sha256:`` + 16 hex digits)."""
    checkpoint_every: int = 100
    """A signed checkpoint of the export ledger after this many entries."""
    ledger_anchor: Path | None = None
    """The file each signed checkpoint is appended to as well, outside the database (default
    ``ledger/anchor.jsonl`` in ``data_dir``): ``lingang ledger verify`` checks the chain
    against it, so entries cut off the end are caught; ship it to write-once storage."""

    submitter_decisions: bool = False
    """Let every API key of a tenant release and refuse the tenant's held documents, as
    before officer keys existed. Off (the default): only an officer's key decides
    (``lingang tenants add-key NAME --role officer``), so the key that submits a document
    cannot release it; ``lingang policy release`` / ``refuse`` on the gateway's host decide
    either way."""

    def anchor_path(self, data_dir: Path) -> Path:
        """The anchor file in force."""
        return self.ledger_anchor or data_dir / "ledger" / "anchor.jsonl"


SECTIONS = {**SECTIONS, "policy": PolicySettings}


@dataclass(frozen=True, slots=True)
class PeppolSettings:
    """``[peppol]``: this gateway as a Peppol access point (reporting, MLS, local receivers)."""

    seat_id: str = ""
    """Our Peppol seat id (``PXX000000``, the CN of our AP certificate): the reporter of the
    monthly reports and the sender of MLS."""
    reporting_key: Path | None = None
    """A file holding the key of the end-user hashes in the reporting records (default
    ``keys/peppol-reporting.key`` in ``data_dir``, made on first use)."""
    report_receiver: str = "9925:be0848934496"
    """The participant the monthly reports go to (OpenPeppol; another one in tests). Route
    it with ``[routing.partners]`` to the adapter that sends it."""
    report_tenant: str = "peppol-reporting"
    """The tenant whose submissions carry the monthly reports (made when missing)."""
    report_until_day: int = 15
    """The scheduled ``report`` job sends a month's reports from the 1st of the next month;
    it is late (and says so in the log) after this day."""
    local_participants: tuple[str, ...] = ()
    """The participants we receive for, ``"<tenant id>=<scheme>:<value>"`` each; a document
    for anyone else is refused."""
    local_country: str = "CN"
    """The country of our local (C4) end users, for reporting."""
    transport_profile: str = "peppol-transport-as4-v2_0"
    """The transport profile reported for our transmissions."""


SECTIONS = {**SECTIONS, "peppol": PeppolSettings}
ENVIRONMENT = {
    **ENVIRONMENT,
    "peppol.seat_id": "LINGANG_PEPPOL_SEAT_ID",
    "peppol.reporting_key": "LINGANG_PEPPOL_REPORTING_KEY",
    "peppol.report_receiver": "LINGANG_PEPPOL_REPORT_RECEIVER",
    "peppol.local_participants": "LINGANG_PEPPOL_LOCAL_PARTICIPANTS",
}


@dataclass(frozen=True, slots=True)
class ConsoleSettings:
    """``[console]``: the operator web console at ``/console`` (served by ``lingang serve``)."""

    enabled: bool = True
    session_secret: str | None = None
    """Signs session cookies; give every replica the same one. Unset: a random secret per
    process (sessions end when it restarts)."""
    session_minutes: int = 480
    """How long a console session lasts after sign-in."""
    idle_minutes: int = 30
    """A console session without a request for this long has ended (OWASP ASVS 3.3.2)."""
    signin_max_failures: int = 10
    """Failed sign-ins allowed per client address and per API-key prefix within
    ``signin_window_seconds``; then 429 with ``Retry-After`` (counted per process)."""
    signin_window_seconds: int = 600
    secure_cookies: bool = False
    """Mark the console's cookies ``Secure`` though the gateway serves plain HTTP: set it
    when a TLS proxy is in front (over the gateway's own TLS they are ``Secure`` anyway)."""


SECTIONS = {**SECTIONS, "console": ConsoleSettings}
ENVIRONMENT = {
    **ENVIRONMENT,
    "console.enabled": "LINGANG_CONSOLE",
    "console.session_secret": "LINGANG_CONSOLE_SECRET",
    "console.session_minutes": "LINGANG_CONSOLE_SESSION_MINUTES",
    "console.idle_minutes": "LINGANG_CONSOLE_IDLE_MINUTES",
    "console.signin_max_failures": "LINGANG_CONSOLE_SIGNIN_MAX_FAILURES",
    "console.signin_window_seconds": "LINGANG_CONSOLE_SIGNIN_WINDOW_SECONDS",
    "console.secure_cookies": "LINGANG_CONSOLE_SECURE_COOKIES",
}


@dataclass(frozen=True, slots=True)
class OpsSettings:
    """``[ops]``: the operations listener, for Prometheus and Kubernetes' probes.

    Plain HTTP on its own address, serving only ``/livez``, ``/readyz`` and ``/metrics``
    (what the API serves under those paths, without a key there either). It lets
    ``lingang worker``, which has no API, be scraped and probed, and it lets probes reach
    ``lingang serve`` when its API listener requires client certificates (mutual TLS):
    the kubelet's HTTP probes present none (``httpGet`` has no client certificate)."""

    listen: str = ""
    """``HOST:PORT`` to listen on (``[::1]:9464`` for IPv6); empty: no such listener."""
    counts_seconds: float = 5.0
    """The store-wide gauges of ``/metrics`` (submissions, outbox jobs, breakers) are read
    from the store at most once in this many seconds; scrapes meanwhile, and scrapes that
    come together, share one reading (0: a reading per scrape)."""
    certificate_warn_days: float = 30.0
    """``/healthz`` warns of (and start-up logs) a certificate of the gateway's that expires
    within this many days: the TLS server's, the signing one, a Peppol AP's (valid two years
    at most; a silent expiry stops all traffic). ``/metrics`` gives the seconds left anyway
    (``lingang_certificate_expiry_seconds``)."""

    @property
    def address(self) -> tuple[str, int] | None:
        """``(host, port)`` of the listener, or ``None`` when there is none."""
        return parse_listen(self.listen) if self.listen else None


def parse_listen(text: str) -> tuple[str, int]:
    """``(host, port)`` from ``HOST:PORT`` or ``[IPV6]:PORT``; :class:`ValueError` saying what
    is wrong otherwise."""
    host, colon, port = text.strip().rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not colon or not host or (":" in host and not text.strip().startswith("[")):
        raise ValueError(f"must be HOST:PORT (e.g. 0.0.0.0:9464 or [::]:9464), got {text!r}")
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"must end in a port number (0 to 65535), got {text!r}")
    return host, int(port)


SECTIONS = {**SECTIONS, "ops": OpsSettings}
ENVIRONMENT = {
    **ENVIRONMENT,
    "ops.listen": "LINGANG_OPS_LISTEN",
    "ops.counts_seconds": "LINGANG_METRICS_COUNTS_SECONDS",
    "ops.certificate_warn_days": "LINGANG_CERTIFICATE_WARN_DAYS",
}


@dataclass(frozen=True, slots=True)
class RetentionSettings:
    """``[retention]``: what the hourly ``housekeeping`` job (and ``lingang prune``) deletes
    once it is old enough (:mod:`gateway.store.retention`). Days; 0 keeps for good.

    Never deleted, whatever these say: the export ledger and its checkpoints (append-only,
    hash-chained evidence), export holds, the yearly export counts, the Peppol
    transmissions the monthly reports count, received messages with the signed receipts
    answered to them, and the gateway's own Message Level Status and Peppol report
    documents."""

    jobs_days: float = 30.0
    """Finished jobs that belong to no document (the hourly ``housekeeping`` job, about
    8,760 a year, with the summary each left) are deleted this long after they finished."""
    documents_days: float = 0.0
    """Documents whose processing has ended (delivered, converted, rejected, failed,
    refused; never one dead-lettered, held or still queued) are deleted whole — the
    document, its outputs, events, jobs and receipts — this long after their last change.
    0 (the default) keeps them: the gateway does not know whether it is the archive of
    record (China keeps accounting vouchers 30 years, 会计档案管理办法 Art. 14; Singapore's
    IRAS 5 years), so deleting documents is the operator's decision."""
    receipts_days: float = 0.0
    """A document holding a receipt (the receiver's signed AS4 receipt, non-repudiation of
    receipt; a DCSA signed response) is deleted only once its newest receipt is this old
    as well (and ``documents_days`` has passed). 0 (the default): such documents are kept
    for good."""


SECTIONS = {**SECTIONS, "retention": RetentionSettings}
ENVIRONMENT = {
    **ENVIRONMENT,
    "retention.jobs_days": "LINGANG_RETENTION_JOBS_DAYS",
    "retention.documents_days": "LINGANG_RETENTION_DOCUMENTS_DAYS",
    "retention.receipts_days": "LINGANG_RETENTION_RECEIPTS_DAYS",
}

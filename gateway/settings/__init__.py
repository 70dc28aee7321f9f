"""The gateway's configuration: one TOML file, overridden by environment variables.

The file (``lingang.toml``; ``deploy/lingang.toml`` documents every key), one typed section
per table::

    data_dir = "/var/lib/lingang"          # default: $LINGANG_HOME or ~/.lingang
    log_level = "INFO"                     # DEBUG, INFO, WARNING, ERROR, CRITICAL

    [store]
    url = "sqlite:///var/lib/lingang/gateway.db"   # or postgresql://user@host/db
    idle_transaction_seconds = 30.0        # PostgreSQL: a session idle in a transaction ends

    [server]
    host = "127.0.0.1"
    port = 8080
    tls_cert = "server.pem"                # both or neither
    tls_key = "server.key"
    client_ca = "clients-ca.pem"           # optional: require client certificates (mTLS)
    header_timeout = 10.0                  # seconds for a request head; body_timeout = 60.0,
                                           # idle_timeout = 75.0, max_connections = 1000

    [signing]
    key = "keys/signing.key"
    cert = "keys/signing.pem"
    chain = ["keys/ca.pem"]

    [worker]
    count = 2                              # in-process workers of `lingang serve`
    concurrency = 8                        # jobs in flight per worker
    lease_seconds = 30.0
    poll_seconds = 0.5
    max_attempts = 12                      # then the job is dead-lettered
    retry_base_seconds = 2.0               # backoff ceiling of the first retry (doubles)
    retry_cap_seconds = 600.0
    breaker_failures = 5                   # transport failures in a row open the breaker
    breaker_cooldown_seconds = 30.0
    breaker_memory_seconds = 2.0

    [limits]
    max_body_bytes = 10485760
    idempotency_hours = 168.0              # Idempotency-Keys forgotten after a week (0: never)

    [retention]                            # days; 0 keeps for good (the ledger: always)
    jobs_days = 30.0                       # finished housekeeping jobs
    documents_days = 0.0                   # finished documents, whole
    receipts_days = 0.0                    # documents holding a receipt, counted from it

    [pipeline]
    default_profile = "pint-sg"
    partners = "partners.toml"             # partner directory file (optional)
    artefacts = "/var/lib/lingang"         # official artefacts (default: data_dir)
    validate = true
    sign = true
    strict = false                         # refuse fapiao with schema findings
    stage_processes = 2                    # child processes running the stages (0: a thread);
                                           # default one per CPU up to 4, 0 with one CPU
    stage_pin = false                      # each stage process (and its JVM) on one core

    [validation]                           # the Schematron engine (EngineOptions)
    engine = "auto"                        # auto | jvm | saxonche
    saxon_jar = "/usr/share/java/Saxon-HE.jar"
    java_home = "/usr/lib/jvm/default-java"
    jvm_threads = 2
    jvm_options = ["-XX:+UseSerialGC"]
    jvm_warm_runs = 100

    [adapters.hk]                          # one table per configured adapter instance
    type = "https"                         # required: entry point name in `lingang.adapters`
    url = "https://receiver.example.hk/inbox"   # the rest is the adapter's own options

    [routing]
    default = "hk"                         # adapter for anything not matched below
    [routing.profiles]
    "pint-sg" = "hk"
    [routing.partners]
    "0195:T08GB0001A" = "hk"

**Checked at load.** An unknown table or key, a value of the wrong type (``port = "8080"``),
a negative number, an unknown log level or engine, a route to an adapter nobody configured:
each is a :class:`~gateway.errors.ConfigError` naming the file, the dotted key and its line,
with the nearest known name when there is one (``[sever]`` → "did you mean `server`?").
Adapter tables are free-form except for ``type``.

**Environment** (each wins over the file; an empty value counts as unset; a malformed value
is a ``ConfigError`` naming the variable): ``LINGANG_CONFIG`` (the file itself), and for the
keys, see :data:`ENVIRONMENT`: ``LINGANG_HOME``, ``LINGANG_LOG_LEVEL``, ``LINGANG_STORE_URL``,
``LINGANG_HOST``, ``LINGANG_PORT``, ``LINGANG_TLS_CERT``, ``LINGANG_TLS_KEY``,
``LINGANG_CLIENT_CA``, ``LINGANG_SIGNING_KEY``, ``LINGANG_SIGNING_CERT``,
``LINGANG_SIGNING_CHAIN`` and ``LINGANG_SIGNING_PREVIOUS_CERTS`` (``os.pathsep``-separated; the password of a protected signing key
is ``LINGANG_SIGNING_PASSWORD``, read by :mod:`gateway.signing.gateway_key`, never a
setting), ``LINGANG_SIGNING_PKCS11``, ``LINGANG_SIGNING_PKCS11_TOKEN``,
``LINGANG_SIGNING_PKCS11_LABEL`` (a key inside a token; its PIN is ``LINGANG_SIGNING_PIN``,
never a setting), ``LINGANG_WORKERS``,
``LINGANG_CONCURRENCY``, ``LINGANG_LEASE_SECONDS``, ``LINGANG_POLL_SECONDS``,
``LINGANG_MAX_ATTEMPTS``, ``LINGANG_RETRY_BASE_SECONDS``, ``LINGANG_RETRY_CAP_SECONDS``,
``LINGANG_BREAKER_FAILURES``, ``LINGANG_BREAKER_COOLDOWN``, ``LINGANG_MAX_BODY_BYTES``,
``LINGANG_IDEMPOTENCY_HOURS``, ``LINGANG_RETENTION_JOBS_DAYS``,
``LINGANG_RETENTION_DOCUMENTS_DAYS``, ``LINGANG_RETENTION_RECEIPTS_DAYS``,
``LINGANG_DEFAULT_PROFILE``, ``LINGANG_PARTNERS``, ``LINGANG_ARTEFACTS``, ``LINGANG_VALIDATE``,
``LINGANG_SIGN``, ``LINGANG_STAGE_PROCESSES``, ``LINGANG_SCHEMATRON_ENGINE``,
``LINGANG_SAXON_JAR``, ``JAVA_HOME``, ``LINGANG_JVM_THREADS``, ``LINGANG_JVM_OPTIONS``
(space-separated), ``LINGANG_JVM_WARM_RUNS``, ``LINGANG_PEPPOL_SEAT_ID``,
``LINGANG_PEPPOL_REPORTING_KEY``, ``LINGANG_PEPPOL_REPORT_RECEIVER``,
``LINGANG_PEPPOL_LOCAL_PARTICIPANTS`` (space-separated); adapter options as
``LINGANG_ADAPTER_<NAME>_<OPTION>`` (e.g. ``LINGANG_ADAPTER_HK_URL``; an adapter only the
environment names needs ``LINGANG_ADAPTER_<NAME>_TYPE``) and the default route as
``LINGANG_ROUTE_DEFAULT``. Booleans: ``1/true/yes/on`` or ``0/false/no/off``.

**Paths.** A relative ``data_dir`` in the file is relative to the file's folder; every other
relative path (file or environment) is relative to ``data_dir``.

This module is the only one that reads the process environment (:func:`data_home`,
:func:`environment_value`, :meth:`Settings.load`); everything below it is handed paths and
options.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from gateway.errors import ConfigError
from gateway.settings.loader import Loader
from gateway.settings.sections import (
    ENVIRONMENT,
    HOME_ENV,
    SECTIONS,
    AdapterConfig,
    ConsoleSettings,
    LimitsSettings,
    OpsSettings,
    PeppolSettings,
    PipelineSettings,
    PolicySettings,
    RetentionSettings,
    Routing,
    ServerSettings,
    SigningSettings,
    StoreSettings,
    WorkerSettings,
    default_stage_processes,
    default_store_url,
)
from gateway.validation.options import EngineOptions

__all__ = [
    "CONFIG_ENV",
    "ENVIRONMENT",
    "HOME_ENV",
    "SECTIONS",
    "AdapterConfig",
    "ConfigError",
    "ConsoleSettings",
    "EngineOptions",
    "LimitsSettings",
    "OpsSettings",
    "PeppolSettings",
    "PipelineSettings",
    "PolicySettings",
    "RetentionSettings",
    "Routing",
    "ServerSettings",
    "Settings",
    "SigningSettings",
    "StoreSettings",
    "WorkerSettings",
    "data_home",
    "default_stage_processes",
    "default_store_url",
    "environment_value",
]

CONFIG_ENV = "LINGANG_CONFIG"
"""Environment variable naming the configuration file."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the gateway process needs to start, immutable once loaded."""

    data_dir: Path
    store: StoreSettings
    server: ServerSettings = field(default_factory=ServerSettings)
    signing: SigningSettings = field(default_factory=SigningSettings)
    worker: WorkerSettings = field(default_factory=WorkerSettings)
    limits: LimitsSettings = field(default_factory=LimitsSettings)
    pipeline: PipelineSettings = field(default_factory=PipelineSettings)
    validation: EngineOptions = field(default_factory=EngineOptions)
    """How the Schematron engine runs (``[validation]``), handed to the validator."""
    policy: PolicySettings = field(default_factory=PolicySettings)
    """The export gate (``[policy]``)."""
    peppol: PeppolSettings = field(default_factory=PeppolSettings)
    """This gateway as a Peppol access point (``[peppol]``)."""
    console: ConsoleSettings = field(default_factory=ConsoleSettings)
    ops: OpsSettings = field(default_factory=OpsSettings)
    """The operations listener and the metrics' store readings (``[ops]``)."""
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    """What the hourly housekeeping deletes once old enough (``[retention]``)."""
    adapters: Mapping[str, AdapterConfig] = field(default_factory=dict)
    routing: Routing = field(default_factory=Routing)
    log_level: str = "INFO"
    source: Path | None = None
    """The file these settings were read from, if any."""

    @classmethod
    def for_data_dir(cls, data_dir: Path, **changes: Any) -> Settings:
        """Settings built in code: the defaults around ``data_dir`` (the SQLite store inside
        it), with whole sections or top-level fields replaced by ``changes``."""
        base = cls(data_dir=data_dir, store=StoreSettings(default_store_url(data_dir)))
        return replace(base, **changes)

    @classmethod
    def load(
        cls, path: Path | str | None = None, *, env: Mapping[str, str] | None = None
    ) -> Settings:
        """Read ``path`` (or ``$LINGANG_CONFIG``; none is fine) and apply ``env`` (default:
        the process environment) over it."""
        environ = os.environ if env is None else env
        chosen = path if path is not None else environ.get(CONFIG_ENV)
        if not chosen:
            return cls.from_dict({}, env=environ)
        source = Path(chosen).expanduser().absolute()
        try:
            text = source.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read configuration file {source}: {exc}") from exc
        except UnicodeDecodeError as exc:  # TOML 1.0: "a valid UTF-8 encoded Unicode document"
            raise ConfigError(
                f"configuration file {source} is not UTF-8 text, as TOML must be: byte "
                f"0x{exc.object[exc.start]:02x} at offset {exc.start}"
            ) from exc
        try:
            data = tomllib.loads(text)
        except (ValueError, RecursionError) as exc:  # TOMLDecodeError is a ValueError
            raise ConfigError(f"configuration file {source} is not valid TOML: {exc}") from exc
        return cls.from_dict(data, env=environ, source=source, text=text)

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        env: Mapping[str, str] | None = None,
        source: Path | None = None,
        text: str | None = None,
    ) -> Settings:
        """Settings from parsed TOML ``data`` plus ``env`` (default: none); ``source`` and
        its ``text`` let errors name the file and the line."""
        environ: Mapping[str, str] = {} if env is None else env
        loader = Loader(data, environ, source=source, text=text, data_home=data_home(environ))
        loaded = loader.load()
        return cls(
            data_dir=loaded.data_dir,
            adapters=loaded.adapters,
            routing=loaded.routing,
            log_level=loaded.log_level,
            source=source,
            **loaded.sections,
        )

    def with_section(self, name: str, **changes: Any) -> Settings:
        """A copy with some keys of section ``name`` replaced, e.g.
        ``settings.with_section("server", port=0)`` (CLI flags, tests)."""
        if name not in SECTIONS:
            raise ValueError(f"no settings section {name!r} (sections: {', '.join(SECTIONS)})")
        return replace(self, **{name: replace(getattr(self, name), **changes)})

    @property
    def artefacts_home(self) -> Path:
        """Where the official artefacts are installed: ``[pipeline] artefacts``, else
        ``data_dir``."""
        return self.pipeline.artefacts or self.data_dir


def data_home(env: Mapping[str, str] | None = None) -> Path:
    """The data directory when no file says: ``$LINGANG_HOME``, else ``~/.lingang``."""
    environ = os.environ if env is None else env
    explicit = environ.get(HOME_ENV)
    return Path(explicit).expanduser().absolute() if explicit else Path.home() / ".lingang"


def environment_value(name: str) -> str | None:
    """The process environment's ``name``, for a secret a command is told to read from a
    named variable (``lingang sign --password-env VAR``)."""
    return os.environ.get(name)

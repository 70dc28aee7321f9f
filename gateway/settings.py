"""The gateway's configuration: one TOML file, overridden by ``LINGANG_*`` environment variables.

The file (``lingang.toml``; see ``deploy/lingang.toml`` for a commented example)::

    data_dir = "/var/lib/lingang"          # default: $LINGANG_HOME or ~/.lingang

    [store]
    url = "sqlite:///var/lib/lingang/gateway.db"   # or postgresql://user@host/db

    [server]
    host = "127.0.0.1"
    port = 8080
    tls_cert = "server.pem"                # both or neither; relative to data_dir
    tls_key = "server.key"
    client_ca = "clients-ca.pem"           # optional: require client certificates (mTLS)

    [signing]
    key = "keys/signing.key"
    cert = "keys/signing.pem"
    chain = ["keys/ca.pem"]

    [worker]
    count = 2                              # in-process workers of `lingang serve`
    concurrency = 8                        # jobs in flight per worker
    lease_seconds = 30
    poll_seconds = 0.5
    max_attempts = 12                      # then the job is dead-lettered
    retry_base_seconds = 2.0               # backoff ceiling of the first retry (doubles)
    retry_cap_seconds = 600.0
    breaker_failures = 5                   # transport failures in a row open the breaker
    breaker_cooldown_seconds = 30.0

    [limits]
    max_body_bytes = 10485760

    [pipeline]
    default_profile = "pint-sg"
    partners = "partners.toml"             # partner directory file (optional)
    artefacts = "/var/lib/lingang"         # official artefacts (default: data_dir)
    validate = true
    sign = true
    stage_processes = 2                    # child processes running the stages (0: a thread);
                                           # default one per CPU up to 4, 0 with one CPU

    [adapters.hk]                          # one table per configured adapter instance
    type = "https"                         # entry point name in group `lingang.adapters`
    url = "https://receiver.example.hk/inbox"

    [routing]
    default = "hk"                         # adapter for anything not matched below
    [routing.profiles]
    "pint-sg" = "hk"
    [routing.partners]
    "0195:T08GB0001A" = "hk"

Environment overrides (each wins over the file): ``LINGANG_CONFIG`` (the file itself),
``LINGANG_HOME``, ``LINGANG_STORE_URL``, ``LINGANG_HOST``, ``LINGANG_PORT``, ``LINGANG_TLS_CERT``,
``LINGANG_TLS_KEY``, ``LINGANG_CLIENT_CA``, ``LINGANG_SIGNING_KEY``, ``LINGANG_SIGNING_CERT``,
``LINGANG_SIGNING_CHAIN`` (``os.pathsep``-separated), ``LINGANG_WORKERS``, ``LINGANG_CONCURRENCY``,
``LINGANG_LEASE_SECONDS``, ``LINGANG_MAX_BODY_BYTES``, ``LINGANG_DEFAULT_PROFILE``,
``LINGANG_PARTNERS``, ``LINGANG_ARTEFACTS``, ``LINGANG_LOG_LEVEL``; adapter options as
``LINGANG_ADAPTER_<NAME>_<OPTION>`` (e.g. ``LINGANG_ADAPTER_HK_URL``) and the default route as
``LINGANG_ROUTE_DEFAULT``. The Schematron engine's options (:func:`engine_options`, handed to
``gateway.validation`` as ``EngineOptions``): ``LINGANG_SCHEMATRON_ENGINE`` (``auto``, ``jvm``,
``saxonche``), ``LINGANG_RULES`` (``official``: the official XSLT; ``fast``: our compiled form
of it), ``LINGANG_SAXON_JAR``, ``JAVA_HOME``, ``LINGANG_JVM_THREADS``, ``LINGANG_JVM_OPTIONS``,
``LINGANG_JVM_WARM_RUNS``.

Relative paths in the file are resolved against ``data_dir``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway.config import data_home
from gateway.errors import LingangError

if TYPE_CHECKING:
    from gateway.validation.options import EngineOptions

CONFIG_ENV = "LINGANG_CONFIG"


class ConfigError(LingangError):
    """The configuration is invalid or names something that cannot be loaded."""

    code = "config"


@dataclass(frozen=True, slots=True)
class AdapterConfig:
    """One configured adapter instance: its ``type`` (entry point name) and its options."""

    name: str
    type: str
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Routing:
    """Which adapter gets a document: by partner (receiver id), then profile, then default."""

    default: str | None = None
    profiles: Mapping[str, str] = field(default_factory=dict)
    partners: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the gateway process needs to start, immutable once loaded."""

    data_dir: Path
    store_url: str
    host: str = "127.0.0.1"
    port: int = 8080
    tls_cert: Path | None = None
    tls_key: Path | None = None
    client_ca: Path | None = None
    signing_key: Path | None = None
    signing_cert: Path | None = None
    signing_chain: tuple[Path, ...] = ()
    workers: int = 2
    concurrency: int = 8
    """Jobs each worker runs at once."""
    lease_seconds: float = 30.0
    poll_seconds: float = 0.5
    max_attempts: int = 12
    retry_base_seconds: float = 2.0
    retry_cap_seconds: float = 600.0
    breaker_failures: int = 5
    """Transport failures in a row that open an endpoint's circuit breaker."""
    breaker_cooldown_seconds: float = 30.0
    max_body_bytes: int = 10 * 1024 * 1024
    default_profile: str = "pint-sg"
    partners_file: Path | None = None
    artefacts_dir: Path | None = None
    """Where the official artefacts are installed (default: ``data_dir``)."""
    validate: bool = True
    sign: bool = True
    stage_processes: int = 0
    """Child processes running the stage table (0: one thread of the gateway process). A
    configuration file or environment that does not say defaults to
    :func:`default_stage_processes`; this field's own default (0) is for settings built in
    code (tests)."""
    adapters: Mapping[str, AdapterConfig] = field(default_factory=dict)
    routing: Routing = field(default_factory=Routing)
    log_level: str = "INFO"
    source: Path | None = None
    """The file these settings were read from, if any."""

    @classmethod
    def load(
        cls, path: Path | str | None = None, *, env: Mapping[str, str] | None = None
    ) -> Settings:
        """Read ``path`` (or ``$LINGANG_CONFIG``; none is fine) and apply environment overrides."""
        environ = os.environ if env is None else env
        chosen = path if path is not None else environ.get(CONFIG_ENV)
        data: dict[str, Any] = {}
        source: Path | None = None
        if chosen:
            source = Path(chosen).expanduser()
            try:
                data = tomllib.loads(source.read_text(encoding="utf-8"))
            except OSError as exc:
                raise ConfigError(f"cannot read configuration file {source}: {exc}") from exc
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"configuration file {source} is not valid TOML: {exc}") from exc
        return cls.from_dict(data, env=environ, source=source)

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        env: Mapping[str, str] | None = None,
        source: Path | None = None,
    ) -> Settings:
        """Build settings from parsed TOML data plus environment overrides."""
        environ: Mapping[str, str] = {} if env is None else env
        return _Builder(data, environ, source).build()

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with some fields replaced (used by CLI flags such as ``--port``)."""
        return replace(self, **changes)

    @property
    def tls_enabled(self) -> bool:
        """Whether the API listens with TLS."""
        return self.tls_cert is not None and self.tls_key is not None


class _Builder:
    """Merges file values and environment values into a ``Settings``, naming bad keys."""

    def __init__(self, data: Mapping[str, Any], env: Mapping[str, str], source: Path | None):
        self.data = data
        self.env = env
        self.source = source

    def section(self, name: str) -> Mapping[str, Any]:
        value = self.data.get(name, {})
        if not isinstance(value, Mapping):
            raise ConfigError(f"[{name}] must be a table", field=name)
        return value

    def value(self, section: str, key: str, env_name: str, default: Any) -> Any:
        if env_name in self.env:
            return self.env[env_name]
        table = self.data if section == "" else self.section(section)
        return table.get(key, default)

    def path(self, data_dir: Path, section: str, key: str, env_name: str) -> Path | None:
        raw = self.value(section, key, env_name, None)
        if raw in (None, ""):
            return None
        candidate = Path(str(raw)).expanduser()
        return candidate if candidate.is_absolute() else data_dir / candidate

    def build(self) -> Settings:
        data_dir = self.data_dir()
        store_url = str(
            self.value("store", "url", "LINGANG_STORE_URL", f"sqlite:///{data_dir / 'gateway.db'}")
        )
        return Settings(
            data_dir=data_dir,
            store_url=store_url,
            host=str(self.value("server", "host", "LINGANG_HOST", "127.0.0.1")),
            port=_as_int(self.value("server", "port", "LINGANG_PORT", 8080), "server.port"),
            tls_cert=self.path(data_dir, "server", "tls_cert", "LINGANG_TLS_CERT"),
            tls_key=self.path(data_dir, "server", "tls_key", "LINGANG_TLS_KEY"),
            client_ca=self.path(data_dir, "server", "client_ca", "LINGANG_CLIENT_CA"),
            signing_key=self.path(data_dir, "signing", "key", "LINGANG_SIGNING_KEY"),
            signing_cert=self.path(data_dir, "signing", "cert", "LINGANG_SIGNING_CERT"),
            signing_chain=self.chain(data_dir),
            workers=_as_int(self.value("worker", "count", "LINGANG_WORKERS", 2), "worker.count"),
            concurrency=_as_int(
                self.value("worker", "concurrency", "LINGANG_CONCURRENCY", 8), "worker.concurrency"
            ),
            lease_seconds=_as_float(
                self.value("worker", "lease_seconds", "LINGANG_LEASE_SECONDS", 30.0),
                "worker.lease_seconds",
            ),
            poll_seconds=_as_float(
                self.value("worker", "poll_seconds", "LINGANG_POLL_SECONDS", 0.5),
                "worker.poll_seconds",
            ),
            max_attempts=_as_int(
                self.value("worker", "max_attempts", "LINGANG_MAX_ATTEMPTS", 12),
                "worker.max_attempts",
            ),
            retry_base_seconds=_as_float(
                self.value("worker", "retry_base_seconds", "LINGANG_RETRY_BASE_SECONDS", 2.0),
                "worker.retry_base_seconds",
            ),
            retry_cap_seconds=_as_float(
                self.value("worker", "retry_cap_seconds", "LINGANG_RETRY_CAP_SECONDS", 600.0),
                "worker.retry_cap_seconds",
            ),
            breaker_failures=_as_int(
                self.value("worker", "breaker_failures", "LINGANG_BREAKER_FAILURES", 5),
                "worker.breaker_failures",
            ),
            breaker_cooldown_seconds=_as_float(
                self.value("worker", "breaker_cooldown_seconds", "LINGANG_BREAKER_COOLDOWN", 30.0),
                "worker.breaker_cooldown_seconds",
            ),
            max_body_bytes=_as_int(
                self.value("limits", "max_body_bytes", "LINGANG_MAX_BODY_BYTES", 10 * 1024 * 1024),
                "limits.max_body_bytes",
            ),
            default_profile=str(
                self.value("pipeline", "default_profile", "LINGANG_DEFAULT_PROFILE", "pint-sg")
            ),
            partners_file=self.path(data_dir, "pipeline", "partners", "LINGANG_PARTNERS"),
            artefacts_dir=self.path(data_dir, "pipeline", "artefacts", "LINGANG_ARTEFACTS"),
            validate=_as_bool(self.value("pipeline", "validate", "LINGANG_VALIDATE", True)),
            sign=_as_bool(self.value("pipeline", "sign", "LINGANG_SIGN", True)),
            stage_processes=_as_int(
                self.value(
                    "pipeline",
                    "stage_processes",
                    "LINGANG_STAGE_PROCESSES",
                    default_stage_processes(),
                ),
                "pipeline.stage_processes",
            ),
            adapters=self.adapters(),
            routing=self.routing(),
            log_level=str(self.value("", "log_level", "LINGANG_LOG_LEVEL", "INFO")).upper(),
            source=self.source,
        )

    def data_dir(self) -> Path:
        if "LINGANG_HOME" in self.env:
            return Path(self.env["LINGANG_HOME"]).expanduser()
        raw = self.data.get("data_dir")
        return Path(str(raw)).expanduser() if raw else data_home()

    def chain(self, data_dir: Path) -> tuple[Path, ...]:
        if "LINGANG_SIGNING_CHAIN" in self.env:
            items: list[Any] = [p for p in self.env["LINGANG_SIGNING_CHAIN"].split(os.pathsep) if p]
        else:
            raw = self.section("signing").get("chain", [])
            items = [raw] if isinstance(raw, str) else list(raw)
        paths = [Path(str(p)).expanduser() for p in items]
        return tuple(p if p.is_absolute() else data_dir / p for p in paths)

    def adapters(self) -> dict[str, AdapterConfig]:
        tables: dict[str, dict[str, Any]] = {
            name: dict(table) for name, table in self.section("adapters").items()
        }
        for key, value in self.env.items():
            if key.startswith("LINGANG_ADAPTER_") and key.count("_") >= 3:
                name, _, option = key[len("LINGANG_ADAPTER_") :].partition("_")
                tables.setdefault(name.lower(), {})[option.lower()] = value
        configs: dict[str, AdapterConfig] = {}
        for name, table in tables.items():
            kind = table.pop("type", name)
            configs[name] = AdapterConfig(name=name, type=str(kind), options=table)
        return configs

    def routing(self) -> Routing:
        table = self.section("routing")
        profiles = table.get("profiles", {})
        partners = table.get("partners", {})
        if not isinstance(profiles, Mapping) or not isinstance(partners, Mapping):
            raise ConfigError("[routing.profiles] and [routing.partners] must be tables")
        default = self.env.get("LINGANG_ROUTE_DEFAULT", table.get("default"))
        return Routing(
            default=str(default) if default else None,
            profiles={str(k): str(v) for k, v in profiles.items()},
            partners={str(k): str(v) for k, v in partners.items()},
        )


def default_stage_processes() -> int:
    """``[pipeline] stage_processes`` when not configured: with more than one CPU, one per
    CPU up to 4 (each child waits on its Schematron JVM for much of a document, so two
    children keep two cores busy beside the API and the store; measured by ``bench.e2e``),
    else 0 (a thread)."""
    cpus = os.cpu_count() or 1
    return min(cpus, 4) if cpus > 1 else 0


def _as_int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name} must be an integer, got {value!r}", field=name) from exc


def _as_float(value: Any, name: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name} must be a number, got {value!r}", field=name) from exc


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


ENGINE_ENV = {
    "engine": "LINGANG_SCHEMATRON_ENGINE",
    "saxon_jar": "LINGANG_SAXON_JAR",
    "java_home": "JAVA_HOME",
    "jvm_threads": "LINGANG_JVM_THREADS",
    "jvm_options": "LINGANG_JVM_OPTIONS",
    "jvm_warm_runs": "LINGANG_JVM_WARM_RUNS",
    "rules": "LINGANG_RULES",
}
"""Environment variables that set the Schematron engine's options (field → variable)."""


def engine_options(env: Mapping[str, str], work_dir: Path | None = None) -> EngineOptions:
    """The validation layer's :class:`~gateway.validation.options.EngineOptions` from the
    environment (:data:`ENGINE_ENV`); an engine named there counts as chosen explicitly."""
    from gateway.validation.options import EngineOptions

    def raw(name: str) -> str | None:
        value = env.get(ENGINE_ENV[name], "").strip()
        return value or None

    engine, jar, java_home = raw("engine"), raw("saxon_jar"), raw("java_home")
    threads, options, warm = (
        raw("jvm_threads"),
        env.get(ENGINE_ENV["jvm_options"]),
        raw("jvm_warm_runs"),
    )
    return EngineOptions(
        engine=(engine or "auto").lower(),
        work_dir=work_dir,
        saxon_jar=Path(jar) if jar else None,
        java_home=Path(java_home) if java_home else None,
        jvm_threads=_as_int(threads, ENGINE_ENV["jvm_threads"]) if threads else None,
        jvm_options=tuple(options.split()) if options is not None else None,
        jvm_warm_runs=_as_int(warm, ENGINE_ENV["jvm_warm_runs"]) if warm else None,
        rules=(raw("rules") or "official").lower(),
        explicit=engine is not None,
    )

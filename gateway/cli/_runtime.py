"""Shared by ``lingang serve``, ``lingang worker`` and ``lingang demo``: settings from flags,
JSON logs, signal handling and the worker pool."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import signal
import ssl
import sys
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.cli._io import UsageError
from gateway.settings import Settings
from gateway.settings.loader import check_value

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and every ``extra`` field."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(level: str, *, stream: Any = None) -> None:
    """JSON logs on stderr at ``level`` (keys and bodies are never logged by the gateway)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


def add_settings_arguments(parser: argparse.ArgumentParser) -> None:
    """``--config`` and the few overrides every long-running command takes."""
    parser.add_argument(
        "--config",
        type=Path,
        help="lingang.toml (default: $LINGANG_CONFIG, else built-in defaults)",
    )
    parser.add_argument("--store-url", help="override [store].url / $LINGANG_STORE_URL")
    parser.add_argument("--concurrency", type=int, help="jobs in flight per worker")
    parser.add_argument("--log-level", help="DEBUG, INFO, WARNING, ...")


def settings_from(
    args: argparse.Namespace, flags: Mapping[str, tuple[str, Any]] | None = None
) -> Settings:
    """Settings from ``--config`` (or the environment) plus command-line overrides: the
    common flags and ``flags`` (``{"server.port": ("--port", 9000)}``; ``None`` values are
    ignored). An override is checked as the key it overrides is in the file (choices, no
    negative number, a port in range): a wrong one is a :class:`UsageError` naming the
    flag."""
    settings = Settings.load(args.config)
    chosen = {
        "store.url": ("--store-url", args.store_url or None),
        "worker.concurrency": ("--concurrency", args.concurrency),
        "log_level": ("--log-level", args.log_level or None),
        **(flags or {}),
    }
    for dotted, (flag, given) in chosen.items():
        if given is None:
            continue
        value, problem = check_value(dotted, given)
        if problem is not None:
            raise UsageError(f"{flag} {problem} (it overrides {_where(dotted)})")
        if dotted == "log_level":
            settings = replace(settings, log_level=value)
        else:
            section, _, key = dotted.partition(".")
            settings = settings.with_section(section, **{key: value})
    return settings


def _where(dotted: str) -> str:
    """``[server] port`` for ``server.port``; ``log_level`` for a top-level key."""
    section, _, key = dotted.rpartition(".")
    return f"[{section}] {key}" if section else key


def server_ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """TLS for the API listener when ``tls_cert``/``tls_key`` are set; mTLS with ``client_ca``."""
    server = settings.server
    if not server.tls_enabled:
        return None
    assert server.tls_cert is not None and server.tls_key is not None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(server.tls_cert), str(server.tls_key))
    if server.client_ca is not None:
        context.load_verify_locations(cafile=str(server.client_ca))
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def install_stop_signals(stop: Callable[[], None]) -> None:
    """Call ``stop`` on SIGTERM and SIGINT (graceful shutdown)."""
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop)


def settle_heap() -> None:
    """Once a long-running process has started (modules imported, settings, tools and routes
    built): move every object it holds into the collector's permanent generation, so the
    cyclic collector's full collections no longer walk the start-up heap. Under load
    ``serve`` made a full collection every few thousand documents, each about 60 ms of CPU
    and as long a pause of the event loop; frozen, about 2.5 ms (``bench.e2e``, 4
    December). Frozen objects are still freed when their last reference goes; only a cycle
    among them would never be collected, which is why this runs once, after start-up."""
    gc.freeze()

"""``lingang serve``: the HTTP API and, unless ``--no-worker``, in-process workers."""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging

from aiohttp import web

from gateway.cli._io import UsageError
from gateway.cli._ops import add_ops_argument, start_ops_listener
from gateway.cli._runtime import (
    add_settings_arguments,
    configure_logging,
    install_stop_signals,
    server_ssl_context,
    settings_from,
    settle_heap,
)
from gateway.service import open_services
from gateway.settings import Settings

log = logging.getLogger("lingang.serve")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "serve",
        help="run the HTTP API (and workers)",
        description="Run the gateway's HTTP API on [server].host:port; with in-process workers "
        "unless --no-worker. SIGTERM stops gracefully.",
    )
    add_settings_arguments(parser)
    parser.add_argument("--host", help="listen address (default [server].host)")
    parser.add_argument("--port", type=int, help="listen port (default [server].port)")
    parser.add_argument("--workers", type=int, help="in-process workers (default [worker].count)")
    parser.add_argument("--no-worker", action="store_true", help="API only; run `lingang worker`")
    add_ops_argument(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    settings = settings_from(
        args,
        {
            "server.host": ("--host", args.host),
            "server.port": ("--port", args.port),
            "worker.count": ("--workers", args.workers),
            "ops.listen": ("--ops-listen", args.ops_listen),
        },
    )
    configure_logging(settings.log_level)
    workers = 0 if args.no_worker else settings.worker.count
    asyncio.run(serve(settings, workers=workers))
    return 0


def _listen_error(settings: Settings, exc: OSError) -> UsageError:
    """What to do when the address cannot be listened on: which setting chooses it."""
    where = f"{settings.server.host}:{settings.server.port}"
    if exc.errno == errno.EADDRINUSE:
        return UsageError(
            f"cannot listen on {where}: another process is listening there (another "
            "`lingang serve`?). Stop it, or choose another port: --port, [server] port or "
            "LINGANG_PORT"
        )
    if exc.errno == errno.EACCES:
        return UsageError(
            f"cannot listen on {where}: permission denied (ports below 1024 need privileges): "
            "choose another port with --port, [server] port or LINGANG_PORT"
        )
    return UsageError(
        f"cannot listen on {where}: {exc.strerror or exc} (--host / --port, [server] host / "
        "port, LINGANG_HOST / LINGANG_PORT)"
    )


async def serve(settings: Settings, *, workers: int) -> None:
    """Serve until SIGTERM/SIGINT, then stop workers, the listener and the services."""
    from gateway.api import api_runner, create_app
    from gateway.api.metrics import METRICS

    stop = asyncio.Event()
    install_stop_signals(stop.set)  # a SIGTERM during start-up ends it cleanly, too
    services = await open_services(settings)
    pool = services.worker_pool(workers)
    app = create_app(services)
    runner = api_runner(app, shutdown_timeout=5.0)
    ops = None
    try:
        await runner.setup()
        site = web.TCPSite(
            runner,
            settings.server.host,
            settings.server.port,
            ssl_context=server_ssl_context(settings),
        )
        try:
            await site.start()
        except OSError as exc:
            raise _listen_error(settings, exc) from exc
        ops = await start_ops_listener(services, app[METRICS], "lingang serve")
        pool.start()
        settle_heap()
        scheme = "https" if settings.server.tls_enabled else "http"
        log.info(
            "listening",
            extra={
                "url": f"{scheme}://{settings.server.host}:{settings.server.port}",
                "workers": workers,
            },
        )
        print(
            f"lingang serve: listening on {scheme}://{settings.server.host}:{settings.server.port}",
            flush=True,
        )
        await stop.wait()
        log.info("stopping")
    finally:
        services.draining = True
        await pool.stop()
        if ops is not None:
            await ops.cleanup()
        await runner.cleanup()
        await services.close()

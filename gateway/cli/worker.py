"""``lingang worker``: workers only (processing and delivery), no HTTP API; with
``--ops-listen``, its own ``/livez``, ``/readyz`` and ``/metrics`` (:mod:`gateway.cli._ops`)."""

from __future__ import annotations

import argparse
import asyncio
import logging

from gateway.cli._io import UsageError
from gateway.cli._ops import add_ops_argument, start_ops_listener
from gateway.cli._runtime import (
    add_settings_arguments,
    configure_logging,
    install_stop_signals,
    settings_from,
    settle_heap,
)
from gateway.service import open_services
from gateway.settings import Settings

log = logging.getLogger("lingang.worker")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "worker",
        help="run workers (processing and delivery) without the API",
        description="Claim and run outbox jobs from the configured store until SIGTERM; "
        "in-flight jobs finish or are released on the way out.",
    )
    add_settings_arguments(parser)
    parser.add_argument(
        "--count", type=int, help="worker loops in this process (default [worker].count)"
    )
    add_ops_argument(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    settings = settings_from(
        args,
        {"worker.count": ("--count", args.count), "ops.listen": ("--ops-listen", args.ops_listen)},
    )
    if settings.worker.count < 1:
        if args.count is not None:
            raise UsageError(
                f"--count must be at least 1, got {settings.worker.count} (it overrides "
                "[worker] count): a worker process with no worker runs nothing"
            )
        raise UsageError(
            f"[worker] count (LINGANG_WORKERS) must be at least 1 for `lingang worker`, got "
            f"{settings.worker.count}: a worker process with no worker runs nothing (0 means "
            "no in-process workers to `lingang serve` only)"
        )
    configure_logging(settings.log_level)
    asyncio.run(work(settings))
    return 0


async def work(settings: Settings) -> None:
    """Run ``settings.worker.count`` workers until SIGTERM/SIGINT."""
    stop = asyncio.Event()
    install_stop_signals(stop.set)  # a SIGTERM during start-up ends it cleanly, too
    from gateway.api.metrics import ApiMetrics

    services = await open_services(settings)
    pool = services.worker_pool(settings.worker.count)
    metrics = ApiMetrics(services.job_metrics.registry, counts_seconds=settings.ops.counts_seconds)
    ops = None
    try:
        ops = await start_ops_listener(services, metrics, "lingang worker")
        pool.start()
        settle_heap()
        print(f"lingang worker: {len(pool.workers)} worker(s) running", flush=True)
        await stop.wait()
        log.info("stopping")
    finally:
        services.draining = True
        await pool.stop()
        if ops is not None:
            await ops.cleanup()
        await services.close()

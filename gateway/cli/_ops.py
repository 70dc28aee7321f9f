"""The operations listener of ``lingang serve`` and ``lingang worker``: its flag and its start
(:mod:`gateway.api.ops_listener` serves it)."""

from __future__ import annotations

import argparse
import errno
import logging

from aiohttp import web

from gateway.api.metrics import ApiMetrics
from gateway.api.ops_listener import OPS_PATHS, create_ops_app, ops_runner
from gateway.api.server import ApiRunner
from gateway.cli._io import UsageError
from gateway.service import Services
from gateway.settings.sections import parse_listen

log = logging.getLogger("lingang.ops")

WHERE_SET = "--ops-listen, [ops] listen or LINGANG_OPS_LISTEN"


def add_ops_argument(parser: argparse.ArgumentParser) -> None:
    """``--ops-listen HOST:PORT`` (also spelt ``--metrics``)."""
    parser.add_argument(
        "--ops-listen",
        "--metrics",
        dest="ops_listen",
        metavar="HOST:PORT",
        type=_listen_address,
        help="serve /livez, /readyz and /metrics over plain HTTP on HOST:PORT (default "
        "[ops] listen; off when empty)",
    )


def _listen_address(text: str) -> str:
    try:
        parse_listen(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


async def start_ops_listener(
    services: Services, metrics: ApiMetrics, command: str
) -> ApiRunner | None:
    """Serve the operations app on ``[ops] listen``, if set; its runner (clean it up on
    the way out), else ``None``. ``command`` (``lingang worker``) starts the line printed."""
    settings = services.settings
    address = settings.ops.address
    if address is None:
        return None
    host, port = address
    runner = ops_runner(create_ops_app(services, metrics))
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        raise _listen_error(settings.ops.listen, exc) from exc
    bound = runner.addresses[0]
    url = f"http://{_url_host(host)}:{bound[1]}"
    log.info("operations listener", extra={"url": url, "paths": list(OPS_PATHS)})
    print(f"{command}: operations listener on {url} ({' '.join(OPS_PATHS)})", flush=True)
    return runner


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _listen_error(listen: str, exc: OSError) -> UsageError:
    """What to do when the operations listener's address cannot be listened on."""
    if exc.errno == errno.EADDRINUSE:
        reason = "another process is listening there"
    elif exc.errno == errno.EACCES:
        reason = "permission denied (ports below 1024 need privileges)"
    else:
        reason = exc.strerror or str(exc)
    return UsageError(
        f"cannot listen on {listen} for the operations listener: {reason}. Choose another "
        f"address with {WHERE_SET}"
    )

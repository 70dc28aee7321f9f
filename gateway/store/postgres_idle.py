"""Whether an idle PostgreSQL connection the gateway kept is still usable, without asking.

A pooled connection, or the one that sends ``NOTIFY``, sits idle between uses; the server
may end it meanwhile (a restart, a failover, ``pg_terminate_backend``, an idle timeout).
The gateway then learns it only from the next statement, which fails. An idle connection
that asked nothing and listens to no channel has nothing coming from the server, so data
waiting on its socket can only be the server's goodbye (``terminating connection due to
administrator command``) or the end of the stream: :func:`ended_by_server` looks for it with
a zero-timeout ``poll``, no round trip.
"""

from __future__ import annotations

import select
from typing import Any

import psycopg


def ended_by_server(conn: psycopg.AsyncConnection[Any]) -> bool:
    """Whether an idle connection is already unusable: closed, or its socket readable
    (``poll``, unlike ``select``, takes any descriptor number)."""
    if conn.closed or conn.broken:
        return True
    try:
        poller = select.poll()
        poller.register(conn.fileno(), select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, psycopg.Error):
        return True

"""What the stage-pool tests' child processes run (importable by a spawned child)."""

from __future__ import annotations

import os
import time
from multiprocessing.connection import Connection

from gateway.jobs.stage_pool import STOP, Handler, child_main, pack, unpack


def _answer(request: bytes) -> bytes:
    """``pid`` answers the child's process id, ``big:N`` N bytes, anything else itself."""
    if request == b"pid":
        return str(os.getpid()).encode()
    if request.startswith(b"big:"):
        return b"x" * int(request[4:])
    return request


def _setup() -> Handler:
    return _answer


def echo_main(conn: Connection) -> None:
    """A child answering :func:`_answer`."""
    child_main(conn, _setup)


def batch_main(conn: Connection) -> None:
    """A child that answers each request with how many requests its message carried
    (``sleep:S`` first sleeps S seconds)."""
    while (message := conn.recv_bytes()) != STOP:
        requests = unpack(message)
        for request in requests:
            if request.startswith(b"sleep:"):
                time.sleep(float(request[6:]))
        conn.send_bytes(pack([str(len(requests)).encode()] * len(requests)))


def short_main(conn: Connection) -> None:
    """A child that breaks the protocol: ``short`` gets no answer at all in the reply to its
    message, then the child hangs on (as one that went wrong might); anything else is
    answered as by :func:`echo_main`."""
    while (message := conn.recv_bytes()) != STOP:
        requests = unpack(message)
        if b"short" in requests:
            conn.send_bytes(pack([]))
            time.sleep(3600)
        conn.send_bytes(pack([_answer(request) for request in requests]))

"""What the stage-pool tests' child processes run (importable by a spawned child)."""

from __future__ import annotations

import os
from multiprocessing.connection import Connection

from gateway.jobs.stage_pool import Handler, child_main


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

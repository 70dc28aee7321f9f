"""Reading an input file without trusting its size."""

from __future__ import annotations

from pathlib import Path

from gateway.errors import UnsafeInputError
from gateway.ingest.types import DEFAULT_LIMITS, IngestLimits

_CHUNK = 1024 * 1024


def read_input(path: Path, limits: IngestLimits = DEFAULT_LIMITS) -> bytes:
    """The bytes of ``path``, refusing (before reading it all) a file over the input limit.

    The size is checked on ``stat`` and again while reading, so a file that grows, a pipe or a
    device cannot make the gateway hold more than ``limits.max_input_bytes`` + one chunk.
    """
    limit = limits.max_input_bytes
    if path.is_file() and path.stat().st_size > limit:
        raise UnsafeInputError(
            f"{path.name} is {path.stat().st_size} bytes, more than the limit of {limit}",
            rule="input.max-bytes",
        )
    chunks: list[bytes] = []
    total = 0
    with path.open("rb") as handle:
        while chunk := handle.read(min(_CHUNK, limit + 1 - total) or 1):
            total += len(chunk)
            if total > limit:
                raise UnsafeInputError(
                    f"{path.name} is more than the limit of {limit} bytes",
                    rule="input.max-bytes",
                )
            chunks.append(chunk)
    return b"".join(chunks)

"""Reading an input file without trusting its size."""

from __future__ import annotations

from pathlib import Path

from gateway.errors import UnsafeInputError
from gateway.ingest.types import DEFAULT_LIMITS, IngestLimits

_CHUNK = 1024 * 1024


class FileTooLarge(Exception):
    """A file over a size limit: ``size`` as ``stat`` gave it, or ``None`` when it grew past
    the limit while being read (or is a pipe or a device, whose size ``stat`` does not say)."""

    def __init__(self, size: int | None) -> None:
        super().__init__(size)
        self.size = size


def read_bounded_file(path: Path, limit: int) -> bytes:
    """The bytes of ``path``, refusing (:class:`FileTooLarge`) a file over ``limit`` bytes
    before reading it all: the size is checked on ``stat`` and again while reading, so a file
    that grows, a pipe or a device cannot make the caller hold more than ``limit`` + one
    chunk."""
    if path.is_file() and path.stat().st_size > limit:
        raise FileTooLarge(path.stat().st_size)
    chunks: list[bytes] = []
    total = 0
    with path.open("rb") as handle:
        while chunk := handle.read(min(_CHUNK, limit + 1 - total) or 1):
            total += len(chunk)
            if total > limit:
                raise FileTooLarge(None)
            chunks.append(chunk)
    return b"".join(chunks)


def read_input(path: Path, limits: IngestLimits = DEFAULT_LIMITS) -> bytes:
    """The bytes of ``path``, refusing (before reading it all) a file over the input limit
    (:func:`read_bounded_file`)."""
    limit = limits.max_input_bytes
    try:
        return read_bounded_file(path, limit)
    except FileTooLarge as big:
        if big.size is None:
            message = f"{path.name} is more than the limit of {limit} bytes"
        else:
            message = f"{path.name} is {big.size} bytes, more than the limit of {limit}"
        raise UnsafeInputError(message, rule="input.max-bytes") from None

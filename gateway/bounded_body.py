"""Reading an HTTP body whole, but never more than a limit.

``StreamReader.read(n)`` returns as soon as *some* data has arrived, so a body read that
way may be only its first chunk; :func:`read_bounded` reads to the end and stops as soon as
the body is longer than the limit.
"""

from __future__ import annotations

from aiohttp import StreamReader

CHUNK_BYTES = 64 * 1024


async def read_bounded(stream: StreamReader, limit: int) -> bytes | None:
    """The whole body, or ``None`` as soon as it exceeds ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in stream.iter_chunked(CHUNK_BYTES):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)

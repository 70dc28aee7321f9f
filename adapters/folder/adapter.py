"""Deliver by writing files: a temp file, ``fsync``, then ``rename`` into place.

Options::

    type = "folder"
    path = "outbox/hk"        # the target directory (relative to the data dir); created if missing
    attachments = false       # also write each attachment as <name>.<kind>.<ext>, before the
                              # document itself (e.g. a received invoice's canonical JSON and
                              # readable HTML page for the local system)

The file is named after the transport message id (made filesystem-safe, see
:func:`safe_name`: distinct ids never share a name) plus an extension from the content type, so a retry of the same envelope finds its file already in place and
answers with a duplicate receipt instead of writing a second copy. Readers of the directory
never see a partial file: only complete files are renamed in, and names starting with ``.``
are in-progress temp files.

A process killed while writing leaves its temp file behind. Temp files are named
``.<host>.<pid>.<random>.part`` so that the adapter, when it starts, removes those of its own
host whose process is gone, and any temp file older than :data:`STALE_PART_SECONDS` (another
host's crash, or an older naming).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import socket
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from adapters.base import AdapterContext, Envelope, Receipt
from gateway.errors import ConfigError, PermanentDeliveryError, TransientDeliveryError

_UNSAFE = re.compile(r"[^A-Za-z0-9._@-]")
PART_SUFFIX = ".part"
STALE_PART_SECONDS = 24 * 3600.0
"""A temp file this old is a leftover whoever wrote it: no write takes a day."""
_HOST = _UNSAFE.sub("_", socket.gethostname())[:64] or "host"
_EXTENSIONS = {"application/xml": ".xml", "text/xml": ".xml", "application/json": ".json"}
_ATTACHMENT_EXTENSIONS = {"canonical": ".json", "readable": ".html", "signature": ".xml"}


MAX_NAME = 200
"""The longest file name stem :func:`safe_name` gives."""


def safe_name(message_id: str) -> str:
    """A file name for a message id: never hidden, empty or outside the directory, and one
    per message id. An id of safe characters (``A-Z a-z 0-9 . _ @ -``, not starting with
    ``.``, at most :data:`MAX_NAME` long) is its own name; any other id has its unsafe
    characters replaced by ``_``, is shortened, and ends in ``-`` and 16 hex digits of its
    SHA-256, so two ids that would read alike (``a/b`` and ``a_b``, two long ids with the
    same start) never share a file, which would drop the second as a duplicate."""
    if not message_id:
        raise PermanentDeliveryError("empty message id", field="message_id")
    name = _UNSAFE.sub("_", message_id).lstrip(".")
    if name == message_id and len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(message_id.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{name[: MAX_NAME - 17]}-{digest}"


class FolderAdapter:
    """Writes each envelope once into one directory."""

    def __init__(self, name: str, directory: Path, *, attachments: bool = False) -> None:
        self.name = name
        self.directory = directory
        self.attachments = attachments
        """Whether attachments are written beside the document."""

    @classmethod
    def from_config(
        cls, name: str, options: Mapping[str, Any], context: AdapterContext
    ) -> FolderAdapter:
        """Build from ``path`` (relative to the data dir)."""
        unknown = sorted(set(options) - {"path", "attachments"})
        if unknown:
            raise ConfigError(
                f"adapter {name!r}: unknown options {unknown}", field=f"adapters.{name}"
            )
        raw = options.get("path")
        if not raw:
            raise ConfigError(f"adapter {name!r}: path is required", field=f"adapters.{name}.path")
        directory = Path(str(raw)).expanduser()
        if not directory.is_absolute():
            directory = context.data_dir / directory
        attachments = str(options.get("attachments", False)).lower() in {"1", "true", "yes"}
        adapter = cls(name, directory, attachments=attachments)
        adapter.remove_leftovers()
        return adapter

    def remove_leftovers(self) -> list[Path]:
        """Delete temp files of writers that died (see the module docstring); the removed."""
        removed: list[Path] = []
        try:
            candidates = list(self.directory.glob(f".*{PART_SUFFIX}"))
        except OSError:
            return removed
        now = time.time()
        for path in candidates:
            try:
                if _abandoned(path, now):
                    path.unlink()
                    removed.append(path)
            except OSError:
                continue
        return removed

    def endpoint_key(self, envelope: Envelope) -> str:
        """Every envelope goes to the one directory."""
        return str(self.directory)

    def target(self, envelope: Envelope) -> Path:
        """Where the envelope's file goes."""
        extension = _EXTENSIONS.get(envelope.content_type.split(";")[0].strip(), ".bin")
        return self.directory / f"{safe_name(envelope.message_id)}{extension}"

    async def deliver(self, envelope: Envelope) -> Receipt:
        """Write the file (in a thread; the disk may be slow)."""
        return await asyncio.to_thread(self._write, envelope)

    def _write(self, envelope: Envelope) -> Receipt:
        target = self.target(envelope)
        digest = hashlib.sha256(envelope.body).hexdigest()
        duplicate = target.exists()
        if not duplicate:
            try:
                if self.attachments:
                    for kind, data in envelope.attachments.items():
                        self._write_atomically(self._beside(target, kind), data)
                self._write_atomically(target, envelope.body)
            except OSError as exc:
                raise TransientDeliveryError(f"{self.name}: cannot write {target}: {exc}") from exc
        details = {"path": str(target), "sha256": digest}
        return Receipt(
            message_id=envelope.message_id,
            adapter=self.name,
            remote_id=target.name,
            duplicate=duplicate,
            body=json.dumps(details, sort_keys=True).encode(),
            content_type="application/json",
            details=details,
        )

    @staticmethod
    def _beside(target: Path, kind: str) -> Path:
        """The file of attachment ``kind`` next to ``target`` (written before it, so the
        document's presence means its attachments are complete)."""
        extension = _ATTACHMENT_EXTENSIONS.get(kind, ".bin")
        return target.with_name(f"{target.stem}.{_UNSAFE.sub('_', kind)}{extension}")

    def _write_atomically(self, target: Path, data: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        prefix = f".{_HOST}.{os.getpid()}."
        fd, temp = tempfile.mkstemp(dir=self.directory, prefix=prefix, suffix=PART_SUFFIX)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        directory_fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(directory_fd)
        finally:
            os.close(directory_fd)

    async def ping(self) -> bool:
        """Whether the directory exists (or can be made) and is writable."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError:
            return False
        return os.access(self.directory, os.W_OK)

    async def aclose(self) -> None:
        """Nothing to release."""


def _abandoned(path: Path, now: float) -> bool:
    """Whether a temp file's writer is gone: a dead pid of this host, or old age."""
    if now - path.stat().st_mtime > STALE_PART_SECONDS:
        return True
    host, _, rest = path.name[1:].partition(".")
    pid_text = rest.partition(".")[0]
    if host != _HOST or not pid_text.isdigit():
        return False
    return not _running(int(pid_text))


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

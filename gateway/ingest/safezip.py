"""Hardened reading of a zip package (an OFD is a zip).

The archive is treated as hostile. Before anything is decompressed the central directory is
checked: entry count, path traversal / absolute names, encrypted entries, declared sizes and
compression ratios. While an entry is read its real size is counted again (declared sizes can
lie), so a zip bomb stops at the per-entry limit. Lookups are case-insensitive, because real
OFD files refer to ``TPLS/…`` while holding ``Doc_0/Tpls/…``.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
import zlib

from gateway.errors import InputError, UnsafeInputError
from gateway.ingest.types import IngestLimits

_CHUNK = 64 * 1024
_RATIO_FLOOR = 64 * 1024
"""Entries smaller than this are not ratio-checked (tiny XML compresses well legitimately)."""


def _check_name(name: str) -> str:
    """The normalised entry name; refuses empty and absolute names and ``..`` components."""
    if not name:
        raise UnsafeInputError("a zip entry has an empty name", rule="zip.entry-name")
    if "\x00" in name:
        raise UnsafeInputError(f"zip entry name {name!r} contains NUL", rule="zip.entry-name")
    unified = name.replace("\\", "/")
    if unified.startswith("/") or (len(unified) > 1 and unified[1] == ":"):
        raise UnsafeInputError(
            f"zip entry {name!r} has an absolute path", rule="zip.path-traversal"
        )
    if ".." in unified.split("/"):
        raise UnsafeInputError(f"zip entry {name!r} leaves the archive", rule="zip.path-traversal")
    return posixpath.normpath(unified).lower()


class SafeZip:
    """A zip archive opened under :class:`IngestLimits`; entries are read on demand."""

    def __init__(self, data: bytes, limits: IngestLimits, what: str = "OFD package") -> None:
        self.what = what
        self.limits = limits
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self._zip.infolist()
        except (
            zipfile.BadZipFile,
            zipfile.LargeZipFile,
            NotImplementedError,
            OSError,
            ValueError,
            EOFError,
        ) as exc:
            raise InputError(
                f"{what} is not a readable zip (truncated or corrupt): {exc}", rule="zip.corrupt"
            ) from exc
        if len(infos) > limits.zip_max_members:
            raise UnsafeInputError(
                f"{what} has {len(infos)} entries, more than {limits.zip_max_members}",
                rule="zip.max-members",
            )
        self._index: dict[str, zipfile.ZipInfo] = {}
        total = 0
        for info in infos:
            key = _check_name(info.filename)
            if info.is_dir():
                continue
            if key in self._index:
                raise UnsafeInputError(
                    f"{what} holds {info.filename!r} twice (names compared case-insensitively)",
                    rule="zip.duplicate-entry",
                )
            self._check_sizes(info)
            total += info.file_size
            if total > limits.zip_max_total_bytes:
                raise UnsafeInputError(
                    f"{what} unpacks to more than {limits.zip_max_total_bytes} bytes",
                    rule="zip.max-total-bytes",
                )
            self._index[key] = info

    def _check_sizes(self, info: zipfile.ZipInfo) -> None:
        if info.flag_bits & 0x1:
            raise InputError(
                f"{self.what} entry {info.filename!r} is encrypted", rule="zip.encrypted"
            )
        if info.file_size > self.limits.zip_max_member_bytes:
            raise UnsafeInputError(
                f"{self.what} entry {info.filename!r} unpacks to {info.file_size} bytes, more "
                f"than {self.limits.zip_max_member_bytes}",
                rule="zip.max-member-bytes",
            )
        if info.file_size > _RATIO_FLOOR:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > self.limits.zip_max_ratio:
                raise UnsafeInputError(
                    f"{self.what} entry {info.filename!r} has compression ratio {ratio:.0f}:1, "
                    f"more than {self.limits.zip_max_ratio}:1 (zip bomb?)",
                    rule="zip.max-ratio",
                )

    def names(self) -> list[str]:
        """The entry names as stored."""
        return [info.filename for info in self._index.values()]

    def find(self, name: str) -> str | None:
        """The stored name of ``name`` (case-insensitive, normalised), if present."""
        try:
            key = _check_name(name)
        except UnsafeInputError:
            return None
        info = self._index.get(key)
        return info.filename if info else None

    def read(self, name: str) -> bytes:
        """The bytes of one entry, never more than the per-entry limit."""
        key = _check_name(name)
        info = self._index.get(key)
        if info is None:
            raise InputError(f"{self.what} has no entry {name!r}", rule="zip.missing-entry")
        limit = min(info.file_size, self.limits.zip_max_member_bytes)
        chunks: list[bytes] = []
        size = 0
        try:
            with self._zip.open(info) as handle:
                while chunk := handle.read(_CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise UnsafeInputError(
                            f"{self.what} entry {info.filename!r} unpacks to more than its "
                            f"declared {info.file_size} bytes",
                            rule="zip.size-mismatch",
                        )
                    chunks.append(chunk)
        except (
            zipfile.BadZipFile,
            zlib.error,
            OSError,
            EOFError,
            NotImplementedError,
            ValueError,
        ) as exc:
            raise InputError(
                f"{self.what} entry {info.filename!r} cannot be read (truncated or corrupt): {exc}",
                rule="zip.corrupt",
            ) from exc
        except RuntimeError as exc:  # zipfile: "File is encrypted, password required"
            raise InputError(
                f"{self.what} entry {info.filename!r}: {exc}", rule="zip.encrypted"
            ) from exc
        return b"".join(chunks)

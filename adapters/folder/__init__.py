"""The folder adapter: drop each document into a directory, atomically. See :class:`FolderAdapter`."""

from __future__ import annotations

from adapters.folder.adapter import FolderAdapter

__all__ = ["FolderAdapter"]

"""Where the gateway keeps its data, and (later) its configuration file."""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "LINGANG_HOME"
"""Environment variable naming the data directory (artefacts, SQLite store, keys, outputs)."""


def data_home() -> Path:
    """The data directory: ``$LINGANG_HOME``, else ``~/.lingang``."""
    explicit = os.environ.get(HOME_ENV)
    return Path(explicit).expanduser() if explicit else Path.home() / ".lingang"

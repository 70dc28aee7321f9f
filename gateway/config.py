"""Where the gateway keeps its data, for the code below the settings layer that has not yet
been handed its data directory.

TODO(merge): :mod:`gateway.settings` owns this now (:func:`gateway.settings.data_home`); only
``gateway.validation`` (``Validator``, the JVM host, the pool) and ``gateway.artefacts``
(default ``home`` arguments) still call it. Delete this module once they take the directory
from their callers (``Settings.artefacts_home``), so that only the settings read the
environment.
"""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "LINGANG_HOME"
"""Environment variable naming the data directory (artefacts, SQLite store, keys, outputs)."""


def data_home() -> Path:
    """The data directory: ``$LINGANG_HOME``, else ``~/.lingang``."""
    explicit = os.environ.get(HOME_ENV)
    return Path(explicit).expanduser() if explicit else Path.home() / ".lingang"

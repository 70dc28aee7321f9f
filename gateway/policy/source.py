"""The export policy in force, re-read when its file changes."""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from gateway.errors import ConfigError
from gateway.policy.policyfile import DEFAULT_POLICY, Policy, load_policy

log = logging.getLogger("lingang.policy")


class PolicySource:
    """The policy in force: the file re-read when it changes (checked at most every
    ``check_seconds``); a changed file with errors is logged and the last good version kept."""

    def __init__(self, path: Path | None, *, check_seconds: float = 1.0) -> None:
        self.path = path
        self.check_seconds = check_seconds
        self._lock = threading.Lock()
        self._policy = load_policy(path) if path is not None else DEFAULT_POLICY
        log.info("policy in force", extra=self._facts())
        self._stamp = self._mtime()
        self._checked = _now()

    def _mtime(self) -> float | None:
        if self.path is None:
            return None
        try:
            return os.stat(self.path).st_mtime
        except OSError:
            return None

    def current(self) -> Policy:
        """The policy to decide with now."""
        if self.path is None or _now() - self._checked < self.check_seconds:
            return self._policy
        with self._lock:
            self._checked = _now()
            stamp = self._mtime()
            if stamp != self._stamp:
                self._stamp = stamp
                try:
                    self._policy = load_policy(self.path)
                    log.info("policy reloaded", extra=self._facts())
                except ConfigError as exc:
                    log.error(
                        "policy file not reloaded, version %s stays: %s", self._policy.version, exc
                    )
            return self._policy

    def _facts(self) -> dict[str, object]:
        """What the logs say of the policy in force (the operator sees its file's path)."""
        return {
            "version": self._policy.version,
            "file": str(self.path) if self.path is not None else None,
            "sha256": [digest for _, digest in self._policy.files],
        }

    def reload(self) -> Policy:
        """Re-read the file now (errors raise, the old version stays)."""
        if self.path is not None:
            with self._lock:
                self._policy = load_policy(self.path)
                self._stamp = self._mtime()
        return self._policy


def _now() -> float:
    return time.monotonic()

"""How the Schematron engines run: the validation layer's own typed options.

Validation reads no environment variable and no configuration file: the settings layer
(:mod:`gateway.settings`, section ``[validation]`` and its ``LINGANG_*`` overrides) builds an
:class:`EngineOptions` and hands it down. ``None`` in a field means "the engine's default".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ENGINE_CHOICES = ("auto", "jvm", "saxonche")
"""``auto``: the JVM when Java and Saxon-HE are installed, else SaxonC."""

RULES_CHOICES = ("official", "fast")
"""``official``: the official compiled XSLT as published; ``fast``: our compiled form of the
same rules (:mod:`gateway.validation.fastrules`), proven to give identical findings."""


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """The Schematron engine's options, field by field with their defaults."""

    engine: str = "auto"
    """One of :data:`ENGINE_CHOICES`."""
    work_dir: Path | None = None
    """Where the engine may compile and cache (the JVM host's classes); default: the
    validator's artefact home."""
    saxon_jar: Path | None = None
    """Saxon-HE's jar for the JVM engine; default Debian's ``/usr/share/java/Saxon-HE.jar``."""
    java_home: Path | None = None
    """A JDK to take ``java`` and ``javac`` from; default: ``PATH``."""
    jvm_threads: int | None = None
    """Worker threads in the JVM; default: the number of CPUs."""
    jvm_options: tuple[str, ...] | None = None
    """JVM command-line options; default: the engine's tuned set."""
    jvm_warm_runs: int | None = None
    """Warm-up runs per thread and profile when a stage process starts; default 100."""
    rules: str = "fast"
    """One of :data:`RULES_CHOICES`: which compiled form of the official rules runs (``fast``
    unless ``official`` is asked for, e.g. ``lingang validate --rules official`` for audits)."""
    explicit: bool = False
    """Whether the engine was chosen explicitly (a one-shot command then keeps it instead
    of preferring the in-process engine)."""

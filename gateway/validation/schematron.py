"""Run official compiled Schematron (XSLT 2.0) with Saxon and read the SVRL it writes.

Two engines run the same official XSLT: :class:`SaxonCEngine` in this process (the functions
below) and :class:`JvmEngine`, Saxon-HE on the JVM in a child process (:mod:`.jvm`);
:func:`engine` chooses. For SaxonC: one Saxon processor per process; each stylesheet is
compiled once per process and the executable reused. The input is parsed once into a Saxon tree and handed to every stylesheet.
A transform that fails, or SVRL that cannot be read, yields a fatal ``ENGINE`` finding: a
document is never "valid" because the rules could not run.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from saxonche import PySaxonApiError, PySaxonProcessor, PyXdmNode

from gateway.errors import ArtefactError
from gateway.validation import jvm
from gateway.validation.options import ENGINE_CHOICES, EngineOptions
from gateway.validation.report import Finding
from gateway.validation.schc import compile_schematron
from gateway.validation.svrl import (
    ENGINE_RULE,
    SVRL,
    engine_finding,
    parse_svrl,
)

__all__ = [
    "ENGINE_RULE",
    "Finding",
    "JvmEngine",
    "SaxonCEngine",
    "SchematronEngine",
    "engine",
    "prefer_in_process",
]

log = logging.getLogger(__name__)
_LOCK = threading.RLock()
_processor: PySaxonProcessor | None = None
_compiled: dict[Path, Any] = {}
_counter: Any = None
_COUNT = f"""<xsl:stylesheet version="3.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
 xmlns:svrl="{SVRL}"><xsl:template match="/"><xsl:sequence select="if (/svrl:schematron-output)
 then count(/svrl:schematron-output/(svrl:failed-assert | svrl:successful-report))
 else -1"/></xsl:template></xsl:stylesheet>"""
"""Counts the findings of an SVRL result (-1: not SVRL); a compiled stylesheet, since an XPath
evaluation through SaxonC's API compiles its expression again each time (about 4x slower)."""


def saxon() -> PySaxonProcessor:
    """The process's Saxon processor (created on first use)."""
    global _processor
    with _LOCK:
        if _processor is None:
            _processor = PySaxonProcessor(license=False)
        return _processor


def compile_stylesheet(path: Path) -> Any:
    """The compiled executable for ``path``, compiled on first use and cached per process.

    An official ``.xslt`` is compiled as it is; an official ``.sch`` (rules published without
    a compiled XSLT) is first turned into XSLT by :mod:`gateway.validation.schc`.
    """
    with _LOCK:
        executable = _compiled.get(path)
        if executable is None:
            compiler = saxon().new_xslt30_processor()
            try:
                if path.suffix == ".sch":
                    text = compile_schematron(path.read_bytes(), what=str(path)).decode("utf-8")
                    executable = compiler.compile_stylesheet(stylesheet_text=text)
                else:
                    executable = compiler.compile_stylesheet(stylesheet_file=str(path))
            except PySaxonApiError as exc:
                raise ArtefactError(f"cannot compile official stylesheet {path}: {exc}") from exc
            if executable is None:
                raise ArtefactError(f"cannot compile official stylesheet {path}")
            _compiled[path] = executable
        return executable


def parse_document(xml_text: str) -> tuple[Any, Finding | None]:
    """Parse the document into a Saxon tree; on failure return a fatal finding instead."""
    try:
        with _LOCK:
            node = saxon().parse_xml(xml_text=xml_text)
    except PySaxonApiError as exc:
        return None, engine_finding("saxon", f"Saxon could not parse the document: {exc}")
    if node is None:
        return None, engine_finding("saxon", "Saxon could not parse the document")
    return node, None


def _finding_count(document: Any) -> int:
    """Failed asserts plus successful reports in an SVRL result; -1 when it is not SVRL."""
    global _counter
    if not isinstance(document, PyXdmNode):
        return -1
    if _counter is None:
        _counter = saxon().new_xslt30_processor().compile_stylesheet(stylesheet_text=_COUNT)
    result = _counter.transform_to_value(xdm_node=document)
    item = result.head if result is not None and result.size > 0 else None
    return int(str(item)) if item is not None else -1


def run_stylesheet(executable: Any, node: Any, source: str) -> list[Finding]:
    """Apply one compiled Schematron to a parsed document; its findings (or an engine error).

    The SVRL stays a Saxon tree and its findings are counted there by a small stylesheet
    (not through SaxonC's node API, whose use from the gateway's worker threads crashed the
    process); only when there are some is it serialised and read with lxml (most documents
    sent have none).
    """
    try:
        with _LOCK:
            result = executable.transform_to_value(xdm_node=node)
            document = result.head if result is not None and result.size > 0 else None
            if document is None:
                return [engine_finding(source, f"the {source} rules produced no report")]
            count = _finding_count(document)
            svrl = str(document) if count > 0 else ""
    except PySaxonApiError as exc:
        return [engine_finding(source, f"the {source} rules failed to run: {exc}")]
    if count < 0:
        return [engine_finding(source, f"the {source} rules did not produce an SVRL report")]
    return parse_svrl(svrl, source) if count else []


class SaxonCEngine:
    """Schematron in this process with SaxonC-HE (``saxonche``): always available."""

    name = "saxonche"
    WARM_LINES = 3

    def compile(self, path: Path) -> Any:
        """The compiled executable for ``path`` (cached per process)."""
        return compile_stylesheet(path)

    def run(self, xml: bytes, rules: Sequence[tuple[str, Any]]) -> list[Finding]:
        """The findings of each (source, executable) in ``rules`` on ``xml``."""
        node, failure = parse_document(xml.decode("utf-8"))
        if failure is not None:
            return [failure]
        findings: list[Finding] = []
        for source, executable in rules:
            findings.extend(run_stylesheet(executable, node, source))
        return findings

    def warm(self, xml: bytes, rules: Sequence[tuple[str, Any]]) -> None:
        """Run the rules once (Saxon compiles template rules on first use)."""
        self.run(xml, rules)

    def cpu_seconds(self) -> float:
        """CPU time spent outside this process: none."""
        return 0.0


class JvmEngine:
    """Schematron with Saxon-HE on the JVM, in this process's child (:mod:`.jvm`)."""

    name = "jvm"
    WARM_LINES = 20
    WARM_RUNS = 100
    """Runs of the warm-up invoice per core, enough for the JIT to compile the rules
    (:attr:`EngineOptions.jvm_warm_runs` overrides it)."""

    def __init__(self, options: EngineOptions | None = None) -> None:
        self.options = options or EngineOptions()
        self._warmed: set[tuple[int, ...]] = set()

    def host(self) -> jvm.JvmHost:
        """The JVM host these options run on (started on first use)."""
        return jvm.host(self.options)

    def compile(self, path: Path) -> Any:
        """The JVM handle of ``path`` (a ``.sch`` is compiled to XSLT here first)."""
        host = self.host()
        with _LOCK:
            handle = host.handle(path)
            if handle is None:
                text = None
                if path.suffix == ".sch":
                    text = compile_schematron(path.read_bytes(), what=str(path))
                handle = host.compile(path, text)
            return handle

    def run(self, xml: bytes, rules: Sequence[tuple[str, Any]]) -> list[Finding]:
        """The findings of each (source, handle) in ``rules`` on ``xml``."""
        return self.host().run(xml, rules)

    def warm(self, xml: bytes, rules: Sequence[tuple[str, Any]]) -> None:
        """Run the rules often enough, on every JVM thread, for the JIT to settle."""
        host = self.host()
        handles = [handle for _, handle in rules]
        runs = self.options.jvm_warm_runs
        runs = self.WARM_RUNS if runs is None else runs
        if tuple(handles) in self._warmed or runs <= 0:
            return
        self._warmed.add(tuple(handles))
        threads = host.threads
        with ThreadPoolExecutor(threads) as pool:
            for future in [pool.submit(host.warm, xml, handles, runs) for _ in range(threads)]:
                future.result()

    def cpu_seconds(self) -> float:
        """CPU time the JVM child has used so far."""
        return self.host().cpu_seconds()


SchematronEngine = SaxonCEngine | JvmEngine
_engines: dict[EngineOptions, SchematronEngine] = {}


def engine(options: EngineOptions | None = None) -> SchematronEngine:
    """The process's Schematron engine for ``options`` (one per distinct options).

    ``auto`` (the default) takes the JVM when Java and Saxon-HE are installed, and SaxonC
    otherwise; ``jvm`` insists on the JVM (:class:`ArtefactError` when it cannot run);
    ``saxonche`` never starts a JVM. Both run the same XSLT and give the same findings (the
    conformance tests run every official case through each).
    """
    options = options or EngineOptions()
    with _LOCK:
        chosen = _engines.get(options)
        if chosen is not None:
            return chosen
        choice = options.engine.strip().lower() or "auto"
        if choice not in ENGINE_CHOICES:
            raise ArtefactError(
                f"Schematron engine {options.engine!r}: expected one of {', '.join(ENGINE_CHOICES)}",
                field="validation.engine",
            )
        if choice == "saxonche":
            chosen = SaxonCEngine()
        else:
            chosen = _try_jvm(options, required=choice == "jvm")
        _engines[options] = chosen
        return chosen


def _try_jvm(options: EngineOptions, *, required: bool) -> SchematronEngine:
    try:
        jvm.host(options)
    except (jvm.JvmUnavailable, OSError) as exc:
        if required:
            raise ArtefactError(f"the JVM Schematron engine cannot run: {exc}") from exc
        log.info("Schematron on SaxonC (no JVM engine: %s)", exc)
        return SaxonCEngine()
    return JvmEngine(options)


def prefer_in_process(options: EngineOptions | None = None) -> EngineOptions:
    """The options for a command that validates a few documents and exits: SaxonC, unless
    the engine was chosen explicitly (a JVM's start and JIT warm-up would cost more than
    they save)."""
    options = options or EngineOptions()
    return options if options.explicit else replace(options, engine="saxonche")

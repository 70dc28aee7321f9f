"""Run the official compiled Schematron with Saxon-HE on the JVM, in a child process.

The same official XSLT runs about twice as fast per CPU-second on the JVM (its JIT compiler)
as in SaxonC's ahead-of-time compiled image, so where a Java runtime and Debian's Saxon-HE
(``libsaxonhe-java``) are installed the gateway prefers this engine (see
:func:`gateway.validation.schematron.engine`). The host program is our own
``java/LingangSchematron.java``, compiled once into the data directory; it speaks the framed
protocol described at the top of that file over the child's stdin and stdout.

One host per Python process, started on first use, with a pool of worker threads: several
threads (or an event loop's executor) can validate at once. If the JVM dies it is started again
and the stylesheets recompiled in the same order (so handles stay valid); the document in hand
is retried once, and a second failure becomes a fatal ``ENGINE`` finding.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import os
import shutil
import struct
import subprocess
import tempfile
import threading
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from importlib import resources
from pathlib import Path

from gateway.errors import ArtefactError
from gateway.validation.options import EngineOptions
from gateway.validation.report import Finding
from gateway.validation.svrl import engine_finding, svrl_finding

log = logging.getLogger(__name__)

US, RS, GS = "\x1f", "\x1e", "\x1d"
SOURCE_NAME = "LingangSchematron.java"
MAIN_CLASS = "LingangSchematron"
DEFAULT_JAR = Path("/usr/share/java/Saxon-HE.jar")
JVM_OPTIONS = ("-XX:+UseSerialGC", "-Xmn32m", "-Xmx1g", "-Xss8m", "-XX:+ExitOnOutOfMemoryError")
"""Default JVM options (:attr:`EngineOptions.jvm_options` replaces them): the serial collector
suits short transforms that leave little garbage behind, and uses no CPU on other threads."""
PROTOCOL_OPTIONS = (
    "-Xlog:disable",
    "-Xlog:all=warning:stderr",
    "-Xlog:jfr+startup=error:stderr",
    "-XX:+DisplayVMOutputToStderr",
)
"""Always given, before the chosen options: the JVM's own messages (its warnings, which unified
logging writes to stdout by default, and diagnostic output) go to stderr, since stdout carries
the protocol and a stray line there would be read as a frame. Java Flight Recorder
(``-XX:StartFlightRecording`` in the options, to profile the host) adds stdout for its start-up
lines unless ``jfr+startup`` already logs at ``error`` (OpenJDK 17: ``warning`` or ``off`` do
not stop it), hence that tag's own setting."""
MAX_RESPONSE = 1 << 30
"""Longest response frame believed: a longer length (any printable first byte) means the
stream is not ours, and the JVM is stopped rather than waited on for a gigabyte."""
TIMEOUT_S = 120.0
"""Longest a single request may take before the JVM is considered hung and restarted."""


class JvmUnavailable(RuntimeError):
    """No Java runtime, compiler or Saxon-HE jar to run the JVM engine with."""


class JvmDied(RuntimeError):
    """The JVM exited (or was killed) while a request was in flight."""


def saxon_jar(options: EngineOptions) -> Path:
    """Saxon-HE's jar: the options' ``saxon_jar``, else Debian's ``libsaxonhe-java`` location."""
    return options.saxon_jar or DEFAULT_JAR


def _tool(name: str, java_home: Path | None) -> str | None:
    if java_home is not None and (java_home / "bin" / name).exists():
        return str(java_home / "bin" / name)
    return shutil.which(name)


def host_command(threads: int, work_dir: Path, options: EngineOptions) -> list[str]:
    """The command line that starts the host, compiling it into ``work_dir`` first when needed.

    Raises :class:`JvmUnavailable` naming what is missing.
    """
    java = _tool("java", options.java_home)
    javac = _tool("javac", options.java_home)
    jar = saxon_jar(options)
    if java is None:
        raise JvmUnavailable("no java on PATH (Debian: default-jre-headless)")
    if not jar.is_file():
        raise JvmUnavailable(f"no Saxon-HE jar at {jar} (Debian: libsaxonhe-java)")
    classes = _compiled_host(javac, jar, work_dir)
    classpath = os.pathsep.join([str(jar), str(classes)])
    chosen = list(options.jvm_options if options.jvm_options is not None else JVM_OPTIONS)
    return [java, *PROTOCOL_OPTIONS, *chosen, "-cp", classpath, MAIN_CLASS, str(threads)]


def _compiled_host(javac: str | None, jar: Path, home: Path) -> Path:
    """The folder with the compiled host class, compiled into the data directory once."""
    source = resources.files("gateway.validation").joinpath("java", SOURCE_NAME).read_bytes()
    digest = hashlib.sha256(source + str(jar).encode()).hexdigest()[:16]
    target = home / "engine" / f"jvm-{digest}"
    if (target / f"{MAIN_CLASS}.class").is_file():
        return target
    if javac is None:
        raise JvmUnavailable("no javac to compile the Saxon host (Debian: default-jdk-headless)")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        src = Path(scratch) / SOURCE_NAME
        src.write_bytes(source)
        out = Path(scratch) / "classes"
        done = subprocess.run(
            [javac, "-nowarn", "-cp", str(jar), "-d", str(out), str(src)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise JvmUnavailable(f"javac failed on the Saxon host: {done.stderr.strip()[:500]}")
        try:
            out.rename(target)
        except OSError:
            if not (target / f"{MAIN_CLASS}.class").is_file():
                raise
    return target


class JvmHost:
    """A Saxon-HE JVM child process serving this process's Schematron runs."""

    def __init__(self, threads: int, work_dir: Path, options: EngineOptions | None = None) -> None:
        self.threads = threads
        """Worker threads in the JVM (requests it runs at once)."""
        self._command = host_command(threads, work_dir, options or EngineOptions())
        self._lock = threading.Lock()
        self._compile_lock = threading.Lock()
        self._handles: dict[Path, int] = {}
        self._ids = itertools.count(1)
        self._pending: dict[int, Future[list[str]]] = {}
        self._stylesheets: list[tuple[str, bytes]] = []
        self._stderr: deque[str] = deque(maxlen=20)
        self._proc: subprocess.Popen[bytes] | None = None
        self._pid = os.getpid()

    # -- process life -------------------------------------------------------------------

    def _ensure_started(self) -> list[Future[list[str]]]:
        """Start the JVM if it is not running (lock held); futures of the recompiles."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            return []
        self._proc = proc = subprocess.Popen(
            self._command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        threading.Thread(target=self._read, args=(proc,), daemon=True, name="jvm-read").start()
        threading.Thread(target=self._drain, args=(proc,), daemon=True, name="jvm-err").start()
        log.info("saxon JVM started (pid %d)", proc.pid)
        return [self._send("C", arg, body) for arg, body in self._stylesheets]

    def _read(self, proc: subprocess.Popen[bytes]) -> None:
        stream = proc.stdout
        assert stream is not None
        while True:
            head = stream.read(4)
            if len(head) < 4:
                break
            (length,) = struct.unpack(">I", head)
            if length > MAX_RESPONSE:
                self._stray(proc, head)
                break
            payload = stream.read(length).decode("utf-8", "replace")
            ident, _, rest = payload.partition(GS)
            if not ident.isdigit():
                self._stray(proc, head + payload[:60].encode())
                break
            with self._lock:
                future = self._pending.pop(int(ident), None)
            if future is not None:
                future.set_result(rest.split(GS))
        proc.wait()
        tail = " | ".join(self._stderr)
        with self._lock:
            if self._proc is proc:
                self._proc = None
            pending = list(self._pending.items())
            self._pending.clear()
        for _, future in pending:
            if not future.done():
                future.set_exception(JvmDied(f"the Saxon JVM exited ({proc.returncode}): {tail}"))

    def _stray(self, proc: subprocess.Popen[bytes], seen: bytes) -> None:
        """Something other than a frame came on the JVM's stdout: stop that JVM (its requests
        fail, and are retried once on a new one) and say what came."""
        self._stderr.append(f"stray output on the JVM's stdout, not a frame: {seen!r}")
        log.warning("saxon JVM wrote %r on stdout outside the protocol; stopping it", seen)
        proc.kill()

    def _drain(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stderr is not None
        for raw in proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            if line:
                self._stderr.append(line)
                log.debug("saxon jvm: %s", line)

    def _send(self, op: str, arg: str, body: bytes) -> Future[list[str]]:
        """Write one request frame (lock held); the future of its response."""
        proc = self._proc
        assert proc is not None and proc.stdin is not None
        ident = next(self._ids)
        future: Future[list[str]] = Future()
        self._pending[ident] = future
        frame = f"{ident}{US}{op}{US}{arg}{GS}".encode() + body
        try:
            proc.stdin.write(struct.pack(">I", len(frame)) + frame)
            proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            self._pending.pop(ident, None)
            said = " | ".join(self._stderr)  # why it went: stray output, its last words
            reason = f"the Saxon JVM is gone ({exc})" + (f": {said}" if said else "")
            future.set_exception(JvmDied(reason))
        return future

    def _call(self, op: str, arg: str, body: bytes, *, retry: bool = True) -> list[str]:
        if os.getpid() != self._pid:
            raise JvmDied("a JvmHost cannot be used across fork")
        with self._lock:
            recompiles = self._ensure_started()
            future = self._send(op, arg, body)
        try:
            for done in recompiles:
                done.result(TIMEOUT_S)
            return future.result(TIMEOUT_S)
        except FutureTimeout:
            self.kill()
            raise JvmDied(f"the Saxon JVM did not answer within {TIMEOUT_S:.0f} s") from None
        except JvmDied:
            if not retry:
                raise
            log.warning("saxon JVM died; restarting it and retrying once")
            return self._call(op, arg, body, retry=False)

    def kill(self) -> None:
        """Kill the JVM now (it is started again on the next request)."""
        with self._lock:
            proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()

    def close(self) -> None:
        """Stop the JVM and wait for it."""
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            if proc.stdin is not None:
                proc.stdin.close()
            proc.wait(5)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()

    @property
    def pid(self) -> int | None:
        """The JVM's process id while it runs."""
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the running JVM has used so far (0 when none runs)."""
        pid = self.pid
        if pid is None:
            return 0.0
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    # -- requests -----------------------------------------------------------------------

    def handle(self, path: Path) -> int | None:
        """The handle ``path`` was compiled to in this host, if it was."""
        return self._handles.get(path)

    def compile(self, path: Path, text: bytes | None = None) -> int:
        """Compile a stylesheet (file ``path``, or ``text`` named after it) once; its handle.

        Handles number the stylesheets in the order they were compiled; after a restart the
        JVM compiles them again in that order, so a handle stays valid for the host's life.
        """
        with self._compile_lock:
            known = self._handles.get(path)
            if known is not None:
                return known
            arg, body = ("", text) if text is not None else (str(path), b"")
            with self._lock:
                recompiles = self._ensure_started()
                future = self._send("C", arg, body)
                self._stylesheets.append((arg, body))  # a restart from here compiles it too
                expected = len(self._stylesheets) - 1
            try:
                for done in recompiles:
                    done.result(TIMEOUT_S)
                status, _, value = future.result(TIMEOUT_S)[0].partition(RS)
            except FutureTimeout:
                self.kill()
                status, value = "ER", f"the Saxon JVM did not answer within {TIMEOUT_S:.0f} s"
            except JvmDied as exc:
                status, value = "ER", str(exc)
            if status != "OK" or int(value) != expected:
                with self._lock:
                    self._stylesheets.pop()  # the last one: compiles are serialised
                problem = value if status != "OK" else f"handle {value}, expected {expected}"
                raise ArtefactError(f"cannot compile official stylesheet {path}: {problem}")
            self._handles[path] = expected
            return expected

    def run(self, xml: bytes, rules: Sequence[tuple[str, int]]) -> list[Finding]:
        """The findings of every stylesheet in ``rules`` ((source, handle) pairs) on ``xml``."""
        handles = ",".join(str(handle) for _, handle in rules)
        try:
            sections = self._call("V", handles, xml)
        except JvmDied as exc:
            return [engine_finding("saxon", f"the Schematron engine failed: {exc}")]
        status, _, message = sections[0].partition(RS)
        if status != "OK":
            return [engine_finding("saxon", message)]
        findings: list[Finding] = []
        for (source, _), section in zip(rules, sections[1:], strict=True):
            findings.extend(_section_findings(source, section))
        return findings

    def warm(self, xml: bytes, handles: Sequence[int], count: int) -> None:
        """Run ``handles`` ``count`` times on ``xml`` so the JIT compiles the hot paths."""
        self._call("W", ",".join(map(str, handles)) + f";{count}", xml)


def _section_findings(source: str, section: str) -> list[Finding]:
    status, *records = section.split(RS)
    if status == "NS":
        return [engine_finding(source, f"the {source} rules did not produce an SVRL report")]
    if status != "OK":
        message = records[0] if records else "unknown error"
        return [engine_finding(source, f"the {source} rules failed to run: {message}")]
    findings = []
    for record in records:
        _kind, rule_id, flag, location, text = record.split(US)
        findings.append(svrl_finding(rule_id, flag, location, text, source))
    return findings


_HOSTS: dict[EngineOptions, JvmHost] = {}
_HOSTS_PID = os.getpid()
_HOST_LOCK = threading.Lock()


def default_work_dir() -> Path:
    """Where the host class is compiled when the options name no ``work_dir``."""
    return Path(tempfile.gettempdir()) / f"lingang-{os.getuid()}"


def host(options: EngineOptions | None = None) -> JvmHost:
    """This process's JVM host for ``options`` (created on first use; new ones after ``fork``).

    Its worker threads: the options' ``jvm_threads``, else the number of cores; its host class
    is compiled into ``work_dir`` (default: a folder under the system's temporary folder).
    """
    global _HOSTS_PID
    options = options or EngineOptions()
    with _HOST_LOCK:
        if os.getpid() != _HOSTS_PID:
            _HOSTS.clear()
            _HOSTS_PID = os.getpid()
        found = _HOSTS.get(options)
        if found is None:
            threads = options.jvm_threads or os.cpu_count() or 1
            found = JvmHost(threads, options.work_dir or default_work_dir(), options)
            _HOSTS[options] = found
        return found

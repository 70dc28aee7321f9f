"""The JVM Schematron engine: same findings as SaxonC, survives its JVM dying, refuses
hostile input, reports broken rules as ENGINE findings, and never outlives its parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bench._procs import task_cpu_ns
from gateway.errors import ArtefactError
from gateway.validation import Validator, jvm, schematron
from gateway.validation.options import EngineOptions
from gateway.validation.schematron import ENGINE_RULE, JvmEngine, SaxonCEngine
from gateway.validation.warmup import CUSTOMIZATION, warmup_invoice
from tests.conftest import require_jvm

SVRL_NS = "http://purl.oclc.org/dsdl/svrl"


@pytest.fixture
def host() -> Iterator[jvm.JvmHost]:
    """A JVM host of the test's own (not the process's shared one)."""
    require_jvm()
    own = jvm.JvmHost(2, jvm.default_work_dir())
    yield own
    own.close()


def _broken_invoice() -> bytes:
    """The warm-up invoice with wrong totals, an unknown currency and a bad date."""
    xml = warmup_invoice(CUSTOMIZATION["bis3"])
    xml = xml.replace(
        b'<cbc:PayableAmount currencyID="EUR">375.00', b'<cbc:PayableAmount currencyID="EUR">999.00'
    )
    return xml.replace(b"<cbc:DueDate>2026-02-01", b"<cbc:DueDate>2026-1-1")


def _key(findings: list[schematron.Finding]) -> list[tuple[str, str, str, str, str]]:
    return sorted((f.rule_id, f.flag, f.location, f.text, f.source) for f in findings)


def test_same_findings_as_saxonc(artefacts_home: Path) -> None:
    require_jvm()
    xml = _broken_invoice()
    on_jvm = Validator(artefacts_home, JvmEngine()).validate(xml, "bis3")
    on_saxonc = Validator(artefacts_home, SaxonCEngine()).validate(xml, "bis3")
    assert on_jvm.fatal and {f.rule_id for f in on_jvm.findings} >= {"BR-CO-16"}
    assert _key(on_jvm.findings) == _key(on_saxonc.findings)


def test_concurrent_requests_get_their_own_answers(artefacts_home: Path) -> None:
    require_jvm()
    validator = Validator(artefacts_home, JvmEngine())
    good, bad = warmup_invoice(CUSTOMIZATION["bis3"]), _broken_invoice()
    docs = [good if n % 3 else bad for n in range(60)]
    expected = [_key(validator.validate(d, "bis3").findings) for d in docs[:3]]
    with ThreadPoolExecutor(12) as threads:
        results = list(threads.map(lambda d: _key(validator.validate(d, "bis3").findings), docs))
    assert results == [expected[n % 3] for n in range(60)]


def _stylesheet(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(
        '<xsl:stylesheet version="2.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" '
        f'xmlns:svrl="{SVRL_NS}">{body}</xsl:stylesheet>',
        encoding="utf-8",
    )
    return path


ASSERTING = """<xsl:template match="/">
  <svrl:schematron-output>
    <svrl:fired-rule context="/"/>
    <svrl:failed-assert id="T-1" flag="warning" location="/*:a[namespace-uri()=''][1]">
      <svrl:text>[T-1]  two   spaces &#x1F30F; <xsl:value-of select="name(/*)"/></svrl:text>
    </svrl:failed-assert>
    <svrl:successful-report location="/"><svrl:text>[T-2] reported</svrl:text></svrl:successful-report>
  </svrl:schematron-output>
</xsl:template>"""


def test_findings_are_read_from_the_svrl(host: jvm.JvmHost, tmp_path: Path) -> None:
    handle = host.compile(_stylesheet(tmp_path, "ok.xslt", ASSERTING))
    (first, second) = host.run(b"<a/>", [("test", handle)])
    assert (first.rule_id, first.flag, first.location, first.text) == (
        "T-1",
        "warning",
        "/a[1]",
        "[T-1] two spaces \U0001f30f a",
    )
    assert (second.rule_id, second.flag) == ("T-2", "fatal")


def test_broken_rules_are_engine_findings_and_the_host_goes_on(
    host: jvm.JvmHost, tmp_path: Path
) -> None:
    failing = host.compile(
        _stylesheet(
            tmp_path,
            "fail.xslt",
            '<xsl:template match="/"><xsl:sequence select="error()"/></xsl:template>',
        )
    )
    not_svrl = host.compile(
        _stylesheet(tmp_path, "plain.xslt", '<xsl:template match="/"><report/></xsl:template>')
    )
    good = host.compile(_stylesheet(tmp_path, "ok.xslt", ASSERTING))
    findings = host.run(b"<a/>", [("fail", failing), ("plain", not_svrl), ("good", good)])
    engine = [f for f in findings if f.rule_id == ENGINE_RULE]
    assert [f.source for f in engine] == ["fail", "plain"]
    assert "failed to run" in engine[0].text and "did not produce an SVRL" in engine[1].text
    assert [f.rule_id for f in findings if f.source == "good"] == ["T-1", "T-2"]


def test_uncompilable_stylesheet_is_an_artefact_error(host: jvm.JvmHost, tmp_path: Path) -> None:
    bad = tmp_path / "bad.xslt"
    bad.write_text("<xsl:stylesheet", encoding="utf-8")
    with pytest.raises(ArtefactError, match="cannot compile"):
        host.compile(bad)
    handle = host.compile(_stylesheet(tmp_path, "ok.xslt", ASSERTING))
    assert handle == 0, "a failed compile takes no handle"


@pytest.mark.parametrize(
    "document",
    [
        b'<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>',
        b"<a><unclosed></a>",
        b"",
    ],
    ids=["doctype", "malformed", "empty"],
)
def test_hostile_or_broken_documents_are_refused(
    host: jvm.JvmHost, tmp_path: Path, document: bytes
) -> None:
    handle = host.compile(_stylesheet(tmp_path, "ok.xslt", ASSERTING))
    (finding,) = host.run(document, [("test", handle)])
    assert finding.rule_id == ENGINE_RULE and "could not parse" in finding.text
    assert "root:" not in finding.text, "no entity was expanded"


def test_a_killed_jvm_is_restarted_with_its_stylesheets(host: jvm.JvmHost, tmp_path: Path) -> None:
    first = host.compile(
        _stylesheet(tmp_path, "plain.xslt", '<xsl:template match="/"><r/></xsl:template>')
    )
    second = host.compile(_stylesheet(tmp_path, "ok.xslt", ASSERTING))
    before = host.run(b"<a/>", [("test", second)])
    old_pid = host.pid
    assert old_pid is not None
    os.kill(old_pid, signal.SIGKILL)
    after = host.run(b"<a/>", [("test", second)])
    assert host.pid not in (None, old_pid)
    assert _key(after) == _key(before)
    assert first == 0 and second == 1


def test_cpu_seconds_counts_the_jvm(host: jvm.JvmHost, tmp_path: Path) -> None:
    handle = host.compile(_stylesheet(tmp_path, "ok.xslt", ASSERTING))
    host.run(b"<a/>", [("test", handle)])
    assert host.cpu_seconds() > 0


CHILD = """
import sys
from pathlib import Path
from gateway.validation import jvm
host = jvm.JvmHost(1, jvm.default_work_dir())
path = Path(sys.argv[1])
host.compile(path)
print(host.pid, flush=True)
sys.stdin.read()
"""


def test_the_forms_benchmark_counts_the_jit_threads_apart(
    host: jvm.JvmHost, tmp_path: Path
) -> None:
    """``bench.validate --forms`` reads every JVM thread's CPU time and, among it, the JIT
    compiler threads'; this process has none of those."""
    handle = host.compile(_stylesheet(tmp_path, "ok.xslt", ASSERTING))
    host.warm(b"<a/>", [handle], 200)
    total, jit = task_cpu_ns(host.pid)
    assert 0 < jit < total
    total, jit = task_cpu_ns(os.getpid())
    assert total > 0 and jit == 0
    assert task_cpu_ns(None) == (0, 0)


def test_a_request_written_after_the_stray_output_killed_the_jvm_says_why(
    tmp_path: Path,
) -> None:
    """The order the test above cannot choose: the JVM is already stopped for its stray
    output when a request is written; the broken pipe's error still names what came."""
    require_jvm()
    stray = EngineOptions(jvm_options=(*jvm.JVM_OPTIONS, "-Xlog:gc:stdout"))
    own = jvm.JvmHost(1, jvm.default_work_dir(), stray)
    try:
        with own._lock:  # held: the reader cannot forget the stopped JVM meanwhile
            own._ensure_started()
            proc = own._proc
            assert proc is not None
            proc.wait(60)  # stopped by the reader for what it wrote on stdout
            deadline = time.monotonic() + 10
            while not any("stray output" in line for line in own._stderr):
                assert time.monotonic() < deadline
                time.sleep(0.01)
            future = own._send("V", "0", b"<a/>")
        with pytest.raises(jvm.JvmDied, match=r"gone .*stray output on the JVM's stdout"):
            future.result(5)
    finally:
        own.close()


def test_the_jvm_does_not_outlive_a_killed_parent(tmp_path: Path) -> None:
    require_jvm()
    path = _stylesheet(tmp_path, "ok.xslt", ASSERTING)
    parent = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout is not None
    jvm_pid = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 20
    while _alive(jvm_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(jvm_pid), "the JVM kept running after its parent was killed"


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_engine_choice() -> None:
    with pytest.raises(ArtefactError, match="nonsense"):
        schematron.engine(EngineOptions(engine="nonsense"))
    assert schematron.engine(EngineOptions(engine="saxonche")).name == "saxonche"
    assert schematron.engine(EngineOptions(engine="saxonche")) is schematron.engine(
        EngineOptions(engine="saxonche")
    )


def test_one_shot_commands_prefer_the_in_process_engine_unless_chosen() -> None:
    assert schematron.prefer_in_process(EngineOptions()).engine == "saxonche"
    chosen = EngineOptions(engine="jvm", explicit=True)
    assert schematron.prefer_in_process(chosen) == chosen


def test_missing_java_parts_are_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    no_jar = EngineOptions(saxon_jar=tmp_path / "none.jar")
    with pytest.raises(jvm.JvmUnavailable, match="libsaxonhe-java"):
        jvm.host_command(1, tmp_path, no_jar)
    with pytest.raises(ArtefactError, match="libsaxonhe-java"):
        schematron._try_jvm(no_jar, required=True)
    assert schematron._try_jvm(no_jar, required=False).name == "saxonche"


def test_jvm_messages_stay_off_the_protocol(tmp_path: Path) -> None:
    """The JVM's own output (here its flag table, written to stdout by default) goes to
    stderr, so the protocol on stdout is untouched."""
    require_jvm()
    chatty = EngineOptions(jvm_options=(*jvm.JVM_OPTIONS, "-XX:+PrintFlagsFinal"))
    own = jvm.JvmHost(1, jvm.default_work_dir(), chatty)
    try:
        handle = own.compile(_stylesheet(tmp_path, "ok.xslt", ASSERTING))
        assert [f.rule_id for f in own.run(b"<a/>", [("test", handle)])] == ["T-1", "T-2"]
    finally:
        own.close()


def test_the_host_runs_under_java_flight_recorder(tmp_path: Path) -> None:
    """A flight recording (how the host is profiled: ``-XX:StartFlightRecording`` in the
    options) keeps its start-up lines off the protocol, and is written when the host stops."""
    require_jvm()
    recording = tmp_path / "host.jfr"
    profiled = EngineOptions(
        jvm_options=(*jvm.JVM_OPTIONS, f"-XX:StartFlightRecording=filename={recording}")
    )
    own = jvm.JvmHost(1, jvm.default_work_dir(), profiled)
    try:
        handle = own.compile(_stylesheet(tmp_path, "ok.xslt", ASSERTING))
        assert [f.rule_id for f in own.run(b"<a/>", [("test", handle)])] == ["T-1", "T-2"]
    finally:
        own.close()
    assert recording.stat().st_size > 0


def test_stray_output_on_the_protocol_fails_at_once(tmp_path: Path) -> None:
    """Output on stdout that is not a frame (options that log there) stops that JVM and
    names what came, instead of hanging until the request's timeout."""
    require_jvm()
    stray = EngineOptions(jvm_options=(*jvm.JVM_OPTIONS, "-Xlog:gc:stdout"))
    own = jvm.JvmHost(1, jvm.default_work_dir(), stray)
    started = time.monotonic()
    try:
        with pytest.raises(ArtefactError, match="stray output on the JVM's stdout"):
            own.compile(_stylesheet(tmp_path, "ok.xslt", ASSERTING))
    finally:
        own.close()
    assert time.monotonic() - started < jvm.TIMEOUT_S / 4

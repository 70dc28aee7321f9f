"""Many files in one process: ``lingang convert`` / ``lingang validate`` over files and folders.

One :class:`FileResult` per input; the work runs in a pool of processes (one per CPU unless
``--jobs``), each loading the parsers, renderers and official rules once instead of once per
file. On a terminal a progress bar runs on stderr; at the end a summary table (``ok`` /
``warnings`` / ``failed``, the file name on every line) goes to stdout, and ``--report
FILE.json`` writes the JSON report with an HTML rendering next to it (``FILE.html``: per file,
every finding's rule id, location and text, like the KoSIT validator's report).
"""

from __future__ import annotations

import html
import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from gateway.cli._io import UsageError

OK, WARNINGS, FAILED = "ok", "warnings", "failed"


@dataclass
class FileResult:
    """What became of one input file."""

    file: str
    status: str = OK
    profile: str | None = None
    error: str | None = None
    output: str | None = None
    findings: list[dict[str, str]] = field(default_factory=list)

    @classmethod
    def from_findings(cls, file: str, profile: str, findings: list[dict[str, str]]) -> FileResult:
        """``failed`` with a fatal finding, ``warnings`` with a warning, else ``ok``."""
        flags = {f.get("flag") for f in findings}
        status = FAILED if "fatal" in flags else WARNINGS if "warning" in flags else OK
        return cls(file, status, profile, findings=findings)


def expand_inputs(given: Sequence[str], suffixes: frozenset[str]) -> list[Path]:
    """Files named and files under folders named (those with ``suffixes``), sorted, unique."""
    out: list[Path] = []
    for name in given:
        path = Path(name)
        if path.is_dir():
            out += sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes
            )
        elif path.is_file():
            out.append(path)
        else:
            raise UsageError(f"{path}: no such file or folder")
    if not out:
        raise UsageError(f"no {'/'.join(sorted(suffixes))} files in {', '.join(given)}")
    return list(dict.fromkeys(out))


def run_all(
    work: Callable[..., FileResult],
    files: Sequence[Path],
    extra: tuple[Any, ...],
    jobs: int | None,
    stream: TextIO | None = None,
) -> list[FileResult]:
    """``work(str(file), *extra)`` for every file over a process pool, in input order (the
    progress bar on ``stream``, default stderr)."""
    workers = max(1, min(jobs or os.cpu_count() or 1, len(files)))
    bar = ProgressBar(len(files), stream or sys.stderr)
    results: dict[str, FileResult] = {}
    if workers == 1:
        for file in files:
            results[str(file)] = _safely(work, str(file), extra)
            bar.step()
    else:
        with ProcessPoolExecutor(workers) as pool:
            pending: dict[Future[FileResult], str] = {
                pool.submit(_safely, work, str(file), extra): str(file) for file in files
            }
            for done in as_completed(pending):
                results[pending[done]] = done.result()
                bar.step()
    bar.close()
    return [results[str(file)] for file in files]


def _safely(work: Callable[..., FileResult], file: str, extra: tuple[Any, ...]) -> FileResult:
    """One file's result; an unexpected error fails that file, not the batch."""
    try:
        return work(file, *extra)
    except Exception as exc:  # reported per file: the batch goes on
        return FileResult(file, FAILED, error=f"{type(exc).__name__}: {exc}")


class ProgressBar:
    """``[#####-----] 12/200`` redrawn on a terminal; silent when not a terminal."""

    WIDTH = 30

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total = total
        self.done = 0
        self.stream = stream
        self.live = bool(getattr(stream, "isatty", lambda: False)())

    def step(self) -> None:
        self.done += 1
        if self.live:
            filled = self.WIDTH * self.done // max(self.total, 1)
            bar = "#" * filled + "-" * (self.WIDTH - filled)
            self.stream.write(f"\r[{bar}] {self.done}/{self.total}")
            self.stream.flush()

    def close(self) -> None:
        if self.live:
            self.stream.write("\n")
            self.stream.flush()


def print_summary(results: Iterable[FileResult], stream: TextIO | None = None) -> dict[str, int]:
    """One line per file (status, file, first problem), then the counts; the counts."""
    stream = stream or sys.stdout
    counts = {OK: 0, WARNINGS: 0, FAILED: 0}
    for result in results:
        counts[result.status] += 1
        stream.write(f"{result.status:<8}  {result.file}{_first_problem(result)}\n")
        if result.status == FAILED:
            for finding in [f for f in result.findings if f.get("flag") == "fatal"][:20]:
                stream.write(
                    f"          {result.file}: {finding.get('rule_id')} at "
                    f"{finding.get('location')}: {finding.get('text')}\n"
                )
    total = sum(counts.values())
    stream.write(
        f"\n{total} files: {counts[OK]} ok, {counts[WARNINGS]} with warnings, "
        f"{counts[FAILED]} failed\n"
    )
    return counts


def _first_problem(result: FileResult) -> str:
    if result.error:
        return f"  — {result.error}"
    if result.output:
        return f"  → {result.output}"
    return ""


def write_reports(results: Sequence[FileResult], json_path: Path, title: str) -> Path:
    """``json_path`` and ``json_path`` with ``.html``; the HTML path."""
    data = {"title": title, "files": [asdict(r) for r in results]}
    json_path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    html_path = json_path.with_suffix(".html")
    html_path.write_text(render_html(results, title), encoding="utf-8")
    return html_path


def render_html(results: Sequence[FileResult], title: str) -> str:
    """A self-contained HTML page: a summary, then per file its findings in a table."""
    e = html.escape
    counts = {s: sum(1 for r in results if r.status == s) for s in (OK, WARNINGS, FAILED)}
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        f"<p>{len(results)} files: {counts[OK]} ok, {counts[WARNINGS]} with warnings, "
        f"{counts[FAILED]} failed</p>",
    ]
    for result in results:
        parts.append(
            f"<section class='{e(result.status)}'><h2>{e(result.file)} — {e(result.status)}"
            f"{' (' + e(result.profile) + ')' if result.profile else ''}</h2>"
        )
        if result.error:
            parts.append(f"<p class='error'>{e(result.error)}</p>")
        if result.output:
            parts.append(f"<p>written to {e(result.output)}</p>")
        if result.findings:
            parts.append("<table><tr><th>rule</th><th>flag</th><th>location</th><th>text</th></tr>")
            for finding in result.findings:
                parts.append(
                    "<tr>"
                    + "".join(
                        f"<td>{e(str(finding.get(key, '')))}</td>"
                        for key in ("rule_id", "flag", "location", "text")
                    )
                    + "</tr>"
                )
            parts.append("</table>")
        parts.append("</section>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


_CSS = (
    "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}"
    ".failed h2{color:#b00}.warnings h2{color:#a60}.ok h2{color:#070}.error{color:#b00}"
)

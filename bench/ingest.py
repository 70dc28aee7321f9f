"""Ingest throughput per input format, against the bare parsers underneath.

Run: ``.venv/bin/python -m bench.ingest [N]``. For each of the project's own samples (XML, the
platform JSON, the OFD) it times ``gateway.ingest.parse`` and, as the baseline measured in the
same run, the bare library step it cannot avoid: ``lxml.etree.fromstring`` for XML,
``json.loads`` for JSON, opening the zip and reading every entry for OFD. The ratio says what
hardening, schema findings, field location and the tax logic cost on top.
"""

from __future__ import annotations

import io
import json
import sys
import time
import tracemalloc
import zipfile
from collections.abc import Callable

from lxml import etree

from gateway.ingest import parse
from gateway.samples import sample_paths


def _rate(func: Callable[[], object], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        func()
    return n / (time.perf_counter() - start)


def _baseline(name: str, data: bytes) -> Callable[[], object]:
    if name.endswith(".xml"):
        return lambda: etree.fromstring(data)
    if name.endswith(".json"):
        return lambda: json.loads(data)

    def unzip() -> object:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return [archive.read(info) for info in archive.infolist()]

    return unzip


def _peak_kib(func: Callable[[], object]) -> float:
    tracemalloc.start()
    try:
        func()
        return tracemalloc.get_traced_memory()[1] / 1024
    finally:
        tracemalloc.stop()


def main(n: int = 500) -> None:
    print(f"bench.ingest: {n} parses per sample, 1 process")
    print(f"{'sample':26} {'bytes':>7} {'parse/s':>9} {'base/s':>10} {'ratio':>6} {'peak KiB':>9}")
    for path in sample_paths():
        data = path.read_bytes()
        parse(data)  # warm the schema cache

        def ours(data: bytes = data) -> object:
            return parse(data)

        ours_rate = _rate(ours, n)
        base_rate = _rate(_baseline(path.name, data), n)
        print(
            f"{path.name:26} {len(data):>7} {ours_rate:>9.0f} {base_rate:>10.0f} "
            f"{base_rate / ours_rate:>5.1f}x {_peak_kib(ours):>9.0f}"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)

"""Conversion throughput, one process: parse, map, render, and the whole ``convert``.

Run: ``.venv/bin/python -m bench.convert_render [N]``. Documents are generated 数电票 (1-20
lines, mixed rates) to one partner per profile. The baseline, measured in the same run, is
parsing alone; the ratio says how much mapping and rendering add on top of it. No validation
here (see ``bench.validate``).
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable

from bench.fapiao_gen import BUYERS, directory_data, fapiao
from gateway.convert import convert_parsed
from gateway.ingest import parse
from gateway.mapping import map_with_warnings
from gateway.mapping.parties import printed_buyer_id, printed_seller_id
from gateway.model import Invoice
from gateway.partners import PartnerDirectory
from gateway.render import render

PROFILES = ("pint-sg", "bis3", "pint", "cii", "bis3-cii")


def _rate(func: Callable[[int], object], n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        func(i)
    return n / (time.perf_counter() - start)


def _profile_rates(profile: str, n: int, directory: PartnerDirectory) -> tuple[float, ...]:
    rng = random.Random(20261121)
    source_profile = profile if profile in BUYERS else "bis3"
    docs = [fapiao(i, source_profile, rng) for i in range(n)]
    parsed = [parse(d) for d in docs]

    def mapped(i: int) -> Invoice:
        src = parsed[i].invoice
        partner = directory.find_partner(src.buyer.name, printed_buyer_id(src.buyer))
        exporter = directory.find_exporter(printed_seller_id(src.seller))
        return map_with_warnings(parsed[i], partner, exporter, profile).invoice

    invoices = [mapped(i) for i in range(n)]
    return (
        _rate(lambda i: parse(docs[i]), n),
        _rate(mapped, n),
        _rate(lambda i: render(invoices[i], profile), n),
        _rate(lambda i: convert_parsed(parse(docs[i]), profile, directory), n),
    )


def main(n: int = 300) -> None:
    directory = PartnerDirectory.from_dict(directory_data())
    print(f"bench.convert_render: {n} documents per profile, 1 process")
    print(
        f"{'profile':8} {'parse/s':>9} {'map/s':>9} {'render/s':>9} {'convert/s':>10} {'ratio':>6}"
    )
    for profile in PROFILES:
        parse_rate, map_rate, render_rate, full_rate = _profile_rates(profile, n, directory)
        print(
            f"{profile:8} {parse_rate:9.0f} {map_rate:9.0f} {render_rate:9.0f} "
            f"{full_rate:10.0f} {full_rate / parse_rate:6.2f}"
        )
    print("ratio = convert (parse+map+render) docs/s / parse-only docs/s (baseline, same run)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)

"""A tenant's partner directory reaches the stage processes: a small one with every
request, a large one once per process (named by a digest of its pickled form), and a new
directory is the one used, never a process's older copy."""

from __future__ import annotations

import tomllib
from pathlib import Path

from gateway.flows import Source, ToolsSpec
from gateway.jobs.runner import INLINE_DIRECTORY_BYTES, ProcessFlowRunner
from gateway.partners import PartnerDirectory

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "gateway" / "samples" / "export-zero-rate.xml"
PARTNERS = tomllib.loads((REPO / "tests" / "data" / "partners.toml").read_text("utf-8"))


def _directory(extra: int, *, keep_buyers: bool = True) -> PartnerDirectory:
    """The test directory (without its buyers if asked) and ``extra`` made-up partners."""
    partners = list(PARTNERS["partners"]) if keep_buyers else []
    partners += [
        {"buyer_name": f"Buyer {n} Pte. Ltd.", "endpoint": f"0195:T{n:08d}X", "country": "SG"}
        for n in range(extra)
    ]
    return PartnerDirectory.from_dict({"partners": partners, "exporters": PARTNERS["exporters"]})


async def test_a_large_directory_crosses_once_and_a_new_one_replaces_it(tmp_path: Path) -> None:
    spec = ToolsSpec(subject_key_file=tmp_path / "subject.key")
    runner = ProcessFlowRunner(1, spec)
    sizes: list[int] = []
    call = runner._pool.call

    async def counted(request: bytes) -> bytes:
        sizes.append(len(request))
        return await call(request)

    runner._pool.call = counted  # type: ignore[method-assign]
    source = Source(SAMPLE.read_bytes(), "application/xml", SAMPLE.name)
    try:
        large = _directory(400)
        first = await runner.run("invoice-out", source, large)
        second = await runner.run("invoice-out", source, large)
        assert first.ok and second.ok, (first.error, second.error)
        small, big = min(sizes), max(sizes)
        assert big - small > INLINE_DIRECTORY_BYTES
        assert sizes == [small, big, small]  # sent when the process asked, then named only

        sizes.clear()
        without = _directory(400, keep_buyers=False)  # as large, but not the sample's buyer
        refused = await runner.run("invoice-out", source, without)
        assert refused.error is not None and "partner" in str(refused.error).lower()
        assert len(sizes) == 2 and sizes[1] > INLINE_DIRECTORY_BYTES

        sizes.clear()
        assert (await runner.run("invoice-out", source, _directory(0))).ok
        assert (await runner.run("invoice-out", source, None)).error is not None
        assert len(sizes) == 2  # a small directory travels along: no second request
        assert sizes[0] - sizes[1] < INLINE_DIRECTORY_BYTES
    finally:
        runner.close()

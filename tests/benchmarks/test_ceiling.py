"""The two-core ceiling bench.e2e prints: its arithmetic, and one short real measurement."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.ceiling import Ceiling, gateway_bound, two_core_ceiling


def test_scaling_is_the_pairs_rate_over_one_cores() -> None:
    assert Ceiling(400.0, 720.0, 2.4).scaling == pytest.approx(1.8)


def test_bound_counts_the_clients_once_or_mirrored() -> None:
    """1.8× cores, 1.6 ms of work, 0.5 ms of clients: 1.8 × 1.6 / 2.1 and 1.8 × 1.6 / 2.6."""
    assert gateway_bound(1.8, 1.6, 0.5, mirrored=False) == pytest.approx(1.3714, abs=1e-4)
    assert gateway_bound(1.8, 1.6, 0.5, mirrored=True) == pytest.approx(1.1077, abs=1e-4)
    assert gateway_bound(2.0, 1.6, 0.0, mirrored=True) == 2.0


@pytest.mark.slow
def test_two_pinned_baselines_run_the_real_flow(artefacts_home: Path, tmp_path: Path) -> None:
    """Both children load the baseline's tools (``artefacts_home`` is ``$LINGANG_HOME``, which
    they inherit), run the demo documents and report a rate."""
    from gateway.cli.demo import DEMO_DIRECTORY, default_samples
    from gateway.signing.testpki import make_test_pki

    (tmp_path / "partners.toml").write_text(DEMO_DIRECTORY, encoding="utf-8")
    make_test_pki(tmp_path / "pki")
    bodies = [p.read_bytes() for p in default_samples()]
    ceiling = two_core_ceiling(
        bodies, tmp_path / "partners.toml", tmp_path / "pki", warm_docs=len(bodies), seconds=0.3
    )
    assert ceiling.alone_docs_per_s > 0 and ceiling.pair_docs_per_s > 0
    assert ceiling.pair_cpu_ms_per_doc > 0

"""Every official case is collected: a silent collapse of the conformance suite fails.

A child ``pytest --collect-only tests/conformance`` lists what the suite would run. For every
corpus of official files (:data:`COLLECTED`), the file names in each test's parameters must be
exactly the files of that corpus's folder in the reference mirror, once per engine (and rule
form) variant: a glob that matches nothing, a wrong reference path (the placeholder
``<reference missing>``), a lost engine or a dropped file all fail here. Every folder of the
mirror that holds examples or test files is either collected or named in :data:`NOT_RUN`
with the reason, so "every official example" can be read off this module.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VEFA = "tests/conformance/test_vefa_units.py::test_vefa_file"
EXAMPLE = "tests/conformance/test_official_examples.py::test_official_example_has_no_fatal"
EXAMPLE_FAST = (
    "tests/conformance/test_official_examples.py::test_fast_form_finds_what_the_official_form_finds"
)
DECLARED = "tests/conformance/test_declared_examples.py::test_as_declared_only_the_predicted_fatals"
DECLARED_FAST = (
    "tests/conformance/test_declared_examples.py::test_fast_form_finds_what_the_official_form_finds"
)
COLLECT_ARGS = (
    "--collect-only",
    "-q",
    "-p",
    "no:cacheprovider",
    "-p",
    "no:xdist",
    "tests/conformance",
)
ENGINES = ("saxonche", "jvm")
RULE_FORMS = ("official", "fast")


@dataclass(frozen=True)
class Corpus:
    """Official files in one folder of the mirror and the tests that must run each of them."""

    folder: str
    runs: tuple[tuple[str, str], ...]
    """``(test node, group in the parameter id)``: each runs every file once per variant."""
    suffixes: tuple[str, ...] = (".xml",)
    recursive: bool = False

    def files(self, reference: Path) -> set[str]:
        root = reference / self.folder
        found = root.rglob("*") if self.recursive else root.iterdir()
        return {p.name for p in found if p.is_file() and p.suffix in self.suffixes}


def _vefa(*suites: str) -> tuple[tuple[str, str], ...]:
    return tuple((VEFA, suite) for suite in suites)


def _examples(group: str) -> tuple[tuple[str, str], ...]:
    return ((EXAMPLE, group), (EXAMPLE_FAST, group))


CEN = "connectingeurope-einvoicing-en16931"
BIS = "openpeppol-peppol-bis-invoice-3/rules"
BILLING_3021 = "phax-phive-rules/openpeppol-billing-3.0.21-2026.5/examples"

COLLECTED = {
    "CEN UBL unit tests (Invoice)": Corpus(
        f"{CEN}/test/Invoice-unit-UBL", _vefa("cen-ubl-invoice", "bis3-cen-ubl-invoice")
    ),
    "CEN UBL unit tests (CreditNote)": Corpus(
        f"{CEN}/test/CreditNote-unit-UBL", _vefa("cen-ubl-creditnote", "bis3-cen-ubl-creditnote")
    ),
    "CEN CII unit tests": Corpus(f"{CEN}/test/cii", _vefa("cen-cii")),
    "PEPPOL UBL unit tests": Corpus(
        f"{BIS}/unit-UBL-PEPPOL",
        _vefa("peppol-ubl-3.0.19", "peppol-ubl-3.0.21", "peppol-ubl-from-sch-3.0.19"),
    ),
    "PEPPOL CII unit tests": Corpus(f"{BIS}/unit-CII-PEPPOL", _vefa("peppol-cii-3.0.19")),
    "BIS 3.0.19 examples": Corpus(f"{BIS}/examples", _examples("bis3-3.0.19")),
    "BIS 3.0.21 billing examples": Corpus(f"{BILLING_3021}/billing", _examples("bis3-3.0.21")),
    "BIS 3.0.21 self-billing examples": Corpus(
        f"{BILLING_3021}/selfbilling", _examples("bis3-selfbilling")
    ),
    "PINT SG examples": Corpus(
        "openpeppol-pint-sg-1.4.1/trn-invoice/example", _examples("pint-sg")
    ),
    "EN 16931 UBL examples": Corpus(
        f"{CEN}/ubl/examples", _examples("en16931-ubl"), suffixes=(".xml", ".XML")
    ),
    "EN 16931 CII examples": Corpus(f"{CEN}/cii/examples", _examples("en16931-cii")),
    "CEN test files": Corpus(
        f"{CEN}/test/testfiles",
        (
            *_examples("en16931-testfiles"),
            (DECLARED, "cen-testfiles"),
            (DECLARED_FAST, "cen-testfiles"),
        ),
    ),
    "BIS 3 national examples": Corpus(
        f"{BIS}/national-examples",
        ((DECLARED, "national"), (DECLARED_FAST, "national")),
        recursive=True,
    ),
}

NOT_RUN = {
    f"{BIS}/unit-UBL-PEPPOL/PEPPOL-COMMON-R048.xm": (
        "every test in it is commented out upstream, as its rule is (and it is named .xm)"
    ),
    f"{BILLING_3021}/responses": (
        "Invoice Response (T111) and Message Level Response (T71): no validation profile yet"
    ),
    "openpeppol-mls-1.1.0/trn-mls/example": (
        "Message Level Status: no validation profile yet (its artefacts are not in "
        "schemas/artefacts.json)"
    ),
    "phax-peppol-reporting/testfiles": "Peppol Reporting (TSR, EUSR): no validation profile yet",
    "phax-phase4-examples": "AS4 wire messages: for the Peppol AS4 adapter (not built)",
    "phax-peppol-commons/smp-examples": "SMP responses: for SMP lookup (not built)",
    "unece-sbdh-1.3/proxy-examples": "XSD files of the SBDH package, no documents",
    "ebl": "eBL inputs and outputs (not built)",
    "fapiao": "fapiao inputs: run by tests/ingest and tests/mapping, not official rule sets",
}
"""Folders of the mirror with examples or tests that the conformance suite does not run."""

CORPUS_FOLDER = re.compile(r"(^|/)(examples?|national-examples|testfiles|unit-[^/]+|test/cii)$")


def collected_ids(env: dict[str, str] | None = None) -> list[str]:
    """The node ids a run of ``tests/conformance`` would run (a child ``--collect-only``)."""
    child = dict(os.environ)
    child.update(env or {})
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *COLLECT_ARGS],
        cwd=REPO,
        env=child,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return [line for line in done.stdout.splitlines() if "::" in line]


def _split(node_id: str) -> tuple[str, str, str, str] | None:
    """``(test node, variant, group, file name)`` of a parametrized id, or ``None``."""
    node, _, params = node_id.partition("[")
    if not params:
        return None
    params = params.removesuffix("]")
    engine, _, rest = params.partition("-")
    if engine not in ENGINES or "/" not in rest:
        return None
    variant = engine
    for form in RULE_FORMS:
        if node == VEFA and rest.endswith(f"-{form}"):
            rest, variant = rest.removesuffix(f"-{form}"), f"{engine}-{form}"
    group, _, name = rest.partition("/")
    return node, variant, group, name


def shortfalls(ids: list[str], reference: Path) -> list[str]:
    """How the collected ids fall short of the corpora (empty: every file, every variant)."""
    runs: dict[tuple[str, str], dict[str, set[str]]] = {}
    for node_id in ids:
        split = _split(node_id)
        if split is not None:
            node, variant, group, name = split
            runs.setdefault((node, group), {}).setdefault(variant, set()).add(name)
    problems = []
    for corpus_name, corpus in COLLECTED.items():
        files = corpus.files(reference)
        if not files:
            problems.append(f"{corpus_name}: no files in {corpus.folder}")
        for node, group in corpus.runs:
            variants = runs.get((node, group), {})
            expected = (
                {f"{e}-{f}" for e in ENGINES for f in RULE_FORMS} if node == VEFA else set(ENGINES)
            )
            for variant in sorted(expected):
                got = variants.get(variant, set())
                if got != files:
                    problems.append(
                        f"{corpus_name}: {node.split('::')[1]}[{variant}-{group}] runs "
                        f"{len(got & files)} of {len(files)} files"
                        + (
                            f", and {sorted(got - files)[:3]} not in the folder"
                            if got - files
                            else ""
                        )
                    )
    return problems


def test_every_official_corpus_is_collected_in_full(reference: Path) -> None:
    assert shortfalls(collected_ids(), reference) == []


def test_a_collapsed_collection_is_caught(reference: Path, tmp_path: Path) -> None:
    """The broken variant: the suite collected against a missing reference (placeholders
    only, as when a path goes wrong) is reported for every corpus and every test of it."""
    collapsed = collected_ids({"LINGANG_REFERENCE": str(tmp_path / "missing")})
    problems = shortfalls(collapsed, reference)
    for corpus_name in COLLECTED:
        assert any(p.startswith(f"{corpus_name}:") for p in problems), corpus_name
    dropped = [i for i in collected_ids() if "BR-01.xml" not in i]
    assert any("runs 205 of 206 files" in p for p in shortfalls(dropped, reference))


def test_every_corpus_folder_is_collected_or_excused(reference: Path) -> None:
    """A folder of examples or test files that appears in the mirror must be accounted for."""
    collected = {c.folder for c in COLLECTED.values()}
    unaccounted = []
    for folder in sorted(p for p in reference.rglob("*") if p.is_dir()):
        relative = folder.relative_to(reference).as_posix()
        if not CORPUS_FOLDER.search(relative):
            continue
        accounted = collected | set(NOT_RUN)
        inside = any(relative == a or relative.startswith(f"{a}/") for a in accounted)
        holds_them = any(a.startswith(f"{relative}/") for a in accounted)
        if not inside and not holds_them:
            unaccounted.append(relative)
    assert unaccounted == []
    for path in NOT_RUN:
        assert (reference / path).exists(), path


def test_pint_bundle_holds_no_examples(reference: Path) -> None:
    """PINT 1.1.3 is run through the PINT SG examples (``test_official_examples``): its own
    bundle has none; should it gain some, they need a corpus here."""
    pint = reference / "openpeppol-pint-1.1.3"
    assert pint.is_dir()
    assert not [p for p in pint.rglob("*.xml") if "example" in p.as_posix().lower()]


@pytest.mark.parametrize("name", sorted(COLLECTED))
def test_corpus_folders_exist(reference: Path, name: str) -> None:
    assert (reference / COLLECTED[name].folder).is_dir()

"""Our compiled rules give exactly the official XSLT's findings on mutated documents.

A bounded sample (1,000 documents per engine) of ``bench.differential``, which runs the
10,000-document comparison from the command line. Any difference fails; there is no tolerance.
"""

from __future__ import annotations

import random
from pathlib import Path

from lxml import etree

from bench.differential import MUTATIONS, mutated, run, seeds
from gateway.validation import Validator
from gateway.validation.schematron import SchematronEngine

SAMPLE = 1_000


def test_fast_form_matches_official_on_mutated_documents(
    reference: Path, artefacts_home: Path, schematron_engine: SchematronEngine
) -> None:
    seed_docs = seeds(reference, random.Random(7), generated=10)
    official = Validator(artefacts_home, schematron_engine, "official")
    ours = Validator(artefacts_home, schematron_engine, "fast")
    outcome = run((official, ours), mutated(seed_docs, SAMPLE, seed=7))
    assert outcome.cases == SAMPLE
    assert not outcome.failures, "\n".join(outcome.failures or [])
    assert outcome.fatal_cases > SAMPLE // 2, "the mutations should break most documents"
    assert outcome.rules_fired > 50, "the sample should exercise many rules"


def test_every_mutation_changes_a_document(reference: Path) -> None:
    (_, _, xml), *_ = seeds(reference, random.Random(1), generated=1)
    for name, mutation in MUTATIONS.items():
        root = etree.fromstring(xml)
        changed = any(mutation(root, random.Random(n)) for n in range(5))
        assert changed and etree.tostring(root) != etree.tostring(etree.fromstring(xml)), name

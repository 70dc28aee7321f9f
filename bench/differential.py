"""Differential test of our compiled rules against the official XSLT, on mutated documents.

    .venv/bin/python -m bench.differential [--docs 10000] [--engine saxonche|jvm] [--seed 12]

Documents are generated fapiao converted to BIS 3 and PINT-SG invoices, and the official
examples of those profiles, each then mutated one to three times (:data:`MUTATIONS`: amounts
off by a cent, elements removed, wrong or odd codes, swapped currencies, extra or duplicated
lines, elements moved under another parent, emptied values, UBL elements and attributes the
EN 16931 subset forbids). Every document is validated
under its profile twice on the same engine, once with the official XSLT and once with our
compiled form, and the two lists of findings (rule id, flag, location, text, source, in
order) must be identical. Any difference is printed and fails the run (exit code 1); there is
no tolerance. ``tests/validation/test_differential.py`` runs a bounded sample of the same.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from lxml import etree

from bench.fapiao_gen import directory_data, fapiao
from gateway.convert import convert
from gateway.partners import PartnerDirectory
from gateway.settings import data_home
from gateway.validation import EngineOptions, Validator
from gateway.validation import schematron as sch
from gateway.validation.report import Finding

PROFILES = ("bis3", "pint-sg")
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
EXAMPLES = {
    "bis3": "phax-phive-rules/openpeppol-billing-3.0.21-2026.5/examples/billing/*.xml",
    "pint-sg": "openpeppol-pint-sg-1.4.1/trn-invoice/example/*.xml",
}
ODD_CODES = (
    "",
    " ",
    "XX",
    "EUR",
    "USD",
    "SGD",
    "CNY",
    "S",
    "Z",
    "E",
    "O",
    "AE",
    "K",
    "G",
    "L",
    "M",
    "SR",
    "ZR",
    "NG",
    "ES",
    "OS",
    "eur",
    "E U",
    "EUR USD",
    "380",
    "381",
    "30",
    "58",
    "C62",
    "H87",
    "0088",
    "0195",
    "9999",
    "NL",
    "SG",
    "CN",
    "1",
    "S ",
    "\tEUR",
)
"""Values a mutated code takes: valid ones of several lists, wrong ones, empty, spaced."""


Mutation = Callable[[etree._Element, random.Random], bool]
"""Changes the document in place; ``False`` when it found nothing to change."""


def _elements(root: etree._Element, test: Callable[[etree._Element], bool]) -> list[etree._Element]:
    return [e for e in root.iter() if isinstance(e.tag, str) and test(e)]


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def amount_off_by_a_cent(root: etree._Element, rng: random.Random) -> bool:
    """An amount one cent higher or lower."""
    amounts = _elements(root, lambda e: _local(e).endswith("Amount") and bool(e.text))
    if not amounts:
        return False
    target = rng.choice(amounts)
    try:
        value = Decimal((target.text or "").strip())
    except InvalidOperation:
        return False
    target.text = str(value + rng.choice((Decimal("0.01"), Decimal("-0.01"))))
    return True


def remove_element(root: etree._Element, rng: random.Random) -> bool:
    """Any element but the root gone."""
    candidates = [e for e in _elements(root, lambda e: e is not root) if e.getparent() is not None]
    if not candidates:
        return False
    target = rng.choice(candidates)
    parent = target.getparent()
    assert parent is not None
    parent.remove(target)
    return True


def wrong_code(root: etree._Element, rng: random.Random) -> bool:
    """A code element or code attribute set to another (valid, wrong or odd) value."""
    coded = _elements(
        root,
        lambda e: (
            (_local(e).endswith(("Code", "ID")) and len(e) == 0)
            or any(a.endswith(("currencyID", "unitCode", "schemeID")) for a in e.attrib)
        ),
    )
    if not coded:
        return False
    target = rng.choice(coded)
    attributes = [a for a in target.attrib if a.endswith(("currencyID", "unitCode", "schemeID"))]
    if attributes and rng.random() < 0.6:
        target.set(rng.choice(attributes), rng.choice(ODD_CODES))
    else:
        target.text = rng.choice(ODD_CODES)
    return True


def swap_currencies(root: etree._Element, rng: random.Random) -> bool:
    """The document currency, or every amount's currency, or a few, changed."""
    currency = rng.choice(("EUR", "USD", "SGD", "CNY", "NOK", "XYZ"))
    amounts = _elements(root, lambda e: e.get("currencyID") is not None)
    choice = rng.random()
    changed = False
    if choice < 0.3:
        for element in _elements(root, lambda e: _local(e) == "DocumentCurrencyCode"):
            changed |= element.text != currency
            element.text = currency
    else:
        chosen = (
            amounts if choice < 0.6 else rng.sample(amounts, k=min(len(amounts), rng.randint(1, 3)))
        )
        for element in chosen:
            changed |= element.get("currencyID") != currency
            element.set("currencyID", currency)
    return changed


def extra_line(root: etree._Element, rng: random.Random) -> bool:
    """A line (or an allowance, tax subtotal, party identification) repeated, its ID kept
    or renumbered."""
    names = ("InvoiceLine", "CreditNoteLine", "AllowanceCharge", "TaxSubtotal", "TaxTotal")
    repeatable = _elements(root, lambda e: _local(e) in names)
    if not repeatable:
        return False
    target = rng.choice(repeatable)
    copy = etree.fromstring(etree.tostring(target))
    if rng.random() < 0.5:
        for ident in copy.iterchildren(f"{{{CBC}}}ID"):
            ident.text = str(rng.randint(1, 999))
    target.addnext(copy)
    return True


def unusual_nesting(root: etree._Element, rng: random.Random) -> bool:
    """An element moved under another parent, or wrapped, or an unknown element added."""
    elements = [e for e in _elements(root, lambda e: e is not root) if e.getparent() is not None]
    if len(elements) < 2:
        return False
    moved, host = rng.sample(elements, 2)
    if moved in host.iterancestors() or moved is host:
        return False
    choice = rng.random()
    if choice < 0.5:
        host.append(moved)
    elif choice < 0.75:
        etree.SubElement(host, f"{{{CBC}}}Note").text = rng.choice(("", "x", "  "))
    else:
        etree.SubElement(host, f"{{{CAC}}}{_local(moved)}")
    return True


UBL_EXTRAS = (
    ("Invoice", f"{{{CBC}}}UUID"),
    ("Invoice", f"{{{CBC}}}CopyIndicator"),
    ("Invoice", f"{{{CBC}}}IssueTime"),
    ("Invoice", f"{{{CBC}}}PricingCurrencyCode"),
    ("Invoice", f"{{{CBC}}}LineCountNumeric"),
    ("CreditNote", f"{{{CBC}}}UUID"),
    ("Party", f"{{{CBC}}}WebsiteURI"),
    ("Party", f"{{{CBC}}}MarkCareIndicator"),
    ("PostalAddress", f"{{{CBC}}}Postbox"),
    ("PostalAddress", f"{{{CBC}}}Floor"),
    ("PostalAddress", f"{{{CBC}}}Room"),
    ("InvoiceLine", f"{{{CBC}}}UUID"),
    ("InvoiceLine", f"{{{CBC}}}TaxPointDate"),
    ("CreditNoteLine", f"{{{CBC}}}UUID"),
    ("Item", f"{{{CBC}}}PackQuantity"),
    ("Item", f"{{{CBC}}}CatalogueIndicator"),
    ("Price", f"{{{CBC}}}PriceChangeReason"),
    ("Price", f"{{{CBC}}}PriceTypeCode"),
    ("TaxTotal", f"{{{CBC}}}RoundingAmount"),
    ("TaxSubtotal", f"{{{CBC}}}CalculationSequenceNumeric"),
    ("TaxCategory", f"{{{CBC}}}Name"),
    ("LegalMonetaryTotal", f"{{{CBC}}}PayableAlternativeAmount"),
    ("PaymentMeans", f"{{{CBC}}}PaymentChannelCode"),
    ("AllowanceCharge", f"{{{CBC}}}SequenceNumeric"),
)
"""(parent, child): UBL 2.1 elements a mutation adds where the EN 16931 subset of UBL
forbids them (the syntax rules, ``UBL-CR-*``)."""
UBL_ATTRIBUTES = (
    "schemeName",
    "schemeAgencyID",
    "listAgencyID",
    "listVersionID",
    "unitCodeListID",
    "currencyCodeListVersionID",
    "languageID",
)
"""UBL attributes a mutation adds (the syntax rules forbid most of them on most elements)."""


def ubl_extra(root: etree._Element, rng: random.Random) -> bool:
    """A UBL element or attribute the EN 16931 subset forbids, added to a random element."""
    if rng.random() < 0.7:
        parent, child = rng.choice(UBL_EXTRAS)
        hosts = _elements(root, lambda e: _local(e) == parent)
        if not hosts:
            return False
        etree.SubElement(rng.choice(hosts), child).text = "1"
        return True
    target = rng.choice(_elements(root, lambda e: True))
    name = rng.choice(UBL_ATTRIBUTES)
    if name in target.attrib:
        return False
    target.set(name, "x")
    return True


def empty_value(root: etree._Element, rng: random.Random) -> bool:
    """A leaf's text emptied, made blank or padded with spaces."""
    leaves = _elements(root, lambda e: len(e) == 0 and bool(e.text))
    if not leaves:
        return False
    target = rng.choice(leaves)
    before = target.text
    target.text = rng.choice(("", "   ", f" {target.text} ", (target.text or "").lower()))
    return target.text != before


MUTATIONS: dict[str, Mutation] = {
    "amount-off-by-a-cent": amount_off_by_a_cent,
    "remove-element": remove_element,
    "wrong-code": wrong_code,
    "swap-currencies": swap_currencies,
    "extra-line": extra_line,
    "unusual-nesting": unusual_nesting,
    "empty-value": empty_value,
    "ubl-extra": ubl_extra,
}


@dataclass(frozen=True, slots=True)
class Case:
    """One mutated document: its profile, where it came from and what was done to it."""

    profile: str
    origin: str
    mutations: tuple[str, ...]
    xml: bytes


def seeds(
    reference: Path | None, rng: random.Random, generated: int
) -> list[tuple[str, str, bytes]]:
    """(profile, origin, document): ``generated`` converted fapiao per profile, and the
    official examples of each profile when the reference folder is there."""
    directory = PartnerDirectory.from_dict(directory_data())
    found = []
    for profile in PROFILES:
        for index in range(generated):
            source = fapiao(index, profile, rng, rng.randint(1, 8))
            xml = convert(source, profile, directory).xml
            found.append((profile, f"fapiao-{profile}-{index}", xml))
        if reference is not None:
            for path in sorted(reference.glob(EXAMPLES[profile])):
                found.append((profile, path.name, path.read_bytes()))
    return found


def mutated(seed_docs: Sequence[tuple[str, str, bytes]], count: int, seed: int) -> Iterator[Case]:
    """``count`` cases: seeds taken in turn, each mutated one to three times."""
    rng = random.Random(seed)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False)
    for number in range(count):
        profile, origin, xml = seed_docs[number % len(seed_docs)]
        root = etree.fromstring(xml, parser)
        applied: list[str] = []
        for _ in range(rng.randint(1, 3)):
            name = rng.choice(sorted(MUTATIONS))
            if MUTATIONS[name](root, rng):
                applied.append(name)
        yield Case(profile, origin, tuple(applied), etree.tostring(root, xml_declaration=True))


def differences(official: list[Finding], ours: list[Finding]) -> list[str]:
    """Human-readable differences between two lists of findings (empty: identical)."""
    if official == ours:
        return []
    lines = []
    only_official = Counter(official) - Counter(ours)
    only_ours = Counter(ours) - Counter(official)
    lines += [f"  official only: {f}" for f in only_official]
    lines += [f"  ours only:     {f}" for f in only_ours]
    if not lines:
        lines.append("  same findings in a different order")
    return lines


@dataclass
class Outcome:
    """What a differential run saw."""

    cases: int = 0
    findings: int = 0
    fatal_cases: int = 0
    failures: list[str] | None = None
    rules_fired: int = 0


def run(
    validators: tuple[Validator, Validator], cases: Iterator[Case], *, stop_after: int = 10
) -> Outcome:
    """Validate every case with both validators; collect differences (at most ``stop_after``
    are described)."""
    official, ours = validators
    outcome = Outcome(failures=[])
    fired: set[str] = set()
    for case in cases:
        expected = official.validate(case.xml, case.profile)
        actual = ours.validate(case.xml, case.profile)
        outcome.cases += 1
        outcome.findings += len(expected.findings)
        outcome.fatal_cases += expected.fatal
        fired.update(f.rule_id for f in expected.findings)
        problems = differences(expected.findings, actual.findings)
        if problems:
            assert outcome.failures is not None
            if len(outcome.failures) < stop_after:
                outcome.failures.append(
                    f"{case.origin} {case.profile} {list(case.mutations)}:\n" + "\n".join(problems)
                )
            else:
                outcome.failures.append(case.origin)
    outcome.rules_fired = len(fired)
    return outcome


def validators(home: Path, engine: str) -> tuple[Validator, Validator]:
    """The official and our compiled form on the same engine."""
    chosen = sch.engine(EngineOptions(engine=engine, work_dir=home, jvm_warm_runs=0))
    return Validator(home, chosen, "official"), Validator(home, chosen, "fast")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.differential")
    parser.add_argument("--docs", type=int, default=10_000, help="mutated documents to compare")
    parser.add_argument("--engine", choices=("saxonche", "jvm"), default="saxonche")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--generated", type=int, default=40, help="generated seeds per profile")
    parser.add_argument(
        "--reference",
        type=Path,
        default=Path(__file__).resolve().parents[2] / "shared" / "reference",
        help="official reference folder (its examples are seeds too)",
    )
    args = parser.parse_args(argv)
    reference = args.reference if args.reference.is_dir() else None
    seed_docs = seeds(reference, random.Random(args.seed), args.generated)
    started = time.monotonic()
    outcome = run(validators(data_home(), args.engine), mutated(seed_docs, args.docs, args.seed))
    elapsed = time.monotonic() - started
    failures = outcome.failures or []
    print(
        f"differential ({args.engine}): {outcome.cases} mutated documents from {len(seed_docs)} "
        f"seeds, {outcome.findings} findings ({outcome.rules_fired} distinct rules, "
        f"{outcome.fatal_cases} documents with fatal findings), {len(failures)} differing, "
        f"{elapsed:.0f} s"
    )
    for failure in failures[:10]:
        print(failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

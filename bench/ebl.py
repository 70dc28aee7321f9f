"""eBL conversions per second per output, and OpenAttestation wrap + verify per second, each
side by side with a naive baseline in the same run.

    .venv/bin/python -m bench.ebl [--docs 50] [--rounds 3] [--reference ../shared/reference]

Input: the DCSA eBL 3.0.3 example transport documents (regular, reefer, dangerous goods),
each given a fresh reference per document.

* **ours**: ``gateway.flows.ebl_convert.convert_ebl``: DCSA schema check (compiled once per
  process; a Rust gate answers for valid documents, ``jsonschema`` explains invalid ones),
  eBL rules, render, output validated against its schema (compiled once).
* **naive**: the same steps, but every JSON schema (and, for UBL, the XSD) compiled again for
  each document, as a script calling ``jsonschema.validate`` per document would.
* **tradetrust-vc**: render the W3C VC, sign it (``ecdsa-sd-2023`` base proof: RDFC-1.0
  canonicalisation, one P-256 signature per statement), check every member is defined by a
  context and verify it with our verifier; naive compiles the DCSA schema per document as
  above (the JSON-LD and signature work, most of the cost, is the same).
* **OA**: wrap (salt, keccak-256 field hashes, Merkle root) + verify of the TradeTrust raw
  document; naive also compiles the OpenAttestation schema per document to check the raw data.

Every measurement runs once per round, rounds interleaved; the median and the spread
(min–max) are printed and saved under ``bench/results/ebl.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec
from jsonschema.validators import validator_for
from lxml import etree

from gateway.artefacts import require_files
from gateway.flows.ebl_convert import (
    OA_SCHEMA,
    UNCEFACT_SCHEMA,
    EblTarget,
    check_ebl,
    convert_ebl,
)
from gateway.read.dcsa import read_dcsa
from gateway.render.dcsa import dump_json, render_dcsa
from gateway.render.tradetrust_oa import LOCAL_ISSUER, render_tradetrust_raw
from gateway.render.tradetrust_vc import VcFacts, render_tradetrust_vc
from gateway.render.ubl_bill_of_lading import render_bill_of_lading
from gateway.render.uncefact_bill_of_lading import render_uncefact
from gateway.settings import Settings
from gateway.signing.ecdsa_sd import undefined_terms
from gateway.signing.jsonld_loader import static_loader
from gateway.signing.openattestation import verify_document, wrap_document
from gateway.signing.vc_issuer import VcIssuer
from gateway.validation.dcsa_schema import DcsaKind, schema_ref
from gateway.validation.ebl_rules import check_transport_document
from gateway.validation.json_schema import SchemaRef
from gateway.xmlsafe import parse_xml

EXAMPLES = (
    "EBL_v3.0.3.transport-document.GET.200.regular.json",
    "EBL_v3.0.3.transport-document.GET.200.reefer.json",
    "EBL_v3.0.3.transport-document.GET.200.dangerous-goods.json",
)
TARGETS = (
    EblTarget.DCSA,
    EblTarget.UBL,
    EblTarget.UNCEFACT,
    EblTarget.TRADETRUST_OA,
    EblTarget.TRADETRUST_VC,
)
VC_ISSUER = VcIssuer(ec.generate_private_key(ec.SECP256R1()), "did:web:bench.example")
UBL_XSD = ("ubl-2.1", "2.1", "maindoc-transport-cs1/UBL-BillOfLading-2.1.xsd")


def documents(reference: Path, count: int) -> list[bytes]:
    """``count`` transport documents cycling over the examples, each with its own reference."""
    folder = reference / "ebl" / "dcsa" / "examples"
    bases = [json.loads((folder / name).read_text(encoding="utf-8")) for name in EXAMPLES]
    out = []
    for i in range(count):
        doc = dict(bases[i % len(bases)])
        doc["transportDocumentReference"] = f"BENCH{i:010d}"
        out.append(json.dumps(doc).encode())
    return out


def jsonschema_validate(instance: object, schema: dict[str, object]) -> None:
    """Compile ``schema`` (formats checked, as ours) and validate: the per-document cost."""
    cls = validator_for(schema)
    cls(schema, format_checker=cls.FORMAT_CHECKER).validate(instance)


def _schema_path(ref: SchemaRef, home: Path) -> Path:
    (path,) = require_files(ref.set_name, ref.version, [ref.path], home)
    return path


def naive_convert(data: bytes, target: EblTarget, home: Path) -> bytes:
    """The same conversion with every schema compiled again for this document."""
    parsed = json.loads(data)
    dcsa_schema = json.loads(
        _schema_path(schema_ref(DcsaKind.TRANSPORT_DOCUMENT), home).read_text()
    )
    jsonschema_validate(parsed, dcsa_schema)
    doc = read_dcsa(parsed).document
    assert not [f for f in check_transport_document(doc) if f.flag == "fatal"]
    if target is EblTarget.UBL:
        xml = render_bill_of_lading(doc).xml
        (xsd,) = require_files(*UBL_XSD[:2], [UBL_XSD[2]], home)
        etree.XMLSchema(etree.parse(str(xsd))).assertValid(parse_xml(xml))
        return xml
    if target is EblTarget.DCSA:
        out = render_dcsa(doc).data
        jsonschema_validate(json.loads(dump_json(out)), dcsa_schema)
        return dump_json(out)
    if target is EblTarget.UNCEFACT:
        un = render_uncefact(doc).data
        jsonschema_validate(un, json.loads(_schema_path(UNCEFACT_SCHEMA, home).read_text()))
        return dump_json(un)
    if target is EblTarget.TRADETRUST_VC:
        rendered = render_tradetrust_vc(doc, VcFacts(VC_ISSUER.did, LOCAL_ISSUER.token_registry))
        signed = VC_ISSUER.sign(rendered.data, home)
        assert undefined_terms(signed, static_loader(home)) == []
        assert VC_ISSUER.verify(signed, home) == []
        return dump_json(signed)
    raw = render_tradetrust_raw(doc).data
    jsonschema_validate(raw, json.loads(_schema_path(OA_SCHEMA, home).read_text()))
    wrapped = wrap_document(raw)
    assert verify_document(wrapped).valid
    return dump_json(wrapped)


def _rate(work: Callable[[bytes], object], docs: list[bytes]) -> float:
    start = time.perf_counter()
    for data in docs:
        work(data)
    return len(docs) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ebl")
    parser.add_argument("--docs", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reference", type=Path, default=Path("../shared/reference"))
    args = parser.parse_args()
    home = Settings.load().artefacts_home
    docs = documents(args.reference, args.docs)
    raws = [render_tradetrust_raw(check_ebl(d, home).document).data for d in docs]
    oa_schema = _schema_path(OA_SCHEMA, home)
    for target in TARGETS:  # warm-up: compile the schemas once
        convert_ebl(docs[0], target, home, vc_issuer=VC_ISSUER)
    runs: dict[str, list[float]] = {}

    def oa_ours(index: int) -> None:
        assert verify_document(wrap_document(raws[index])).valid

    def oa_naive(index: int) -> None:
        jsonschema_validate(raws[index], json.loads(oa_schema.read_text()))
        assert verify_document(wrap_document(raws[index])).valid

    indices = [str(i).encode() for i in range(len(raws))]
    for _ in range(args.rounds):
        for target in TARGETS:
            runs.setdefault(f"{target.value} ours", []).append(
                _rate(lambda d, t=target: convert_ebl(d, t, home, vc_issuer=VC_ISSUER), docs)
            )
            runs.setdefault(f"{target.value} naive", []).append(
                _rate(lambda d, t=target: naive_convert(d, t, home), docs)
            )
        runs.setdefault("oa wrap+verify ours", []).append(_rate(lambda i: oa_ours(int(i)), indices))
        runs.setdefault("oa wrap+verify naive", []).append(
            _rate(lambda i: oa_naive(int(i)), indices)
        )
    print(f"eBL bench: {args.docs} documents, {args.rounds} rounds (docs/s, median [min-max])")
    summary = {}
    for name, rates in runs.items():
        median = statistics.median(rates)
        summary[name] = {"median": median, "min": min(rates), "max": max(rates)}
        print(f"  {name:<26} {median:9.1f}  [{min(rates):.1f}-{max(rates):.1f}]")
    for base in [t.value for t in TARGETS] + ["oa wrap+verify"]:
        ratio = summary[f"{base} ours"]["median"] / summary[f"{base} naive"]["median"]
        print(f"  {base:<26} ours/naive = {ratio:.1f}x")
    out = Path("bench/results")
    out.mkdir(parents=True, exist_ok=True)
    (out / "ebl.json").write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()

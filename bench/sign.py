"""Issue 4's figures: XAdES signatures/s and verifications/s, side by side with python-xmlsec.

    .venv/bin/python -m bench.sign [--seconds 1.0] [--rounds 5] [--json out.json]

Documents: official Peppol BIS 3 examples of three sizes (from ``../shared/reference``) and
generated UBL invoices with 100 and 1,000 lines (the base example's line repeated). Keys: a
test PKI made for the run (RSA 2048 and ECDSA P-256).

* **ours** — ``XadesSigner.sign``: bytes in, hardened parse, UBL extension, XAdES B-B
  (SignedProperties, signing certificate, data object format), bytes out;
  ``Verifier.verify`` with chain, validity and CRL revocation (from files, no network).
* **python-xmlsec** (baseline, libxmlsec1) — bytes in, ``lxml`` parse, enveloped XML-DSig
  template (inclusive C14N, RSA-SHA256 / ECDSA-SHA256, SHA-256), sign, bytes out; its verify of
  our XAdES-signed documents with the signer's certificate (no chain, no revocation).

* **cold verify** — ``Verifier.verify`` on a verifier that has verified nothing yet (its
  certificate-path and revocation memories empty) with the parsed-certificate cache cleared,
  one fresh verifier per verification (built before the clock starts): the first document
  from a new signer, beside the warm figure (the same document again and again).

* **signxml** (for reference) — ``signxml.xades.XAdESSigner`` with C14N 1.1 and the key
  loaded once: what the gateway would get from signxml (signing only).

Rounds alternate between the implementations so that load from other processes hits both alike. Goal:
ours ≥ 70 % of python-xmlsec's signing rate and ≥ 500 XAdES signatures/s (RSA, base example).
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import xmlsec
from lxml import etree

from gateway.signing import Verifier, XadesSigner
from gateway.signing import structure as signature_structure
from gateway.signing.testpki import TestPki, make_test_pki

REFERENCE = Path(__file__).resolve().parent.parent.parent / "shared" / "reference"
EXAMPLES = REFERENCE / "openpeppol-peppol-bis-invoice-3" / "rules" / "examples"
CAC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2}"
DS = "{http://www.w3.org/2000/09/xmldsig#}"


def documents() -> dict[str, bytes]:
    """Official examples (small, medium, large) and generated invoices with many lines."""
    docs = {
        "vat-category-O (official)": (EXAMPLES / "vat-category-O.xml").read_bytes(),
        "base-example (official)": (EXAMPLES / "base-example.xml").read_bytes(),
        "Allowance-example (official)": (EXAMPLES / "Allowance-example.xml").read_bytes(),
    }
    base = docs["base-example (official)"]
    for lines in (100, 1000):
        docs[f"generated, {lines} lines"] = _with_lines(base, lines)
    return docs


def _with_lines(document: bytes, lines: int) -> bytes:
    root = etree.fromstring(document)
    line = root.find(f"{CAC}InvoiceLine")
    assert line is not None
    for existing in root.findall(f"{CAC}InvoiceLine"):
        root.remove(existing)
    for number in range(1, lines + 1):
        clone = copy.deepcopy(line)
        clone.find(
            "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}ID"
        ).text = str(number)  # type: ignore[union-attr]
        root.append(clone)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


class SignxmlReference:
    """signxml's XAdES signer (C14N 1.1, key parsed once), for the signing figure."""

    def __init__(self, key_file: Path, cert_file: Path, ecdsa: bool) -> None:
        from cryptography.hazmat.primitives import serialization
        from signxml import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
        from signxml.xades import XAdESSigner

        method = SignatureMethod.ECDSA_SHA256 if ecdsa else SignatureMethod.RSA_SHA256
        self.signer = XAdESSigner(
            signature_algorithm=method,
            digest_algorithm=DigestAlgorithm.SHA256,
            c14n_algorithm=CanonicalizationMethod.CANONICAL_XML_1_1,
        )
        self.key = serialization.load_pem_private_key(key_file.read_bytes(), None)
        self.cert = cert_file.read_text()

    def sign(self, data: bytes) -> bytes:
        signed = self.signer.sign(etree.fromstring(data), key=self.key, cert=self.cert)
        return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


class XmlsecBaseline:
    """python-xmlsec signing and verifying the same documents (plain enveloped XML-DSig)."""

    def __init__(self, key_file: Path, cert_file: Path, ecdsa: bool) -> None:
        self.key = xmlsec.Key.from_file(str(key_file), xmlsec.constants.KeyDataFormatPem)
        self.key.load_cert_from_file(str(cert_file), xmlsec.constants.KeyDataFormatPem)
        self.public = xmlsec.Key.from_file(str(cert_file), xmlsec.constants.KeyDataFormatCertPem)
        consts = xmlsec.constants
        self.method = consts.TransformEcdsaSha256 if ecdsa else consts.TransformRsaSha256

    def sign(self, data: bytes) -> bytes:
        root = etree.fromstring(data)
        consts = xmlsec.constants
        signature = xmlsec.template.create(root, consts.TransformInclC14N, self.method)
        root.append(signature)
        ref = xmlsec.template.add_reference(signature, consts.TransformSha256, uri="")
        xmlsec.template.add_transform(ref, consts.TransformEnveloped)
        xmlsec.template.add_x509_data(xmlsec.template.ensure_key_info(signature))
        context = xmlsec.SignatureContext()
        context.key = self.key
        context.sign(signature)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")

    def verify(self, data: bytes) -> None:
        root = etree.fromstring(data)
        xmlsec.tree.add_ids(root, ["Id"])
        context = xmlsec.SignatureContext()
        context.key = self.public
        context.verify(next(root.iter(f"{DS}Signature")))


def _rate(func: Callable[[bytes], object], data: bytes, seconds: float) -> tuple[int, float]:
    """(count, elapsed) running ``func(data)`` for about ``seconds``."""
    count, start = 0, time.perf_counter()
    deadline = start + seconds
    while True:
        func(data)
        count += 1
        now = time.perf_counter()
        if now >= deadline:
            return count, now - start


def _alternate(
    ours: Callable[[bytes], object],
    theirs: Callable[[bytes], object],
    data: bytes,
    seconds: float,
    rounds: int,
) -> tuple[float, float]:
    """Median per-round rates of ``ours`` and ``theirs``, rounds interleaved."""
    ours_rates, their_rates = [], []
    for _ in range(rounds):
        count, elapsed = _rate(ours, data, seconds)
        ours_rates.append(count / elapsed)
        count, elapsed = _rate(theirs, data, seconds)
        their_rates.append(count / elapsed)
    return statistics.median(ours_rates), statistics.median(their_rates)


def _cold_rate(make_verifier: Callable[[], Verifier], data: bytes, count: int) -> float:
    """Verifications/s with every cache cold: a fresh verifier per document (built untimed)
    and the module's parsed-certificate cache cleared before each."""
    verifiers = [make_verifier() for _ in range(count)]
    elapsed = 0.0
    for verifier in verifiers:
        signature_structure._certificate.cache_clear()
        start = time.perf_counter()
        verifier.verify(data)
        elapsed += time.perf_counter() - start
    return count / elapsed


def _setup(pki: TestPki, which: str) -> tuple[XadesSigner, XmlsecBaseline, Verifier]:
    name = {"rsa": "signer-rsa", "ec": "signer-ec"}[which]
    signer = XadesSigner.from_files(
        pki.path(f"{name}.key.pem"), pki.path(f"{name}.pem"), [pki.path("chain.pem")]
    )
    baseline = XmlsecBaseline(pki.path(f"{name}.key.pem"), pki.path(f"{name}.pem"), which == "ec")
    return signer, baseline, _verifier(pki)


def _verifier(pki: TestPki) -> Verifier:
    """Chain, validity and CRL revocation from files (no network)."""
    return Verifier(
        trust=[pki.root.cert],
        crls=[pki.intermediate_crl, pki.root_crl],
        ocsp=False,
        fetch_crls=False,
    )


def run(seconds: float, rounds: int, cold: int) -> list[dict[str, object]]:
    """Measure every document with RSA and ECDSA; print a table; return the rows."""
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as folder:
        pki = make_test_pki(folder)
        for which in ("rsa", "ec"):
            signer, baseline, verifier = _setup(pki, which)
            name_ = {"rsa": "signer-rsa", "ec": "signer-ec"}[which]
            reference = SignxmlReference(
                pki.path(f"{name_}.key.pem"), pki.path(f"{name_}.pem"), which == "ec"
            )
            for name, data in documents().items():
                ours_signed, their_signed = signer.sign(data), baseline.sign(data)
                verifier.verify(ours_signed)
                baseline.verify(their_signed)
                baseline.verify(ours_signed)
                sign = _alternate(signer.sign, baseline.sign, data, seconds, rounds)
                signxml_rate = _alternate(reference.sign, baseline.sign, data, seconds, 1)[0]
                check = _alternate(verifier.verify, baseline.verify, ours_signed, seconds, rounds)
                cold_rates = [
                    _cold_rate(lambda: _verifier(pki), ours_signed, cold) for _ in range(rounds)
                ]
                row = {
                    "key": which.upper(),
                    "document": name,
                    "bytes": len(data),
                    "sign_ours": sign[0],
                    "sign_xmlsec": sign[1],
                    "sign_ratio": sign[0] / sign[1],
                    "sign_signxml": signxml_rate,
                    "verify_ours": check[0],
                    "verify_xmlsec": check[1],
                    "verify_ratio": check[0] / check[1],
                    "verify_cold": statistics.median(cold_rates),
                    "verify_cold_spread": max(cold_rates) - min(cold_rates),
                }
                rows.append(row)
                _print_row(row)
    return rows


def _print_row(row: dict[str, object]) -> None:
    print(
        f"{row['key']:<5} {row['document']:<30} {row['bytes']:>9} "
        f"{row['sign_ours']:>9.0f} {row['sign_xmlsec']:>9.0f} {row['sign_ratio']:>6.0%} "
        f"{row['sign_signxml']:>8.0f} "
        f"{row['verify_ours']:>9.0f} {row['verify_xmlsec']:>9.0f} {row['verify_ratio']:>6.0%} "
        f"{row['verify_cold']:>7.0f} ±{row['verify_cold_spread']:<5.0f}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print figures and ratios."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.sign", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--seconds", type=float, default=1.0, help="time per measurement")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per figure")
    parser.add_argument(
        "--cold",
        type=int,
        default=20,
        help="cold-cache verifications per round (fresh verifier each)",
    )
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    if not EXAMPLES.is_dir():
        print(f"reference examples not found at {EXAMPLES}", file=sys.stderr)
        return 2
    print(
        f"python {platform.python_version()}, {platform.machine()}; rates per second, median of "
        f"{args.rounds} alternating rounds of {args.seconds:.1f}s"
    )
    print(
        f"{'key':<5} {'document':<30} {'bytes':>9} {'sign':>9} {'xmlsec':>9} {'ratio':>6} "
        f"{'signxml':>8} {'verify':>9} {'xmlsec':>9} {'ratio':>6} {'cold':>7} {'spread':<6}"
    )
    rows = run(args.seconds, args.rounds, args.cold)
    base = next(r for r in rows if r["key"] == "RSA" and str(r["document"]).startswith("base"))
    sign_ratio = float(base["sign_ratio"])  # type: ignore[arg-type]
    sign_rate = float(base["sign_ours"])  # type: ignore[arg-type]
    print(
        f"\nRSA, base example: {sign_rate:.0f} XAdES signatures/s (goal ≥ 500: "
        f"{'met' if sign_rate >= 500 else 'NOT met'}), {sign_ratio:.0%} of python-xmlsec's rate "
        f"(goal ≥ 70%: {'met' if sign_ratio >= 0.7 else 'NOT met'})"
    )
    ratios = [float(r["sign_ratio"]) for r in rows]  # type: ignore[arg-type]
    signxml = [float(r["sign_ours"]) / float(r["sign_signxml"]) for r in rows]  # type: ignore[arg-type]
    print(
        f"all documents, both keys: signing at {statistics.geometric_mean(ratios):.0%} of "
        f"python-xmlsec (geometric mean), {statistics.geometric_mean(signxml):.1f}x signxml's XAdES"
    )
    cold = [float(r["verify_cold"]) / float(r["verify_ours"]) for r in rows]  # type: ignore[arg-type]
    print(
        f"verify on cold caches (a new signer's first document, median of {args.rounds} rounds "
        f"of {args.cold}): {statistics.geometric_mean(cold):.0%} of the warm rate (geometric mean)"
    )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A certificate with a critical extension the gateway does not process is refused
(RFC 5280 4.2: "A certificate-using system MUST reject the certificate if it encounters a
critical extension it does not recognize or a critical extension that contains information
that it cannot process").

Path building checked basicConstraints, keyUsage and pathLenConstraint and passed over every
other extension, critical or not: a signer certificate carrying an unknown critical
extension, or an issuing CA limited by nameConstraints or a critical certificatePolicies the
gateway never applies, verified. Now the path is refused, naming the certificate and the
extension's OID, wherever certificates are checked: XAdES signatures (:class:`Verifier`), the
shared :class:`TrustStore` (AS4 and SMP signers, JWS ``x5c`` chains) and delegated OCSP
responders. ``openssl verify`` (code we did not write) is the reference for the unknown
extension; it processes policies itself, which the gateway does not, so for those the gateway
is the stricter of the two, as RFC 5280 4.2 asks of it. Name constraints are processed now
(``test_name_constraints.py``): a CA's critical nameConstraints no longer refuse its path.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier

from gateway.errors import VerificationError
from gateway.signing import Verifier, XadesSigner
from gateway.signing.jose import CompactSigner, KeySet, verify_compact
from gateway.signing.keys import PrivateKeyProvider
from gateway.signing.truststore import TrustStore
from tests.signing.issued import Issued, issue

from .signing_support import BILL_OF_LADING

PRIVATE_OID = ObjectIdentifier("1.3.6.1.4.1.55555.7.1")
"""An extension OID nobody processes (a private enterprise arc)."""
UNKNOWN = x509.UnrecognizedExtension(PRIVATE_OID, b"\x05\x00")


def _issue(
    name: str,
    issuer: Issued | None,
    *,
    ca: bool,
    extra: list[tuple[x509.ExtensionType, bool]] = [],  # noqa: B006 - never mutated
) -> Issued:
    return issue(name, issuer, ca=ca, usage=True, extensions=extra)


def _openssl_accepts(folder: Path, root: Issued, ca: Issued, leaf: Issued) -> bool:
    pem = serialization.Encoding.PEM
    (folder / "root.pem").write_bytes(root[0].public_bytes(pem))
    (folder / "ca.pem").write_bytes(ca[0].public_bytes(pem))
    (folder / "leaf.pem").write_bytes(leaf[0].public_bytes(pem))
    files = ["-untrusted", str(folder / "ca.pem"), str(folder / "leaf.pem")]
    run = subprocess.run(
        ["openssl", "verify", "-CAfile", str(folder / "root.pem"), *files],
        capture_output=True,
        text=True,
        check=False,
    )
    return run.returncode == 0


NAME_CONSTRAINTS = x509.NameConstraints(
    permitted_subtrees=[x509.DNSName("example.com")], excluded_subtrees=None
)
POLICIES = x509.CertificatePolicies([x509.PolicyInformation(ObjectIdentifier("1.2.3.4"), None)])
CLIENT_AUTH = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH])
REFUSED = {
    "leaf: unknown critical": ("leaf", UNKNOWN, PRIVATE_OID.dotted_string),
    "CA: critical certificatePolicies": ("ca", POLICIES, "2.5.29.32 (certificatePolicies)"),
    "leaf: critical certificatePolicies": ("leaf", POLICIES, "2.5.29.32 (certificatePolicies)"),
}
ACCEPTED = {
    "leaf: unknown, not critical": ("leaf", UNKNOWN, False),
    "leaf: critical extendedKeyUsage (as Peppol AP certificates)": ("leaf", CLIENT_AUTH, True),
    "leaf: critical subjectAltName": ("leaf", x509.SubjectAlternativeName([]), True),
    "CA: certificatePolicies, not critical": ("ca", POLICIES, False),
    "root (the anchor): unknown critical": ("root", UNKNOWN, True),
    "CA: critical nameConstraints (processed)": ("ca", NAME_CONSTRAINTS, True),
}


def _hierarchy(where: str, value: x509.ExtensionType, critical: bool) -> tuple[Issued, ...]:
    def extra(here: str) -> list[tuple[x509.ExtensionType, bool]]:
        return [(value, critical)] if here == where else []

    root = _issue("Critical Test Root", None, ca=True, extra=extra("root"))
    ca = _issue("Critical Test Issuing CA", root, ca=True, extra=extra("ca"))
    leaf = _issue("Critical Test Signer", ca, ca=False, extra=extra("leaf"))
    return root, ca, leaf


def _signed(ca: Issued, leaf: Issued) -> bytes:
    return XadesSigner(PrivateKeyProvider(leaf[1], leaf[0], [ca[0]])).sign(BILL_OF_LADING)


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_critical_extension_the_gateway_does_not_process_is_refused(
    tmp_path: Path, case: str
) -> None:
    where, value, named = REFUSED[case]
    root, ca, leaf = _hierarchy(where, value, True)
    if shutil.which("openssl") and value is UNKNOWN:
        assert not _openssl_accepts(tmp_path, root, ca, leaf)
    holder = (leaf if where == "leaf" else ca)[0].subject.rfc4514_string()
    with pytest.raises(VerificationError) as caught:
        Verifier(trust=[root[0]], check_revocation=False).verify(_signed(ca, leaf))
    assert caught.value.check == "chain"
    assert named in caught.value.message and holder in caught.value.message
    assert "RFC 5280 4.2" in caught.value.message
    store = TrustStore((root[0],), what="access point certificate")
    with pytest.raises(VerificationError) as by_store:
        store.check(leaf[0], intermediates=[ca[0]])
    assert by_store.value.check == "chain"
    assert named in by_store.value.message and holder in by_store.value.message
    assert "is refused" in by_store.value.message


@pytest.mark.parametrize("case", sorted(ACCEPTED))
def test_extensions_the_gateway_processes_or_that_are_not_critical_pass(
    tmp_path: Path, case: str
) -> None:
    where, value, critical = ACCEPTED[case]
    root, ca, leaf = _hierarchy(where, value, critical)
    if shutil.which("openssl") and where != "root":
        assert _openssl_accepts(tmp_path, root, ca, leaf)
    verified = Verifier(trust=[root[0]], check_revocation=False).verify(_signed(ca, leaf))
    assert verified.chain == [leaf[0], ca[0], root[0]]
    assert TrustStore((root[0],)).check(leaf[0], intermediates=[ca[0]])[-1] == root[0]


def test_an_x5c_chain_with_an_unknown_critical_extension_is_refused() -> None:
    """A JWS (DCSA PINT) whose ``x5c`` signer certificate carries an unknown critical
    extension: the key set's trust store refuses it before the signature counts."""
    root, ca, leaf = _hierarchy("leaf", UNKNOWN, True)
    keys = KeySet(trust=TrustStore((root[0],), what="platform certificate"))
    keys.add(leaf[1], "SGTD")
    token = CompactSigner(leaf[1], x5c=[leaf[0], ca[0]]).sign_json({"hello": "world"})
    with pytest.raises(VerificationError) as caught:
        verify_compact(token, keys)
    assert caught.value.check == "chain" and PRIVATE_OID.dotted_string in caught.value.message
    good_root, good_ca, good_leaf = _hierarchy("none", UNKNOWN, True)
    keys = KeySet(trust=TrustStore((good_root[0],), what="platform certificate"))
    keys.add(good_leaf[1], "SGTD")
    token = CompactSigner(good_leaf[1], x5c=[good_leaf[0], good_ca[0]]).sign_json({"a": 1})
    assert verify_compact(token, keys).signer.owner == "SGTD"

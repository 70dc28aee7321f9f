"""nameConstraints processed (RFC 5280 4.2.1.10), each verdict checked against
``openssl verify`` on the same certificates.

Until now a CA marking nameConstraints critical was refused outright, whatever its
constraints and the names below it: a constrained issuing CA (the usual way a private or
bridge CA is handed to a partner) could not be used at all, and one marking them non-critical
was not constrained. Now the names below each CA are matched against its permitted and
excluded subtrees (dNSName, rfc822Name, directoryName, iPAddress, URI), and a name of a form
that cannot be matched against a constraint of that form is refused.
"""

from __future__ import annotations

import ipaddress
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID, ObjectIdentifier

from gateway.errors import VerificationError
from gateway.signing import Verifier, XadesSigner
from gateway.signing.keys import PrivateKeyProvider
from gateway.signing.truststore import TrustStore
from tests.signing.issued import Issued, issue

from .signing_support import BILL_OF_LADING

ORG = [
    x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Lingang Test"),
]
SUBTREE = x509.DirectoryName(x509.Name(ORG))


def _name(common: str, org: list[x509.NameAttribute] | None = None) -> x509.Name:
    return x509.Name(
        [*(ORG if org is None else org), x509.NameAttribute(NameOID.COMMON_NAME, common)]
    )


def _issue(
    subject: x509.Name,
    issuer: Issued | None,
    *,
    ca: bool,
    constraints: x509.NameConstraints | None = None,
    alternative: list[x509.GeneralName] | None = None,
) -> Issued:
    extensions: list[tuple[x509.ExtensionType, bool]] = []
    if constraints is not None:
        extensions.append((constraints, True))
    if alternative:
        extensions.append((x509.SubjectAlternativeName(alternative), False))
    return issue(subject, issuer, ca=ca, extensions=extensions)


def _constraints(
    permitted: list[x509.GeneralName] | None = None,
    excluded: list[x509.GeneralName] | None = None,
) -> x509.NameConstraints:
    return x509.NameConstraints(permitted_subtrees=permitted, excluded_subtrees=excluded)


DNS = _constraints([x509.DNSName("example.com")])
CASES: dict[str, tuple[x509.NameConstraints, x509.Name, list[x509.GeneralName], bool]] = {
    "dns: within": (DNS, _name("Signer One"), [x509.DNSName("www.example.com")], True),
    "dns: the name itself": (DNS, _name("Signer One"), [x509.DNSName("example.com")], True),
    "dns: another domain": (DNS, _name("Signer One"), [x509.DNSName("example.org")], False),
    "dns: a suffix, not a label": (
        DNS,
        _name("Signer One"),
        [x509.DNSName("badexample.com")],
        False,
    ),
    "dns: excluded": (
        _constraints(excluded=[x509.DNSName("bad.example.com")]),
        _name("Signer One"),
        [x509.DNSName("x.bad.example.com")],
        False,
    ),
    "dn: within": (_constraints([SUBTREE]), _name("Signer One"), [], True),
    "dn: another organisation": (
        _constraints([SUBTREE]),
        _name("Signer One", [x509.NameAttribute(NameOID.COUNTRY_NAME, "SG")]),
        [],
        False,
    ),
    "dn: excluded": (_constraints(excluded=[SUBTREE]), _name("Signer One"), [], False),
    "email: within": (
        _constraints([x509.RFC822Name("example.com")]),
        _name("Signer One"),
        [x509.RFC822Name("ops@example.com")],
        True,
    ),
    "email: in the subject, another host": (
        _constraints([x509.RFC822Name("example.com")]),
        _name("Signer One", [*ORG, x509.NameAttribute(NameOID.EMAIL_ADDRESS, "ops@evil.test")]),
        [],
        False,
    ),
    "ip: outside": (
        _constraints([x509.IPAddress(ipaddress.ip_network("10.0.0.0/8"))]),
        _name("Signer One"),
        [x509.IPAddress(ipaddress.ip_address("192.168.1.1"))],
        False,
    ),
    "ip: within": (
        _constraints([x509.IPAddress(ipaddress.ip_network("10.0.0.0/8"))]),
        _name("Signer One"),
        [x509.IPAddress(ipaddress.ip_address("10.1.2.3"))],
        True,
    ),
    "uri: host within the domain": (
        _constraints([x509.UniformResourceIdentifier(".example.com")]),
        _name("Signer One"),
        [x509.UniformResourceIdentifier("https://pint.example.com/v3")],
        True,
    ),
    "uri: another host": (
        _constraints([x509.UniformResourceIdentifier(".example.com")]),
        _name("Signer One"),
        [x509.UniformResourceIdentifier("https://pint.example.org/v3")],
        False,
    ),
    "dns constrained, only a directory name": (DNS, _name("Signer One"), [], True),
}


def _openssl_accepts(folder: Path, root: Issued, ca: Issued, leaf: Issued) -> bool:
    pem = serialization.Encoding.PEM
    folder.mkdir(exist_ok=True)
    for name, cert in (("root", root), ("ca", ca), ("leaf", leaf)):
        (folder / f"{name}.pem").write_bytes(cert[0].public_bytes(pem))
    run = subprocess.run(
        ["openssl", "verify", "-CAfile", "root.pem", "-untrusted", "ca.pem", "leaf.pem"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    return run.returncode == 0


def _hierarchy(
    constraints: x509.NameConstraints, subject: x509.Name, alternative: list[x509.GeneralName]
) -> tuple[Issued, Issued, Issued]:
    root = _issue(_name("Constraint Test Root"), None, ca=True)
    ca = _issue(_name("Constraint Test CA"), root, ca=True, constraints=constraints)
    return root, ca, _issue(subject, ca, ca=False, alternative=alternative)


@pytest.mark.parametrize("case", sorted(CASES))
def test_name_constraints_are_applied_as_openssl_applies_them(tmp_path: Path, case: str) -> None:
    constraints, subject, alternative, accepted = CASES[case]
    root, ca, leaf = _hierarchy(constraints, subject, alternative)
    if shutil.which("openssl"):
        assert _openssl_accepts(tmp_path / "openssl", root, ca, leaf) is accepted
    store = TrustStore((root[0],), what="access point certificate")
    if accepted:
        assert store.check(leaf[0], intermediates=[ca[0]])[-1] == root[0]
        return
    with pytest.raises(VerificationError) as caught:
        store.check(leaf[0], intermediates=[ca[0]])
    message = caught.value.message
    assert caught.value.check == "chain"
    assert f"serial {leaf[0].serial_number:x}" in message and "CN=Constraint Test CA" in message
    assert "RFC 5280 4.2.1.10" in message


def test_a_form_that_cannot_be_matched_is_refused() -> None:
    """A constraint on registeredID, and a certificate below carrying one: 4.2.1.10, "MUST
    either process the constraint or reject the certificate"."""
    registered = x509.RegisteredID(ObjectIdentifier("1.3.6.1.4.1.55555.1"))
    root, ca, leaf = _hierarchy(_constraints([registered]), _name("Signer One"), [registered])
    with pytest.raises(VerificationError, match="cannot match"):
        TrustStore((root[0],)).check(leaf[0], intermediates=[ca[0]])
    root, ca, plain = _hierarchy(_constraints([registered]), _name("Signer One"), [])
    assert TrustStore((root[0],)).check(plain[0], intermediates=[ca[0]])[-1] == root[0]


def test_a_constrained_issuing_ca_signs_xades_documents_within_its_names() -> None:
    root, ca, leaf = _hierarchy(_constraints([SUBTREE]), _name("Signer One"), [])
    signed = XadesSigner(PrivateKeyProvider(leaf[1], leaf[0], [ca[0]])).sign(BILL_OF_LADING)
    assert Verifier(trust=[root[0]], check_revocation=False).verify(signed).chain[1] == ca[0]
    root, ca, outside = _hierarchy(
        _constraints([SUBTREE]),
        _name("Signer Two", [x509.NameAttribute(NameOID.COUNTRY_NAME, "SG")]),
        [],
    )
    signed = XadesSigner(PrivateKeyProvider(outside[1], outside[0], [ca[0]])).sign(BILL_OF_LADING)
    with pytest.raises(VerificationError, match="outside the permitted subtrees"):
        Verifier(trust=[root[0]], check_revocation=False).verify(signed)


def test_a_constrained_anchor_binds_the_ca_below_it_too() -> None:
    """The anchor's own constraints apply (an operator trusting a constrained root means
    them), to the intermediate CA's subject as well as the signer's."""
    root = _issue(_name("Constraint Test Root"), None, ca=True, constraints=_constraints([SUBTREE]))
    other = [x509.NameAttribute(NameOID.COUNTRY_NAME, "SG")]
    ca = _issue(_name("Outside CA", other), root, ca=True)
    leaf = _issue(_name("Signer One"), ca, ca=False)
    with pytest.raises(VerificationError, match="CN=Outside CA"):
        TrustStore((root[0],)).check(leaf[0], intermediates=[ca[0]])

"""A CA's pathLenConstraint bounds the intermediate CAs below it (RFC 5280 4.2.1.9, 6.1.4).

The path builder checked that every issuer is a CA but not how many CAs it allowed below it:
a CA limited to issuing end-entity certificates (pathLenConstraint 0, as issuing CAs are)
that created a sub-CA gave that sub-CA the power to sign for the whole hierarchy, and its
signers' documents verified. ``openssl verify`` (code we did not write) is the reference.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from gateway.errors import VerificationError
from gateway.signing import Verifier, XadesSigner
from gateway.signing.keys import PrivateKeyProvider
from gateway.signing.truststore import TrustStore
from tests.signing.issued import Issued, issue

from .signing_support import BILL_OF_LADING


def _issue(name: str, issuer: Issued | None, *, ca: bool, path_length: int | None) -> Issued:
    return issue(name, issuer, ca=ca, path_length=path_length, usage=True)


def _openssl_accepts(folder: Path, root: Issued, cas: list[Issued], leaf: Issued) -> bool:
    pem = serialization.Encoding.PEM
    (folder / "root.pem").write_bytes(root[0].public_bytes(pem))
    (folder / "cas.pem").write_bytes(b"".join(c[0].public_bytes(pem) for c in cas))
    (folder / "leaf.pem").write_bytes(leaf[0].public_bytes(pem))
    files = ["-untrusted", str(folder / "cas.pem"), str(folder / "leaf.pem")]
    run = subprocess.run(
        ["openssl", "verify", "-CAfile", str(folder / "root.pem"), *files],
        capture_output=True,
        text=True,
        check=False,
    )
    return run.returncode == 0


@pytest.mark.parametrize(
    ("root_limit", "first_limit", "accepted"),
    [
        (None, 0, False),  # the first CA below the root may not have a CA below it
        (None, 1, True),
        (1, None, False),  # the root allows one CA below it; the path has two
        (2, 1, True),
        (None, None, True),
    ],
)
def test_path_length_constraints(
    tmp_path: Path, root_limit: int | None, first_limit: int | None, accepted: bool
) -> None:
    root = _issue("Root", None, ca=True, path_length=root_limit)
    first = _issue("Issuing CA", root, ca=True, path_length=first_limit)
    second = _issue("Sub-CA", first, ca=True, path_length=None)
    leaf = _issue("Signer", second, ca=False, path_length=None)
    if shutil.which("openssl"):
        assert _openssl_accepts(tmp_path, root, [first, second], leaf) is accepted
    provider = PrivateKeyProvider(leaf[1], leaf[0], [second[0], first[0]])
    signed = XadesSigner(provider).sign(BILL_OF_LADING)
    verifier = Verifier(trust=[root[0]], check_revocation=False)
    store = TrustStore((root[0],), pool=(first[0], second[0]), what="signer")
    if accepted:
        assert verifier.verify(signed).chain == [leaf[0], second[0], first[0], root[0]]
        assert store.check(leaf[0])[-1] == root[0]
        return
    with pytest.raises(VerificationError) as caught:
        verifier.verify(signed)
    assert caught.value.check == "chain"
    assert "pathLenConstraint" in caught.value.message
    with pytest.raises(VerificationError, match="pathLenConstraint"):
        store.check(leaf[0])

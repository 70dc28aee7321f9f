"""Hostile or broken input never crashes the verifier: it is a typed ``VerificationError``."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.errors import VerificationError
from gateway.signing import Verifier
from gateway.signing.testpki import TestPki

from .signing_support import signer_for


@pytest.fixture(scope="module")
def signed_and_verifier(pki: TestPki, bis_invoice: bytes) -> tuple[bytes, Verifier]:
    return signer_for(pki, "signer_ec").sign(bis_invoice), Verifier(
        trust=[pki.root.cert], check_revocation=False
    )


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_mutations_give_typed_errors(
    signed_and_verifier: tuple[bytes, Verifier], data: st.DataObject
) -> None:
    signed, verifier = signed_and_verifier
    start = data.draw(st.integers(0, len(signed) - 1))
    length = data.draw(st.integers(1, 40))
    junk = data.draw(st.binary(min_size=0, max_size=40))
    mutated = signed[:start] + junk + signed[start + length :]
    try:
        verifier.verify(mutated)
    except VerificationError as exc:
        assert exc.check in {
            "structure",
            "algorithm",
            "signature",
            "reference",
            "signed-properties",
            "chain",
            "expired",
            "not-yet-valid",
        }


@pytest.mark.parametrize(
    "document",
    [
        b"",
        b"<?xml version='1.0'?><!DOCTYPE a [<!ENTITY x 'y'>]><a>&x;</a>",
        b"<a>" * 5000,
        b"<ds:Signature xmlns:ds='http://www.w3.org/2000/09/xmldsig#'/>",
        b"<a><ds:Signature xmlns:ds='http://www.w3.org/2000/09/xmldsig#'><ds:SignedInfo/></ds:Signature></a>",
    ],
)
def test_hostile_documents_refused(
    signed_and_verifier: tuple[bytes, Verifier], document: bytes
) -> None:
    _, verifier = signed_and_verifier
    with pytest.raises(VerificationError) as caught:
        verifier.verify(document)
    assert caught.value.check == "structure"
    with pytest.raises(VerificationError):
        verifier.verify_detached(document, b"data")

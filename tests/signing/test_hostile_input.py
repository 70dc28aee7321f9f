"""Hostile or broken input never crashes the verifier, and it never accepts a forgery.

The fuzz mutates a signed invoice (random byte splices, and one-character edits of text and
attribute values that keep the XML well-formed). Every mutation either raises a typed
:class:`~gateway.errors.VerificationError`, or verifies — and then it must have left the signed
scope untouched. The signed scope is computed here, independently of the verifier: the
canonical document without its ``ds:Signature`` (the enveloped reference), the canonical
``ds:SignedInfo`` and the canonical ``xades:SignedProperties``. A verifier that skips a check
makes the fuzz fail (``test_a_verifier_that_skips_*``).
"""

from __future__ import annotations

import base64
import copy
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from gateway.cli import main
from gateway.errors import VerificationError
from gateway.signing import Verifier
from gateway.signing import verify as verify_module
from gateway.signing.testpki import TestPki
from gateway.signing.truststore import TrustStore

from .signing_support import (
    BILL_OF_LADING,
    as_sm2,
    broken_extensions,
    signer_for,
    unreadable_subject,
)

DS = "{http://www.w3.org/2000/09/xmldsig#}"
XA = "{http://uri.etsi.org/01903/v1.3.2#}"
CHECKS = {
    "structure",
    "algorithm",
    "signature",
    "reference",
    "signed-properties",
    "chain",
    "expired",
    "not-yet-valid",
}
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def signed_and_verifier(pki: TestPki, bis_invoice: bytes) -> tuple[bytes, Verifier]:
    return signer_for(pki, "signer_ec").sign(bis_invoice), Verifier(
        trust=[pki.root.cert], check_revocation=False
    )


def _c14n(node: etree._Element | etree._ElementTree) -> bytes:
    return etree.tostring(node, method="c14n", with_comments=False)


def signed_scope(document: bytes) -> tuple[bytes, bytes, bytes]:
    """What the signature covers, computed without the verifier: the canonical document
    without its ``ds:Signature``, the canonical SignedInfo and SignedProperties."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    tree = etree.fromstring(document, parser).getroottree()
    signature = next(tree.getroot().iter(f"{DS}Signature"))
    signed_info = _c14n(signature.find(f"{DS}SignedInfo"))  # type: ignore[arg-type]
    properties = _c14n(next(signature.iter(f"{XA}SignedProperties")))
    without = copy.deepcopy(tree)
    enveloped = next(without.getroot().iter(f"{DS}Signature"))
    _remove_keeping_tail(enveloped)
    return _c14n(without), signed_info, properties


def _remove_keeping_tail(element: etree._Element) -> None:
    """Remove ``element`` as the enveloped-signature transform does: its text after stays."""
    parent = element.getparent()
    assert parent is not None
    tail = element.tail or ""
    previous = element.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(element)


def check_mutation(signed: bytes, mutated: bytes, verifier: Verifier) -> None:
    """Refused with a typed error, or verified with the signed scope unchanged."""
    try:
        verifier.verify(mutated)
    except VerificationError as exc:
        assert exc.check in CHECKS
        return
    assert signed_scope(mutated) == signed_scope(signed), (
        f"accepted forgery: a mutation inside the signed scope verified: {mutated!r}"
    )


def splice(signed: bytes, start: int, length: int, junk: bytes) -> bytes:
    """Replace ``length`` bytes at ``start`` with ``junk``."""
    start %= len(signed)
    return signed[:start] + junk + signed[start + length :]


def edit_value(signed: bytes, index: int, char: str) -> bytes:
    """Change one character of the ``index``-th text or attribute value (well-formed XML)."""
    root = etree.fromstring(signed)
    slots: list[tuple[etree._Element, str | None]] = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if element.text and element.text.strip():
            slots.append((element, None))
        slots += [(element, name) for name, value in element.attrib.items() if value]
    element, attribute = slots[index % len(slots)]
    value = element.text if attribute is None else element.get(attribute)
    assert value is not None
    position = index % len(value)
    changed = value[:position] + char + value[position + 1 :]
    if attribute is None:
        element.text = changed
    else:
        element.set(attribute, changed)
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")


MUTATIONS: dict[str, Callable[[bytes, st.DataObject], bytes]] = {
    "splice": lambda signed, data: splice(
        signed,
        data.draw(st.integers(0, 10**9)),
        data.draw(st.integers(1, 40)),
        data.draw(st.binary(min_size=0, max_size=40)),
    ),
    "edit": lambda signed, data: edit_value(
        signed,
        data.draw(st.integers(0, 10**9)),
        data.draw(st.sampled_from("0179AZaz .-")),
    ),
}


def fuzz_once(signed: bytes, verifier: Verifier, data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(sorted(MUTATIONS)))
    check_mutation(signed, MUTATIONS[kind](signed, data), verifier)


@FUZZ
@given(data=st.data())
def test_mutations_are_refused_or_outside_the_signed_scope(
    signed_and_verifier: tuple[bytes, Verifier], data: st.DataObject
) -> None:
    signed, verifier = signed_and_verifier
    fuzz_once(signed, verifier, data)


def _replace_once(signed: bytes, old: bytes, new: bytes) -> bytes:
    assert signed.count(old) >= 1, old
    return signed.replace(old, new, 1)


IN_SCOPE: dict[str, Callable[[bytes], bytes]] = {
    "amount": lambda s: _replace_once(
        s, b'currencyID="EUR">1656.25<', b'currencyID="EUR">1656.26<'
    ),
    "buyer reference": lambda s: _replace_once(
        s, b"<cbc:BuyerReference>", b"<cbc:BuyerReference>X"
    ),
    "signing time": lambda s: _replace_once(s, b"<xades:SigningTime>20", b"<xades:SigningTime>19"),
    "digest method": lambda s: _replace_once(s, b"xmlenc#sha256", b"xmldsig-more#sha384"),
    "element removed": lambda s: _replace_once(s, b"<cbc:Note>", b"<cbc:Note_>").replace(
        b"</cbc:Note>", b"</cbc:Note_>", 1
    ),
}
"""Edits of signed content, each of which the verifier must refuse."""


@pytest.mark.parametrize("name", sorted(IN_SCOPE))
def test_edits_of_signed_content_are_refused(
    signed_and_verifier: tuple[bytes, Verifier], name: str
) -> None:
    signed, verifier = signed_and_verifier
    mutated = IN_SCOPE[name](signed)
    assert signed_scope(mutated) != signed_scope(signed)
    with pytest.raises(VerificationError):
        verifier.verify(mutated)


OUT_OF_SCOPE: dict[str, Callable[[bytes], bytes]] = {
    "xml declaration quotes": lambda s: _replace_once(s, b"version='1.0'", b'version="1.0"'),
    "comment after the root": lambda s: s + b"<!-- outside the signature -->",
    "line break in SignatureValue": lambda s: _replace_once(s, b'-value">', b'-value">\n'),
}
"""Changes the signature does not cover: they may verify (and do with ours)."""


@pytest.mark.parametrize("name", sorted(OUT_OF_SCOPE))
def test_changes_outside_the_signed_scope_verify(
    signed_and_verifier: tuple[bytes, Verifier], name: str
) -> None:
    signed, verifier = signed_and_verifier
    mutated = OUT_OF_SCOPE[name](signed)
    assert mutated != signed
    assert signed_scope(mutated) == signed_scope(signed)
    verifier.verify(mutated)


@contextmanager
def reference_digest_unchecked() -> Iterator[None]:
    """A broken verifier: the document's digest is not compared (only the others are)."""
    real = verify_module._check_digest

    def lenient(reference: object, octets: bytes, check: str, what: str) -> None:
        if check != "reference":
            real(reference, octets, check, what)  # type: ignore[arg-type]

    verify_module._check_digest = lenient  # type: ignore[assignment]
    try:
        yield
    finally:
        verify_module._check_digest = real


def test_a_verifier_that_skips_the_document_digest_fails_the_targeted_test(
    signed_and_verifier: tuple[bytes, Verifier],
) -> None:
    signed, verifier = signed_and_verifier
    with reference_digest_unchecked(), pytest.raises(AssertionError, match="accepted forgery"):
        check_mutation(signed, IN_SCOPE["amount"](signed), verifier)


def test_a_verifier_that_skips_the_document_digest_fails_the_fuzz(
    signed_and_verifier: tuple[bytes, Verifier],
) -> None:
    """The fuzz itself (not only the targeted cases) catches the broken verifier."""
    signed, verifier = signed_and_verifier

    @FUZZ
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        fuzz_once(signed, verifier, data)

    with reference_digest_unchecked(), pytest.raises(AssertionError, match="accepted forgery"):
        fuzz()


@pytest.fixture(scope="module")
def detached_signature(pki: TestPki, bis_invoice: bytes) -> bytes:
    return signer_for(pki, "signer_ec").sign_detached(bis_invoice, name="invoice.xml")


def check_detached(signature: bytes, data: bytes, mutated: bytes, verifier: Verifier) -> None:
    """A detached signature covers every byte of the data: any change is refused."""
    if mutated == data:
        return
    try:
        verifier.verify_detached(signature, mutated)
    except VerificationError as exc:
        assert exc.check == "reference"
        return
    raise AssertionError(f"accepted forgery: changed data verified: {mutated[:80]!r}…")


@FUZZ
@given(data=st.data())
def test_detached_data_mutations_are_refused(
    signed_and_verifier: tuple[bytes, Verifier],
    detached_signature: bytes,
    bis_invoice: bytes,
    data: st.DataObject,
) -> None:
    _, verifier = signed_and_verifier
    kind = data.draw(st.sampled_from(sorted(MUTATIONS)))
    check_detached(detached_signature, bis_invoice, MUTATIONS[kind](bis_invoice, data), verifier)


def test_a_verifier_that_skips_the_data_digest_fails_the_detached_check(
    signed_and_verifier: tuple[bytes, Verifier], detached_signature: bytes, bis_invoice: bytes
) -> None:
    _, verifier = signed_and_verifier
    mutated = bis_invoice.replace(b"1656.25", b"1656.26", 1)
    check_detached(detached_signature, bis_invoice, mutated, verifier)
    with reference_digest_unchecked(), pytest.raises(AssertionError, match="accepted forgery"):
        check_detached(detached_signature, bis_invoice, mutated, verifier)


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


def test_a_keyinfo_certificate_with_broken_extensions_is_refused(
    pki: TestPki, bis_invoice: bytes, tmp_path: Path
) -> None:
    """ds:KeyInfo is outside what is signed: anyone can break the intermediate's extensions
    there. It was a ValueError out of Verifier.verify ('lingang verify' printed a traceback,
    found by the mutation fuzz above); now it is refused, the certificate named."""
    signed = signer_for(pki).sign(bis_invoice)
    genuine = base64.b64encode(pki.intermediate.cert.public_bytes(serialization.Encoding.DER))
    assert genuine in signed
    tampered = signed.replace(genuine, base64.b64encode(broken_extensions(pki.intermediate.cert)))
    with pytest.raises(VerificationError) as caught:
        Verifier(trust=[pki.root.cert], check_revocation=False).verify(tampered)
    assert caught.value.check == "structure" and "cannot be read" in caught.value.message
    path = tmp_path / "tampered.xml"
    path.write_bytes(tampered)
    trust = pki.path("root.pem")
    assert main(["verify", str(path), "--trust", str(trust), "--no-revocation"]) == 1


def test_a_signer_certificate_with_a_key_we_cannot_use_is_an_algorithm_refusal(
    pki: TestPki, tmp_path: Path
) -> None:
    """A signature whose signing certificate (in ds:KeyInfo, its digest in the signed
    properties) has an SM2 key, as a Chinese partner's may: Verifier.verify raised
    UnsupportedAlgorithm ('lingang verify' printed a traceback); now it is an 'algorithm'
    refusal naming the certificate. Nothing needs signing: the key is read before the
    signature value is checked."""
    signed = signer_for(pki, "signer_ec").sign(BILL_OF_LADING)
    der = pki.signer_ec.cert.public_bytes(serialization.Encoding.DER)
    sm2 = as_sm2(pki.signer_ec.cert)
    tampered = signed.replace(base64.b64encode(der), base64.b64encode(sm2)).replace(
        base64.b64encode(hashlib.sha256(der).digest()),
        base64.b64encode(hashlib.sha256(sm2).digest()),
    )
    with pytest.raises(VerificationError) as caught:
        Verifier(trust=[pki.root.cert], check_revocation=False).verify(tampered)
    assert caught.value.check == "algorithm" and "not supported" in caught.value.message
    path = tmp_path / "sm2.xml"
    path.write_bytes(tampered)
    trust = pki.path("root.pem")
    assert main(["verify", str(path), "--trust", str(trust), "--no-revocation"]) == 1


def test_a_keyinfo_certificate_whose_names_cannot_be_read_is_a_structure_refusal(
    pki: TestPki, bis_invoice: bytes
) -> None:
    """Found by mutating the certificates in ds:KeyInfo byte by byte: names with an unknown
    string type raised KeyError (duplicate extensions DuplicateExtension) out of
    Verifier.verify, from the first comparison of names in path building."""
    signed = signer_for(pki).sign(bis_invoice)
    genuine = base64.b64encode(pki.intermediate.cert.public_bytes(serialization.Encoding.DER))
    broken = base64.b64encode(unreadable_subject(pki.intermediate.cert))
    with pytest.raises(VerificationError) as caught:
        Verifier(trust=[pki.root.cert], check_revocation=False).verify(
            signed.replace(genuine, broken)
        )
    assert caught.value.check == "structure" and "cannot be read" in caught.value.message


def test_a_trust_store_refuses_an_unreadable_certificate(pki: TestPki) -> None:
    """The store behind the Peppol AP (BinarySecurityToken, SMP certificates) and PINT's
    ``x5c`` chains: a sender's certificate whose names cannot be read raised KeyError."""
    store = TrustStore((pki.root.cert,))
    broken_leaf = x509.load_der_x509_certificate(unreadable_subject(pki.signer_rsa.cert))
    broken_ca = x509.load_der_x509_certificate(unreadable_subject(pki.intermediate.cert))
    for cert, intermediate in (
        (broken_leaf, pki.intermediate.cert),
        (pki.signer_rsa.cert, broken_ca),
    ):
        with pytest.raises(VerificationError) as caught:
            store.check(cert, intermediates=[intermediate])
        assert caught.value.check == "structure"

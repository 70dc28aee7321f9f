"""Signature-wrapping corpus: every variant is refused, or yields only the truly signed content."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest
from lxml import etree

from gateway.errors import VerificationError
from gateway.signing import Verifier
from gateway.signing.testpki import TestPki

from .signing_support import signer_for

DS = "{http://www.w3.org/2000/09/xmldsig#}"
XA = "{http://uri.etsi.org/01903/v1.3.2#}"
EXT = "{urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2}"
CBC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}"
CAC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2}"


def _signature(root: etree._Element) -> etree._Element:
    return next(root.iter(f"{DS}Signature"))


def moved_signature(root: etree._Element) -> None:
    """The signature moved out of UBLExtensions to the end of the body."""
    root.append(_signature(root))


def duplicated_id(root: etree._Element) -> None:
    """A second element carrying the SignedProperties' Id, in a new extension."""
    props = next(root.iter(f"{XA}SignedProperties"))
    clone = copy.deepcopy(props)
    next(clone.iter(f"{XA}SigningTime")).text = "2020-01-01T00:00:00Z"
    extension = etree.SubElement(root[0], f"{EXT}UBLExtension")
    etree.SubElement(extension, f"{EXT}ExtensionContent").append(clone)


def extra_reference(root: etree._Element) -> None:
    """A third reference added to SignedInfo."""
    info = _signature(root)[0]
    info.append(copy.deepcopy(info[2]))


def subset_reference(root: etree._Element) -> None:
    """The document reference narrowed to one element (does not cover the root)."""
    root.find(f"{CBC}ID").set("Id", "only-this")  # type: ignore[union-attr]
    _signature(root)[0][2].set("URI", "#only-this")


def no_enveloped_transform(root: etree._Element) -> None:
    """URI="" without the enveloped-signature transform."""
    transforms = _signature(root)[0][2][0]
    transforms.remove(transforms[0])


def xpath_transform(root: etree._Element) -> None:
    """An XPath filter slipped into the document reference."""
    transform = _signature(root)[0][2][0][1]
    transform.set("Algorithm", "http://www.w3.org/TR/1999/REC-xpath-19991116")


def second_signature(root: etree._Element) -> None:
    """A second ds:Signature (a copy) elsewhere in the document."""
    root.append(copy.deepcopy(_signature(root)))


def wrapped_original(root: etree._Element) -> None:
    """Attacker's content in the body; the signed original hidden under a new extension."""
    original = copy.deepcopy(root)
    root.find(f"{CBC}ID").text = "ATTACKER-1"  # type: ignore[union-attr]
    extension = etree.SubElement(root[0], f"{EXT}UBLExtension")
    etree.SubElement(extension, f"{EXT}ExtensionContent").append(original)


def wrapped_signature_moved_up(root: etree._Element) -> None:
    """Original kept under an extension; its signature moved to the attacker's document."""
    original = copy.deepcopy(root)
    information = _signature(root).getparent()
    assert information is not None
    original_sig = _signature(original)
    original_sig.getparent().remove(original_sig)  # type: ignore[union-attr]
    root.find(f"{CBC}ID").text = "ATTACKER-2"  # type: ignore[union-attr]
    extension = etree.SubElement(root[0], f"{EXT}UBLExtension")
    etree.SubElement(extension, f"{EXT}ExtensionContent").append(original)


def signed_properties_moved(root: etree._Element) -> None:
    """SignedProperties taken out of the signature's ds:Object into the document body."""
    props = next(root.iter(f"{XA}SignedProperties"))
    props.getparent().remove(props)  # type: ignore[union-attr]
    root.append(props)


VARIANTS: dict[str, Callable[[etree._Element], None]] = {
    f.__name__: f
    for f in (
        moved_signature,
        duplicated_id,
        extra_reference,
        subset_reference,
        no_enveloped_transform,
        xpath_transform,
        second_signature,
        wrapped_original,
        wrapped_signature_moved_up,
        signed_properties_moved,
    )
}


EXPECTED = {"xpath_transform": "algorithm", "wrapped_signature_moved_up": "reference"}
"""The check each variant trips (``structure`` unless named here)."""


@pytest.fixture(scope="module")
def signed(pki: TestPki, bis_invoice: bytes) -> bytes:
    return signer_for(pki).sign(bis_invoice)


@pytest.fixture(scope="module")
def verifier(pki: TestPki) -> Verifier:
    return Verifier(trust=[pki.root.cert], check_revocation=False)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_wrapping_variant_refused(signed: bytes, verifier: Verifier, variant: str) -> None:
    root = etree.fromstring(signed)
    VARIANTS[variant](root)
    with pytest.raises(VerificationError) as caught:
        verifier.verify(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    assert caught.value.check == EXPECTED.get(variant, "structure"), caught.value.message


def test_comment_injection_yields_only_signed_text(signed: bytes, verifier: Verifier) -> None:
    root = etree.fromstring(signed)
    identifier = root.find(f"{CBC}ID")
    assert identifier is not None and identifier.text
    original = identifier.text
    identifier.text = original[:3]
    comment = etree.Comment(" injected ")
    comment.tail = original[3:]
    identifier.append(comment)
    injected = etree.tostring(root)
    result = verifier.verify(injected)
    clean = etree.fromstring(result.signed_xml)
    assert b"injected" not in result.signed_xml
    assert clean.findtext(f"{CBC}ID") == original
    assert clean.find(f".//{DS}Signature") is None


def test_result_is_the_signed_content_not_the_input(signed: bytes, verifier: Verifier) -> None:
    result = verifier.verify(signed)
    clean = etree.fromstring(result.signed_xml)
    payable = clean.find(f"{CAC}LegalMonetaryTotal/{CBC}PayableAmount")
    assert payable is not None
    assert payable.text == etree.fromstring(signed).findtext(
        f"{CAC}LegalMonetaryTotal/{CBC}PayableAmount"
    )
    assert len(clean.findall(f".//{DS}Signature")) == 0

"""Where a signature goes in a UBL 2.1 document.

UBL 2.1 (§5.4 and the signature extension schemas) puts an enveloped signature in the first
child of the document, ``ext:UBLExtensions``::

    ext:UBLExtensions/ext:UBLExtension
        ext:ExtensionURI          urn:oasis:names:specification:ubl:dsig:enveloped:xades
        ext:ExtensionContent/sig:UBLDocumentSignatures/sac:SignatureInformation
            cbc:ID                      urn:oasis:names:specification:ubl:signature:1
            sbc:ReferencedSignatureID   urn:oasis:names:specification:ubl:signature:<Type>
            ds:Signature

and the document body carries ``cac:Signature`` with the matching ``cbc:ID`` and
``cbc:SignatureMethod``, at its place in the document's sequence.
"""

from __future__ import annotations

from lxml import etree

from gateway.errors import SigningError

UBL_PREFIX = "urn:oasis:names:specification:ubl:schema:xsd:"
EXT = UBL_PREFIX + "CommonExtensionComponents-2"
SIG = UBL_PREFIX + "CommonSignatureComponents-2"
SAC = UBL_PREFIX + "SignatureAggregateComponents-2"
SBC = UBL_PREFIX + "SignatureBasicComponents-2"
CAC = UBL_PREFIX + "CommonAggregateComponents-2"
CBC = UBL_PREFIX + "CommonBasicComponents-2"
XADES_EXTENSION_URI = "urn:oasis:names:specification:ubl:dsig:enveloped:xades"
SIGNATURE_INFORMATION_ID = "urn:oasis:names:specification:ubl:signature:1"

_AFTER_SIGNATURE: dict[str, frozenset[str]] = {
    "Invoice": frozenset(
        [
            "AccountingSupplierParty",
            "AccountingCustomerParty",
            "PayeeParty",
            "BuyerCustomerParty",
            "SellerSupplierParty",
            "TaxRepresentativeParty",
            "Delivery",
            "DeliveryTerms",
            "PaymentMeans",
            "PaymentTerms",
            "PrepaidPayment",
            "AllowanceCharge",
            "TaxExchangeRate",
            "PricingExchangeRate",
            "PaymentExchangeRate",
            "PaymentAlternativeExchangeRate",
            "TaxTotal",
            "WithholdingTaxTotal",
            "LegalMonetaryTotal",
            "InvoiceLine",
        ]
    ),
    "CreditNote": frozenset(
        [
            "AccountingSupplierParty",
            "AccountingCustomerParty",
            "PayeeParty",
            "BuyerCustomerParty",
            "SellerSupplierParty",
            "TaxRepresentativeParty",
            "Delivery",
            "DeliveryTerms",
            "PaymentMeans",
            "PaymentTerms",
            "TaxExchangeRate",
            "PricingExchangeRate",
            "PaymentExchangeRate",
            "PaymentAlternativeExchangeRate",
            "AllowanceCharge",
            "TaxTotal",
            "LegalMonetaryTotal",
            "CreditNoteLine",
        ]
    ),
    "BillOfLading": frozenset(),
}
"""Per document type: the body elements that follow ``cac:Signature`` in the UBL 2.1 XSD."""

_AFTER_SIGNATURE_TAGS = {
    doc: frozenset(f"{{{CAC}}}{name}" for name in names) for doc, names in _AFTER_SIGNATURE.items()
}


def is_ubl(root: etree._Element) -> bool:
    """Whether ``root`` is a UBL 2.x document."""
    return (etree.QName(root).namespace or "").startswith(UBL_PREFIX)


def document_type(root: etree._Element) -> str:
    """The UBL document type (the root's local name, e.g. ``Invoice``)."""
    return etree.QName(root).localname


def signature_information_path() -> str:
    """The path from the document root to the ``ds:Signature`` (for messages)."""
    return (
        "ext:UBLExtensions/ext:UBLExtension/ext:ExtensionContent/"
        "sig:UBLDocumentSignatures/sac:SignatureInformation/ds:Signature"
    )


def prepare(root: etree._Element) -> etree._Element:
    """Add the UBL signature extension and ``cac:Signature``; return ``sac:SignatureInformation``.

    The caller appends the ``ds:Signature`` as the last child of the returned element.
    """
    doc_type = document_type(root)
    referenced_id = f"urn:oasis:names:specification:ubl:signature:{doc_type}"
    extensions = _extensions(root)
    extension = etree.SubElement(extensions, f"{{{EXT}}}UBLExtension")
    etree.SubElement(extension, f"{{{EXT}}}ExtensionURI").text = XADES_EXTENSION_URI
    content = etree.SubElement(extension, f"{{{EXT}}}ExtensionContent")
    signatures = etree.SubElement(
        content, f"{{{SIG}}}UBLDocumentSignatures", nsmap={"sig": SIG, "sac": SAC, "sbc": SBC}
    )
    information = etree.SubElement(signatures, f"{{{SAC}}}SignatureInformation")
    etree.SubElement(
        information, f"{{{CBC}}}ID", nsmap={"cbc": CBC}
    ).text = SIGNATURE_INFORMATION_ID
    etree.SubElement(information, f"{{{SBC}}}ReferencedSignatureID").text = referenced_id
    _add_body_signature(root, doc_type, referenced_id)
    return information


def _extensions(root: etree._Element) -> etree._Element:
    first = next(iter(root), None)
    if first is not None and first.tag == f"{{{EXT}}}UBLExtensions":
        return first
    if root.find(f"{{{EXT}}}UBLExtensions") is not None:
        raise SigningError("ext:UBLExtensions is not the first child of the document")
    extensions = etree.Element(f"{{{EXT}}}UBLExtensions", nsmap={"ext": EXT})
    if root.text and not root.text.strip():
        extensions.tail = root.text
    root.insert(0, extensions)
    return extensions


def _add_body_signature(root: etree._Element, doc_type: str, referenced_id: str) -> None:
    after = _AFTER_SIGNATURE_TAGS.get(doc_type)
    if after is None:
        return
    signature = etree.Element(f"{{{CAC}}}Signature", nsmap={"cac": CAC, "cbc": CBC})
    etree.SubElement(signature, f"{{{CBC}}}ID").text = referenced_id
    etree.SubElement(signature, f"{{{CBC}}}SignatureMethod").text = XADES_EXTENSION_URI
    for index, child in enumerate(root):
        if child.tag in after:
            root.insert(index, signature)
            _copy_indentation(root, index)
            return
    root.append(signature)


def _copy_indentation(root: etree._Element, index: int) -> None:
    """Give the inserted element the same leading whitespace as its next sibling."""
    previous = root[index - 1] if index > 0 else None
    space = previous.tail if previous is not None else root.text
    if space and not space.strip():
        root[index].tail = space

"""Canonical :class:`TransportDocument` → unsigned W3C VC 2.0 bill of lading in TrustVC's form.

::

    credential = render_tradetrust_vc(doc, VcFacts(issuer_did, token_registry, "ETH", 1337))
    # then gateway.signing.tradetrust_vc.sign_credential(credential.data, ...)

The credential has TrustVC's contexts (``bill-of-lading-carrier``, ``attachments``,
``render-method-context-v2``, ``transferable-records-context``, data integrity v2), its
``renderMethod`` (TradeTrust's generic ``BILL_OF_LADING_CARRIER`` template), a
``credentialSubject`` of type ``BillOfLadingCarrier`` with that context's flat string terms,
and a ``credentialStatus`` of type ``TransferableRecords`` naming the token registry and the
title token: as TrustVC's ``signW3C`` does, ``id`` is a ``urn:uuid:`` UUIDv7 and ``tokenId``
is the hex SHA-256 of that id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass, field
from typing import Any

from gateway.model.transport_document import TransportDocument
from gateway.render.ebl_coverage import not_carried
from gateway.render.tradetrust_oa import TEMPLATE_URL, measure_text, place_text, scac_of

VC_CONTEXTS = (
    "https://www.w3.org/ns/credentials/v2",
    "https://trustvc.io/context/bill-of-lading-carrier.json",
    "https://trustvc.io/context/attachments-context.json",
    "https://trustvc.io/context/render-method-context-v2.json",
    "https://trustvc.io/context/transferable-records-context.json",
    "https://w3id.org/security/data-integrity/v2",
)
TEMPLATE_NAME = "BILL_OF_LADING_CARRIER"
TARGET = "TradeTrust W3C bill of lading (BillOfLadingCarrier)"

CARRIED = (
    "/transportDocumentReference",
    "/carrierCode",
    "/isToOrder",
    "/issueDate",
    "/shippedOnBoardDate",
    "/termsAndConditions",
    "/placeOfIssue/*",
    "/documentParties/issuingParty/partyName",
    "/documentParties/shipper/partyName",
    "/documentParties/shipper/address/street",
    "/documentParties/shipper/address/streetNumber",
    "/documentParties/shipper/address/countryCode",
    "/documentParties/consignee/partyName",
    "/documentParties/endorsee/partyName",
    "/documentParties/notifyParties/0/partyName",
    "/transports/vesselVoyages/0/vesselName",
    "/transports/vesselVoyages/0/carrierExportVoyageNumber",
    "/transports/portOfLoading/*",
    "/transports/portOfDischarge/*",
    "/transports/placeOfReceipt/*",
    "/transports/placeOfDelivery/*",
    "/consignmentItems/*/descriptionOfGoods/*",
    "/consignmentItems/*/cargoItems/*/cargoGrossWeight/*",
    "/consignmentItems/*/cargoItems/*/cargoGrossVolume/*",
)
"""DCSA members the ``BillOfLadingCarrier`` terms carry."""


@dataclass(frozen=True, slots=True)
class VcFacts:
    """Who issues the credential and where its title token lives."""

    issuer: str
    """The issuer's ``did:web``."""
    token_registry: str
    chain: str = "ETH"
    """TradeTrust's network code (``ETH`` also for a local Ethereum chain, id 1337)."""
    chain_id: int = 1337


@dataclass(slots=True)
class VcRendered:
    """The unsigned credential and what it could not carry."""

    data: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def uuid7(now: dt.datetime) -> str:
    """An RFC 9562 UUIDv7: 48-bit Unix milliseconds, version 7, variant 10, random rest."""
    millis = int(now.timestamp() * 1000) & ((1 << 48) - 1)
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis << 80) | (0x7 << 76) | ((rand >> 66) & 0xFFF) << 64
    value |= (0b10 << 62) | (rand & ((1 << 62) - 1))
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def token_id(credential_id: str) -> str:
    """TrustVC's title token id of a credential: hex SHA-256 of its ``id``."""
    return hashlib.sha256(credential_id.encode()).hexdigest()


def w3c_datetime(moment: dt.datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.mmmZ`` in UTC (JavaScript's ``toISOString``)."""
    utc = moment.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _subject(doc: TransportDocument) -> dict[str, Any]:
    parties = doc.parties
    subject: dict[str, Any] = {
        "type": ["BillOfLadingCarrier"],
        "blNumber": doc.display_reference,
        "scac": scac_of(doc)[0],
    }
    optional: dict[str, str | None] = {
        "carrierName": parties.issuing_party.name if parties.issuing_party else None,
        "shipperName": parties.shipper.name,
        "consigneeName": parties.consignee.name if parties.consignee else None,
        "notifyPartyName": parties.notify_parties[0].name if parties.notify_parties else None,
        "placeOfIssueBL": place_text(doc.place_of_issue),
        "dateOfIssueBL": doc.issue_date.isoformat() if doc.issue_date else None,
        "shippedOnBoardDate": (
            doc.shipped_on_board_date.isoformat() if doc.shipped_on_board_date else None
        ),
        "termsOfCarriage": doc.terms_and_conditions,
    }
    address = parties.shipper.address
    if address is not None:
        optional["shipperAddressStreet"] = " ".join(
            p for p in (address.street, address.street_number) if p
        )
        optional["shipperAddressCountry"] = address.country_code
    if doc.is_to_order:
        endorsee = parties.endorsee
        optional["toOrderOfText"] = f"TO ORDER OF {endorsee.name}" if endorsee else "TO ORDER"
    transports = doc.transports
    if transports is not None:
        if transports.vessel_voyages:
            optional["vessel"] = transports.vessel_voyages[0].vessel_name
            optional["voyageNo"] = transports.vessel_voyages[0].voyage_number
        optional["portOfLoading"] = place_text(transports.port_of_loading)
        optional["portOfDischarge"] = place_text(transports.port_of_discharge)
        optional["placeOfReceipt"] = place_text(transports.place_of_receipt)
        optional["placeOfDelivery"] = place_text(transports.place_of_delivery)
    subject.update({k: v for k, v in optional.items() if v})
    subject["packages"] = [
        {
            "packagesDescription": "; ".join(item.description_of_goods),
            "packagesWeight": measure_text(cargo.gross_weight) or "",
            "packagesMeasurement": measure_text(cargo.gross_volume) or "",
        }
        for item in doc.consignment_items
        for cargo in item.cargo_items
    ]
    return subject


def render_tradetrust_vc(
    doc: TransportDocument, facts: VcFacts, *, now: dt.datetime | None = None
) -> VcRendered:
    """The unsigned credential of ``doc``, valid from ``now`` (default: the current time)."""
    moment = now or dt.datetime.now(dt.UTC)
    credential_id = f"urn:uuid:{uuid7(moment)}"
    data: dict[str, Any] = {
        "@context": list(VC_CONTEXTS),
        "type": ["VerifiableCredential"],
        "id": credential_id,
        "issuer": facts.issuer,
        "validFrom": w3c_datetime(moment),
        "renderMethod": [
            {"type": "EMBEDDED_RENDERER", "templateName": TEMPLATE_NAME, "id": TEMPLATE_URL}
        ],
        "credentialStatus": {
            "type": "TransferableRecords",
            "tokenNetwork": {"chain": facts.chain, "chainId": facts.chain_id},
            "tokenRegistry": facts.token_registry,
            "tokenId": token_id(credential_id),
        },
        "credentialSubject": _subject(doc),
    }
    warnings = not_carried(doc, CARRIED, TARGET)
    scac_warning = scac_of(doc)[1]
    if scac_warning is not None:
        warnings.append(scac_warning)
    return VcRendered(data, warnings)

"""Canonical :class:`TransportDocument` → raw TradeTrust bill of lading (OpenAttestation v2).

The raw document has the fields of the TradeTrust schema
``https://schemata.openattestation.com/io/tradetrust/bill-of-lading/1.0`` (flat strings:
``scac``, ``blNumber``, ``vessel``, ``voyageNo``, ports and places, ``packages[]``, shipper,
consignee, notify party) plus what OpenAttestation needs: ``$template`` (the TradeTrust
renderer) and ``issuers[]`` with the ``tokenRegistry`` that holds the title token, and the
``network``. :func:`gateway.signing.openattestation.wrap_document` salts and hashes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gateway.model.transport_document import Location, Measure, TransportDocument
from gateway.render._fmt import decimal
from gateway.render.ebl_coverage import not_carried

TEMPLATE_NAME = "BILL_OF_LADING"
TEMPLATE_URL = "https://generic-templates.tradetrust.io"

CARRIED = (
    "/transportDocumentReference",
    "/carrierCode",
    "/documentParties/issuingParty/partyName",
    "/documentParties/shipper/partyName",
    "/documentParties/shipper/address/street",
    "/documentParties/shipper/address/countryCode",
    "/documentParties/consignee/partyName",
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
"""DCSA members the TradeTrust bill-of-lading 1.0 fields carry."""


@dataclass(frozen=True, slots=True)
class TradeTrustIssuer:
    """Who issues the TradeTrust document and where its title token lives."""

    token_registry: str
    """The token registry contract address (``0x`` + 40 hex digits)."""
    identity_location: str
    """The DNS name whose TXT record names the registry (identity proof ``DNS-TXT``)."""
    chain: str = "local"
    chain_id: str = "1337"
    name: str | None = None
    """Issuer name shown by TradeTrust; default: the document's issuing party."""


LOCAL_ISSUER = TradeTrustIssuer(
    token_registry="0x" + "0" * 39 + "1", identity_location="example.tradetrust.io"
)
"""The issuer used when none is configured: the gateway's own token registry (tests, demos)."""


@dataclass(slots=True)
class OaRaw:
    """The raw (unwrapped) OpenAttestation document and what it could not carry."""

    data: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def place_text(location: Location | None) -> str | None:
    """A place as TradeTrust prints it: name and UN/LOCODE, else city and country."""
    if location is None:
        return None
    parts = [location.name, location.un_location_code]
    if location.address is not None and not any(parts):
        parts = [location.address.city, location.address.country_code]
    return " ".join(p for p in parts if p) or None


def measure_text(measure: Measure | None) -> str | None:
    """A measure as ``value unit``."""
    return None if measure is None else f"{decimal(measure.value)} {measure.unit}"


def render_tradetrust_raw(doc: TransportDocument, issuer: TradeTrustIssuer = LOCAL_ISSUER) -> OaRaw:
    """The raw TradeTrust bill of lading of ``doc`` for ``issuer``."""
    issuing = doc.parties.issuing_party
    out: dict[str, Any] = {
        "$template": {"type": "EMBEDDED_RENDERER", "name": TEMPLATE_NAME, "url": TEMPLATE_URL},
        "issuers": [
            {
                "name": issuer.name or (issuing.name if issuing else doc.parties.shipper.name),
                "tokenRegistry": issuer.token_registry,
                "identityProof": {"type": "DNS-TXT", "location": issuer.identity_location},
            }
        ],
        "network": {"chain": issuer.chain, "chainId": issuer.chain_id},
        "blNumber": doc.display_reference,
        "scac": doc.carrier_code or "",
    }
    if issuing is not None:
        out["carrierName"] = issuing.name
    transports = doc.transports
    if transports is not None:
        if transports.vessel_voyages:
            out["vessel"] = transports.vessel_voyages[0].vessel_name
            out["voyageNo"] = transports.vessel_voyages[0].voyage_number
        for key, location in (
            ("portOfLoading", transports.port_of_loading),
            ("portOfDischarge", transports.port_of_discharge),
            ("placeOfReceipt", transports.place_of_receipt),
            ("placeOfDelivery", transports.place_of_delivery),
        ):
            text = place_text(location)
            if text:
                out[key] = text
    out["packages"] = [
        {
            "description": "; ".join(item.description_of_goods),
            "weight": measure_text(cargo.gross_weight) or "",
            "measurement": measure_text(cargo.gross_volume) or "",
        }
        for item in doc.consignment_items
        for cargo in item.cargo_items
    ]
    shipper = doc.parties.shipper
    out["shipper"] = {"name": shipper.name}
    if shipper.address is not None:
        out["shipper"]["address"] = {
            "street": shipper.address.street,
            "country": shipper.address.country_code,
        }
    if doc.parties.consignee is not None:
        out["consignee"] = {"name": doc.parties.consignee.name}
    if doc.parties.notify_parties:
        out["notifyParty"] = {"name": doc.parties.notify_parties[0].name}
    warnings = not_carried(doc, CARRIED, "TradeTrust bill of lading 1.0")
    if doc.carrier_code is None:
        warnings.append("/carrierCode: absent; TradeTrust scac left empty")
    return OaRaw(out, warnings)

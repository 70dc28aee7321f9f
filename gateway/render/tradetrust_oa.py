"""Canonical :class:`TransportDocument` → raw TradeTrust bill of lading (OpenAttestation v2).

The raw document has the fields of the TradeTrust schema
``https://schemata.openattestation.com/io/tradetrust/bill-of-lading/1.0`` (flat strings:
``scac``, ``blNumber``, ``vessel``, ``voyageNo``, ports and places, ``packages[]``, shipper,
consignee, notify party) plus what OpenAttestation needs: ``$template`` (the TradeTrust
renderer) and ``issuers[]`` with the ``tokenRegistry`` that holds the title token, and the
``network``. :func:`gateway.signing.openattestation.wrap_document` salts and hashes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from gateway.errors import InputError
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
"""The issuer used when none is configured: a placeholder registry on a local chain (tests,
demos); documents naming it carry :data:`PLACEHOLDER_WARNING`."""
PLACEHOLDER_WARNING = (
    "issuer: the placeholder token registry 0x…01 at example.tradetrust.io on a local chain "
    "(1337), so TradeTrust cannot verify who issued it or hold its title: configure the "
    "issuer ([signing] token_registry and identity_dns; `lingang ebl convert --token-registry "
    "--identity-dns`)"
)
_REGISTRY = re.compile(r"0x[0-9a-fA-F]{40}")
_DNS_NAME = re.compile(
    r"(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)


def configured_issuer(
    token_registry: str | None, identity_dns: str | None, chain_id: str | None, *, where: str
) -> TradeTrustIssuer:
    """The issuer an operator configured (each part defaults to :data:`LOCAL_ISSUER`'s),
    checked: a registry is ``0x`` and 40 hex digits, the identity a DNS name, the chain id a
    whole number; :class:`InputError` names the part (``where`` + its name)."""
    if token_registry is not None and not _REGISTRY.fullmatch(token_registry):
        raise InputError(
            f"token registry {token_registry!r} is not 0x and 40 hexadecimal digits",
            field=f"{where}token_registry",
            rule="tradetrust.registry",
        )
    if identity_dns is not None and not _DNS_NAME.fullmatch(identity_dns):
        raise InputError(
            f"identity DNS name {identity_dns!r} is not a domain name",
            field=f"{where}identity_dns",
            rule="tradetrust.identity-dns",
        )
    if chain_id is not None and not (chain_id.isascii() and chain_id.isdigit()):
        raise InputError(
            f"chain id {chain_id!r} is not a whole number",
            field=f"{where}token_chain_id",
            rule="tradetrust.chain-id",
        )
    return TradeTrustIssuer(
        token_registry=token_registry or LOCAL_ISSUER.token_registry,
        identity_location=identity_dns or LOCAL_ISSUER.identity_location,
        chain=LOCAL_ISSUER.chain if chain_id is None else "custom",
        chain_id=chain_id or LOCAL_ISSUER.chain_id,
    )


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


def scac_of(doc: TransportDocument) -> tuple[str, str | None]:
    """The carrier's SCAC for TradeTrust's ``scac`` field, and a warning when there is none:
    a carrier code from another list (SMDG's ``MSC``) is not a SCAC, which NMFTA assigns."""
    code, provider = doc.carrier_code, doc.carrier_code_list_provider
    if code is None:
        return "", "/carrierCode: absent; TradeTrust scac left empty"
    if provider != "NMFTA":
        return "", (
            f"/carrierCode: {code} is a code of {provider or 'no named list'}, not a SCAC "
            "(NMFTA); TradeTrust scac left empty"
        )
    return code, None


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
        "scac": scac_of(doc)[0],
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
    scac_warning = scac_of(doc)[1]
    if scac_warning is not None:
        warnings.append(scac_warning)
    return OaRaw(out, warnings)

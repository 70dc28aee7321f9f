"""Business rules of an eBL that its JSON schema cannot state (rule ids ``ebl.*``).

Each rule gives :class:`Finding` s located by the DCSA JSON pointer of the offending member.
Fatal rules stop a conversion; warnings travel with it.
"""

from __future__ import annotations

from collections.abc import Iterator

from gateway.model.transport_document import SourceKind, TransportDocument
from gateway.shown_text import describe, unsafe_in_identifier
from gateway.validation.report import Finding

SOURCE = "ebl-rules"


def _fatal(rule: str, where: str, text: str) -> Finding:
    return Finding(rule, "fatal", where, text, SOURCE)


def _warning(rule: str, where: str, text: str) -> Finding:
    return Finding(rule, "warning", where, text, SOURCE)


def check_transport_document(doc: TransportDocument) -> list[Finding]:
    """Every rule's findings for ``doc``, in document order."""
    return [*_title(doc), *_route(doc), *_cargo(doc)]


def _title(doc: TransportDocument) -> Iterator[Finding]:
    unsafe = unsafe_in_identifier(doc.reference) if doc.reference else None
    if unsafe is not None:
        yield _fatal(
            "text.unsafe-character",
            "/transportDocumentReference",
            f"the transportDocumentReference holds {describe(unsafe)}, which shows it other "
            "than it is (a control, direction or invisible format character; Unicode TR #36)",
        )
    if doc.type_code == "SWB" and doc.is_to_order:
        yield _fatal(
            "ebl.swb-not-negotiable",
            "/isToOrder",
            "a sea waybill (SWB) cannot be made out to order",
        )
    if not doc.is_to_order and doc.parties.endorsee is not None:
        yield _fatal(
            "ebl.endorsee-needs-to-order",
            "/documentParties/endorsee",
            "an endorsee is only possible on a bill made out to order (isToOrder true)",
        )
    if (
        doc.source is SourceKind.TRANSPORT_DOCUMENT
        and not doc.is_to_order
        and doc.parties.consignee is None
    ):
        yield _fatal(
            "ebl.straight-needs-consignee",
            "/documentParties/consignee",
            "a straight (not to order) transport document names its consignee",
        )


def _route(doc: TransportDocument) -> Iterator[Finding]:
    transports = doc.transports
    if transports is not None and transports.planned_arrival < transports.planned_departure:
        yield _fatal(
            "ebl.arrival-before-departure",
            "/transports/plannedArrivalDate",
            f"planned arrival {transports.planned_arrival} is before the planned departure "
            f"{transports.planned_departure}",
        )


def _cargo(doc: TransportDocument) -> Iterator[Finding]:
    containers = {e.reference for e in doc.equipments}
    used: set[str] = set()
    for i, item in enumerate(doc.consignment_items):
        for j, cargo in enumerate(item.cargo_items):
            where = f"/consignmentItems/{i}/cargoItems/{j}"
            used.add(cargo.equipment_reference)
            if cargo.equipment_reference not in containers:
                yield _fatal(
                    "ebl.equipment-reference",
                    f"{where}/equipmentReference",
                    f"cargo item packed in {cargo.equipment_reference!r}, which is not among "
                    "the utilizedTransportEquipments",
                )
            net, gross = cargo.net_weight, cargo.gross_weight
            if net is not None and net.unit == gross.unit and net.value > gross.value:
                yield _fatal(
                    "ebl.net-over-gross",
                    f"{where}/cargoNetWeight/value",
                    f"net weight {net.value} {net.unit} exceeds gross weight "
                    f"{gross.value} {gross.unit}",
                )
            if cargo.gross_weight.value <= 0:
                yield _fatal(
                    "ebl.weight-positive",
                    f"{where}/cargoGrossWeight/value",
                    "gross weight must be more than zero",
                )
            if cargo.packaging.number_of_packages <= 0:
                yield _fatal(
                    "ebl.packages-positive",
                    f"{where}/outerPackaging/numberOfPackages",
                    "number of packages must be at least one",
                )
    for k, equipment in enumerate(doc.equipments):
        if equipment.reference not in used:
            yield _warning(
                "ebl.equipment-unused",
                f"/utilizedTransportEquipments/{k}/equipment/equipmentReference",
                f"container {equipment.reference} holds no cargo item",
            )

"""What minimisation reports of the embedded original says whether it removed or blanked.

``minimise_original`` put " removed" after every name ``strip_personal_blocks`` gave, so a
blanked ID-card number read "Remark (ID-card number blanked) removed" and an emptied field
"BuyerIdNum (blanked) removed". Each change now names its own action; the mapping's warning
and the attachment's description use the same phrases.
"""

from __future__ import annotations

import dataclasses

from gateway.ingest import parse
from gateway.mapping import map_parsed
from gateway.mapping.special import strip_personal_blocks
from gateway.policy.minimise import minimise, minimise_original
from gateway.policy.policyfile import Minimisation
from gateway.samples.writers import einvoice_xml
from tests.mapping.fidelity import convert, directory, fapiao
from tests.policy.support import PERSON, PERSON_ID, resident_id

OTHER_ID = resident_id("31011519880817402")
PASSENGER = ("PassengerTransportation", {"Traveler": "张三", "ValidIDNumber": PERSON_ID})


def test_strip_personal_blocks_says_removed_or_blanked() -> None:
    xml = einvoice_xml(
        fapiao(
            buyer_id=PERSON_ID,
            buyer_name=PERSON,
            remark=f"经办人身份证号：{OTHER_ID}",
            additional=[("经办人证件", "文本型", OTHER_ID)],
            special=[PASSENGER],
        )
    )
    _, done = strip_personal_blocks(xml, [PERSON_ID])
    assert done == [  # the traveller's number went with its block: not reported as blanked
        "PassengerTransportation removed",
        "BuyerIdNum blanked",
        "ID-card number blanked in Remark",
        "ID-card number blanked in Additional/InformationValue",
    ]


def test_minimise_original_reports_blanked_ids_as_blanked() -> None:
    xml = einvoice_xml(fapiao(remark=f"经办人身份证号：{OTHER_ID}", special=[PASSENGER]))
    minimised, changes = minimise_original(xml, False, Minimisation(), ())
    assert changes == [
        "PassengerTransportation removed",
        "ID-card number blanked in Remark",
        "Drawer masked",
    ]
    assert OTHER_ID.encode() not in minimised
    assert not any("blanked) removed" in c or "blanked removed" in c for c in changes)


def test_minimise_records_the_change_of_an_original_the_mapping_left_unblanked() -> None:
    """The gate's record (``minimised``) of an embedded original that still held the number."""
    raw = einvoice_xml(fapiao(remark=f"经办人身份证号：{OTHER_ID}"))
    mapped = map_parsed(parse(raw), directory(), profile="pint").invoice
    (original,) = [a for a in mapped.attachments if a.content is not None]
    assert OTHER_ID.encode() not in (original.content or b"")  # the mapping blanked it
    unblanked = dataclasses.replace(original, content=raw)
    invoice = dataclasses.replace(mapped, attachments=[unblanked])
    out, done = minimise(invoice, Minimisation(), ())
    assert "embedded original: ID-card number blanked in Remark" in done
    assert not any(change.endswith("removed") and "blanked" in change for change in done)
    (content,) = [a.content for a in out.attachments if a.content is not None]
    assert OTHER_ID.encode() not in content


def test_mapping_description_and_warning_use_the_same_phrases() -> None:
    person = {"buyer_name": PERSON}
    inv = fapiao(buyer_id=PERSON_ID, buyer_name=PERSON, special=[PASSENGER])
    out = convert(inv, "pint", None, partner=person)
    (original,) = [a for a in out.mapped.invoice.attachments if a.content is not None]
    assert "personal data taken out: PassengerTransportation removed, BuyerIdNum blanked" in (
        original.description or ""
    )
    assert out.warned(
        "embedded original: PassengerTransportation removed, BuyerIdNum blanked (personal data)"
    )

"""eBLs: a bill of lading or sea waybill with its parties, cargo, equipment and title chain.

The source is DCSA JSON (``TransportDocument``, shipping instructions, an issuance request,
a PINT ``EblEnvelope``, a full-state notification) or a UBL ``BillOfLading``; it is read, not
validated (the flow validated it; a page must show even what the rules refused). The title
chain is, in order of preference, the one this platform's eBL registry holds for the document
(:attr:`RenderSource.title_chain`: every entry's signature was verified when it was accepted)
or the ``envelopeTransferChain`` of an envelope (shown, and said to be unverified here); a
TradeTrust title token (:attr:`RenderSource.title_token`) is shown with its history. The
conversions the ``ebl-out`` flow made (outputs ``dcsa``, ``ubl``, ``uncefact``,
``tradetrust-oa``) and its conversion notes (output ``warnings``) are listed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gateway.errors import LingangError, UnknownFormatError
from gateway.ingest.safejson import load_json
from gateway.ingest.textenc import head_text
from gateway.ingest.types import DEFAULT_LIMITS
from gateway.model.title_registry import TitleToken, TokenEvent
from gateway.model.transport_document import Location, Party, TransportDocument
from gateway.read.dcsa import detect_kind, read_dcsa
from gateway.read.ubl_bill_of_lading import read_bill_of_lading
from gateway.readable.registry import RenderSource
from gateway.readable.report import readable_report
from gateway.readable.templating import render_template
from gateway.signing.jose import split_compact
from gateway.xmlsafe import parse_xml

CONVERSIONS = ("dcsa", "ubl", "uncefact", "tradetrust-oa")
"""Outputs of the ``ebl-out`` flow that are the eBL in another format."""
WARNINGS = "warnings"
SHOWN_FACTS = ("state", "title_state", "possessor")
ENVELOPE = "EblEnvelope"


@dataclass(frozen=True, slots=True)
class ChainParty:
    """A transaction party as shown: name, platform and identifying codes."""

    name: str
    platform: str
    codes: str


@dataclass(frozen=True, slots=True)
class ChainTransaction:
    action: str
    actor: ChainParty | None
    recipient: ChainParty | None
    at: str
    comments: str


@dataclass(frozen=True, slots=True)
class ChainEntry:
    """One ``EnvelopeTransferChainEntry``, decoded (``error``: it could not be)."""

    platform: str
    transactions: list[ChainTransaction]
    error: str = ""


@dataclass(frozen=True, slots=True)
class TitleChain:
    source: str
    """``chain_registry`` or ``chain_envelope`` (a label key)."""
    entries: list[ChainEntry]


@dataclass(frozen=True, slots=True)
class EblRenderer:
    """Renders eBLs (document kind ``ebl``)."""

    kind: str = "ebl"

    def accepts(self, source: RenderSource) -> bool:
        head = head_text(source.data)
        if head.startswith(("{", "[")):
            try:
                detect_kind(load_json(source.data, DEFAULT_LIMITS, "DCSA eBL JSON"))
            except LingangError:
                return False
            return True
        if head.startswith("<"):
            try:
                root = parse_xml(source.data, what="eBL")
            except LingangError:
                return False
            return str(root.tag).rpartition("}")[2] == "BillOfLading"
        return False

    def render(self, source: RenderSource) -> str:
        document, input_kind, envelope_chain = read_ebl(source.data)
        if source.title_chain:
            chain: TitleChain | None = TitleChain(
                "chain_registry", [decode_entry(e) for e in source.title_chain]
            )
        elif envelope_chain:
            chain = TitleChain("chain_envelope", [decode_entry(e) for e in envelope_chain])
        else:
            chain = None
        return render_transport_document(
            document,
            input_kind=input_kind,
            chain=chain,
            outputs=source.outputs,
            facts=source.facts,
            document_id=source.document_id,
            report=source.report,
            token=source.title_token,
            token_history=source.token_history,
        )


RENDERER = EblRenderer()


def read_ebl(data: bytes) -> tuple[TransportDocument, str, list[str]]:
    """The canonical document, the input kind and an envelope's own transfer chain."""
    head = head_text(data)
    if head.startswith("<"):
        return read_bill_of_lading(parse_xml(data, what="UBL BillOfLading")), "BillOfLading", []
    if not head.startswith(("{", "[")):
        raise UnknownFormatError("not an eBL: expected DCSA JSON or a UBL BillOfLading")
    parsed = load_json(data, DEFAULT_LIMITS, "DCSA eBL JSON")
    read = read_dcsa(parsed)
    chain: list[str] = []
    if read.input_kind == ENVELOPE:
        entries = parsed.get("envelopeTransferChain")
        chain = [e for e in entries if isinstance(e, str)] if isinstance(entries, list) else []
    return read.document, read.input_kind, chain


def render_transport_document(
    document: TransportDocument,
    *,
    input_kind: str = "",
    chain: TitleChain | None = None,
    outputs: Mapping[str, bytes] | None = None,
    facts: Mapping[str, Any] | None = None,
    document_id: str | None = None,
    report: Mapping[str, Any] | None = None,
    token: TitleToken | None = None,
    token_history: Sequence[TokenEvent] = (),
) -> str:
    """The readable page of one eBL (the ``ebl-out`` flow's ``html`` output, ``…/view``)."""
    outputs = outputs or {}
    facts = facts or {}
    shown = [(key, str(facts[key])) for key in SHOWN_FACTS if facts.get(key)]
    if document_id:
        shown.insert(0, ("document_id", document_id))
    if input_kind:
        shown.append(("input_format", input_kind))
    return render_template(
        "ebl.html",
        title=f"{document.display_reference} · {document.parties.shipper.name}",
        doc=document,
        heading=_heading(document),
        parties=_parties(document),
        place=_place,
        facts=shown,
        chain=chain,
        conversions=[(k, len(outputs[k])) for k in CONVERSIONS if outputs.get(k)],
        warnings=_warnings(outputs.get(WARNINGS)),
        report=readable_report(report),
        token=token,
        token_history=list(token_history),
    )


def decode_entry(token: str) -> ChainEntry:
    """A chain entry's payload, read without checking its signature (the caller says whether
    it was checked)."""
    try:
        _, payload, _, _ = split_compact(token)
        data = json.loads(payload)
    except (LingangError, ValueError, UnicodeDecodeError) as exc:
        return ChainEntry("", [], str(exc) or "undecodable")
    if not isinstance(data, dict):
        return ChainEntry("", [], "the entry is not a JSON object")
    transactions = data.get("transactions")
    return ChainEntry(
        platform=_text(data.get("eblPlatform")),
        transactions=[
            ChainTransaction(
                action=_text(t.get("actionCode") or t.get("action")),
                actor=_party(t.get("actor")),
                recipient=_party(t.get("recipient")),
                at=_moment(t),
                comments=_text(t.get("comments")),
            )
            for t in (transactions if isinstance(transactions, list) else [])
            if isinstance(t, dict)
        ],
    )


def _heading(document: TransportDocument) -> str:
    if document.missing_carrier_facts():
        return "shipping_instructions"
    return "sea_waybill" if document.type_code == "SWB" else "bill_of_lading"


def _parties(document: TransportDocument) -> list[tuple[str, Party]]:
    parties = document.parties
    found: list[tuple[str, Party | None]] = [
        ("shipper", parties.shipper),
        ("consignee", parties.consignee),
        ("endorsee", parties.endorsee),
        *(("notify_party", p) for p in parties.notify_parties),
        ("issuing_party", parties.issuing_party),
    ]
    return [(role, party) for role, party in found if party is not None]


def _place(location: Location | None) -> str:
    if location is None:
        return ""
    parts = [location.name, location.un_location_code]
    if location.address is not None:
        parts.append(f"{location.address.city} {location.address.country_code}")
    return " · ".join(p for p in parts if p)


def _party(data: Any) -> ChainParty | None:
    if not isinstance(data, dict):
        return None
    codes = [
        f"{_text(c.get('codeListProvider'))}/{_text(c.get('partyCode'))}"
        for c in _list(data.get("identifyingCodes"))
    ]
    codes += [
        f"{_text(r.get('type'))} ({_text(r.get('countryCode'))}): {_text(r.get('value'))}"
        for r in _list(data.get("taxLegalReferences"))
    ]
    return ChainParty(
        name=_text(data.get("partyName")),
        platform=_text(data.get("eblPlatform")),
        codes=", ".join(codes),
    )


def _list(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _moment(transaction: Mapping[str, Any]) -> str:
    """``actionDateTime`` (PINT 3.0), else an older draft's ``timestamp`` (epoch ms) in UTC."""
    if transaction.get("actionDateTime"):
        return _text(transaction["actionDateTime"])
    stamp = transaction.get("timestamp")
    if isinstance(stamp, int) and 0 <= stamp < 10**14:
        return datetime.fromtimestamp(stamp / 1000, UTC).isoformat(timespec="milliseconds")
    return _text(stamp)


def _warnings(data: bytes | None) -> list[tuple[str, str]]:
    """The ``warnings`` output (``{target: [text, …]}``) as rows; damaged data shows nothing."""
    if not data:
        return []
    try:
        value = json.loads(data)
    except ValueError:
        return []
    if not isinstance(value, dict):
        return []
    return [
        (str(target), str(text))
        for target, texts in sorted(value.items())
        if isinstance(texts, Sequence) and not isinstance(texts, str)
        for text in texts
    ]


def _text(value: Any) -> str:
    return "" if value is None else str(value)

"""Peppol Message Level Status (MLS 1.0, rules ``peppol-mls-1.0.1``): what a receiving access
point answers about a document it processed, and whether it answers at all.

::

    status = status_from_findings(report_findings, delivered=True, confirmed=False)
    target = mls_target(scopes, status.code, sending_seat="POP000360")   # None: no MLS
    xml = render_mls(MlsDocument(mls_id, now, our_seat, target.seat, instance_id, status))

Response codes (``codelist/ResponseCode.gc``): ``AP`` delivered towards C4 with confirmation,
``AB`` delivered without confirmation, ``RE`` rejected or delivery failed. Each issue carries a
status reason: ``SV`` syntax violation, ``BV`` fatal business rule, ``BW`` rule warning, ``FD``
failure of delivery. A negative MLS must have a description and at least one failing issue;
a positive one must not carry ``BV``/``FD``/``SV`` issues (SCH-MLS-20…25).

Sending rules (the SBDH of the received document decides): ``MLS_TYPE`` ``ALWAYS_SEND`` or
``FAILURE_ONLY`` (the default: only ``RE`` is sent); ``MLS_TO`` names the receiving SPIS
participant, by default ``0242:`` + the SPIS id of the sending access point (its seat id's
six digits); a received MLS is never answered.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, cast

from lxml import etree

from gateway.errors import FieldError
from gateway.render._xml import serialise

MLS_NS = "urn:oasis:names:specification:ubl:schema:xsd:ApplicationResponse-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CUSTOMIZATION_ID = "urn:peppol:edec:mls:1.0"
PROFILE_ID = "urn:peppol:edec:mls"
DOCUMENT_TYPE_ID = (
    "urn:oasis:names:specification:ubl:schema:xsd:ApplicationResponse-2::ApplicationResponse"
    "##urn:peppol:edec:mls:1.0::2.1"
)
"""The MLS document type identifier (scheme ``busdox-docid-qns``)."""
PROCESS_ID = PROFILE_ID
"""The MLS process identifier (scheme ``cenbii-procid-ubl``)."""
SPIS_SCHEME = "0242"

RESPONSE_CODES = ("AP", "AB", "RE")
REASON_CODES = ("BV", "BW", "FD", "SV")
FAILURE_REASONS = frozenset({"BV", "FD", "SV"})
FD_DESCRIPTION = "delivery to the receiver failed"
"""What an ``FD`` issue says, whatever the local system answered."""
ALWAYS_SEND = "ALWAYS_SEND"
FAILURE_ONLY = "FAILURE_ONLY"
MLS_TYPES = (ALWAYS_SEND, FAILURE_ONLY)

_SPIS = re.compile(r"^[0-9]{6}(-[0-9A-Z_]{3,12}(\.[0-9A-Z\-._~]{3,24})?)?$", re.IGNORECASE)
_SEAT = re.compile(r"^P[A-Z]{2}([0-9]{6})$")
_NOT_APPLICABLE = "NA"


@dataclass(frozen=True, slots=True)
class MlsIssue:
    """One issue (``LineResponse``): where, what, and its status reason code."""

    reason: str
    description: str
    location: str = _NOT_APPLICABLE
    """An XPath into the source document, or ``NA`` (not applicable)."""


@dataclass(frozen=True, slots=True)
class MlsStatus:
    """The overall verdict: response code, its description and the issues."""

    code: str
    description: str = ""
    issues: tuple[MlsIssue, ...] = ()

    def __post_init__(self) -> None:
        if self.code not in RESPONSE_CODES:
            raise FieldError(f"MLS response code {self.code!r} is not AP, AB or RE", field="code")
        for issue in self.issues:
            if issue.reason not in REASON_CODES:
                raise FieldError(
                    f"MLS status reason {issue.reason!r} is not one of {REASON_CODES}",
                    field="issues.reason",
                )
        failing = any(i.reason in FAILURE_REASONS for i in self.issues)
        if self.code == "RE" and not (failing and self.description.strip()):
            raise FieldError(
                "a negative MLS needs a description and at least one BV, FD or SV issue",
                field="issues",
                rule="SCH-MLS-24",
            )
        if self.code != "RE" and failing:
            raise FieldError(
                "a positive MLS must not carry BV, FD or SV issues",
                field="issues",
                rule="SCH-MLS-25",
            )

    @property
    def failed(self) -> bool:
        """Whether this is a negative status (``RE``)."""
        return self.code == "RE"


@dataclass(frozen=True, slots=True)
class MlsDocument:
    """Everything one MLS carries."""

    mls_id: str
    issued_at: datetime
    sender_spis: str
    """Our own SPIS id (six digits, optionally with a suffix)."""
    receiver_spis: str
    """The SPIS id of the access point the MLS goes to."""
    instance_id: str
    """The SBDH ``InstanceIdentifier`` of the message this MLS is about."""
    status: MlsStatus


@dataclass(frozen=True, slots=True)
class MlsTarget:
    """Where an MLS goes: the SBDH receiver participant id (``0242:…``)."""

    participant: str
    spis: str


class FindingLike(Protocol):
    """The parts of a validation finding an MLS issue is made of."""

    @property
    def rule_id(self) -> str: ...

    @property
    def flag(self) -> str: ...

    @property
    def location(self) -> str: ...

    @property
    def text(self) -> str: ...


def spis_id(seat_or_spis: str) -> str:
    """The SPIS participant value of an access point: a seat id ``PXX123456`` gives
    ``123456``; an SPIS value (``123456`` or ``123456-ABC.DEF``) is returned as is."""
    value = seat_or_spis.strip()
    if value.startswith(f"{SPIS_SCHEME}:"):
        value = value[len(SPIS_SCHEME) + 1 :]
    seat = _SEAT.fullmatch(value)
    if seat:
        return seat[1]
    if _SPIS.fullmatch(value):
        return value
    raise FieldError(
        f"{seat_or_spis!r} is neither a Peppol seat id (PXX000000) nor an SPIS id (000000)",
        field="seat_id",
        rule="SCH-MLS-09",
    )


def spis_participant(seat_or_spis: str) -> str:
    """The access point's own Peppol participant (``0242:`` + :func:`spis_id`): what it
    sends MLS and reports as, and receives MLS for."""
    return f"{SPIS_SCHEME}:{spis_id(seat_or_spis)}"


def mls_target(
    scopes: Mapping[str, str],
    code: str,
    *,
    sending_seat: str,
    received_is_mls: bool = False,
) -> MlsTarget | None:
    """Whether and where to send an MLS with response ``code`` for a received message.

    ``scopes`` are the received SBDH's ``BusinessScope`` values by type (``MLS_TYPE``,
    ``MLS_TO``); ``sending_seat`` is the sending access point's seat id (from its AS4
    certificate). ``None``: no MLS (the message was an MLS itself, or ``FAILURE_ONLY`` and the
    status is positive).
    """
    if received_is_mls:
        return None
    mls_type = (scopes.get("MLS_TYPE") or FAILURE_ONLY).strip().upper()
    if mls_type not in MLS_TYPES:
        mls_type = FAILURE_ONLY
    if mls_type == FAILURE_ONLY and code != "RE":
        return None
    explicit = (scopes.get("MLS_TO") or "").strip()
    if explicit:
        scheme, _, value = explicit.partition(":")
        if scheme != SPIS_SCHEME or not _SPIS.fullmatch(value):
            raise FieldError(
                f"MLS_TO {explicit!r} is not an SPIS participant (0242:000000)",
                field="MLS_TO",
                rule="SCH-MLS-16",
            )
        return MlsTarget(explicit, value)
    spis = spis_id(sending_seat)
    return MlsTarget(f"{SPIS_SCHEME}:{spis}", spis)


def status_from_findings(
    findings: Iterable[FindingLike],
    *,
    delivered: bool,
    confirmed: bool = False,
) -> MlsStatus:
    """The status of a processed message from its validation findings and its hand-over.

    Fatal XSD findings are ``SV``, other fatal findings ``BV``, warnings ``BW``; a failed
    hand-over to the local system is ``FD``, said in fixed words (:data:`FD_DESCRIPTION`):
    the MLS goes to another service provider, and the local system's own error (its host,
    port, answer) is this gateway's business. Any failure makes the status ``RE``; otherwise
    ``AP`` when the local system confirmed receipt, else ``AB``.
    """
    issues: list[MlsIssue] = []
    for finding in findings:
        if finding.flag == "fatal":
            reason = "SV" if finding.rule_id == "XSD" else "BV"
        elif finding.flag == "warning":
            reason = "BW"
        else:
            continue
        issues.append(
            MlsIssue(reason, f"[{finding.rule_id}] {finding.text}".strip(), _location(finding))
        )
    if not delivered and not any(i.reason in FAILURE_REASONS for i in issues):
        issues.append(MlsIssue("FD", FD_DESCRIPTION))
    failures = [i for i in issues if i.reason in FAILURE_REASONS]
    if failures:
        kinds = sorted({i.reason for i in failures})
        return MlsStatus("RE", _describe_failure(kinds), tuple(issues))
    if confirmed:
        return MlsStatus("AP", "", tuple(issues))
    return MlsStatus("AB", "delivered to the receiver's system without confirmation", tuple(issues))


def _describe_failure(kinds: Sequence[str]) -> str:
    words = {"SV": "syntax", "BV": "business rule", "FD": "delivery"}
    return "rejected: " + ", ".join(f"{words[k]} failure" for k in kinds)


def _location(finding: FindingLike) -> str:
    location = finding.location.strip()
    if location.startswith("line "):
        _, _, path = location.partition(" ")
        _, _, xpath = path.partition(" ")
        location = xpath
    return location or _NOT_APPLICABLE


def render_mls(document: MlsDocument) -> bytes:
    """The MLS ``ApplicationResponse`` (UTF-8 XML)."""
    issued = document.issued_at.astimezone(UTC)
    nsmap = cast("dict[str, str]", {None: MLS_NS, "cac": CAC, "cbc": CBC})
    root = etree.Element(f"{{{MLS_NS}}}ApplicationResponse", nsmap=nsmap)
    _cbc(root, "CustomizationID", CUSTOMIZATION_ID)
    _cbc(root, "ProfileID", PROFILE_ID)
    _cbc(root, "ID", _required(document.mls_id, "mls_id"))
    _cbc(root, "IssueDate", issued.date().isoformat())
    _cbc(root, "IssueTime", issued.strftime("%H:%M:%SZ"))
    for role, spis in (
        ("SenderParty", document.sender_spis),
        ("ReceiverParty", document.receiver_spis),
    ):
        party = etree.SubElement(root, f"{{{CAC}}}{role}")
        _cbc(party, "EndpointID", spis_id(spis), schemeID=SPIS_SCHEME)
    response = etree.SubElement(root, f"{{{CAC}}}DocumentResponse")
    overall = etree.SubElement(response, f"{{{CAC}}}Response")
    _cbc(overall, "ResponseCode", document.status.code)
    if document.status.description.strip():
        _cbc(overall, "Description", document.status.description.strip())
    reference = etree.SubElement(response, f"{{{CAC}}}DocumentReference")
    _cbc(reference, "ID", _required(document.instance_id, "instance_id"))
    for issue in document.status.issues:
        line = etree.SubElement(response, f"{{{CAC}}}LineResponse")
        line_reference = etree.SubElement(line, f"{{{CAC}}}LineReference")
        _cbc(line_reference, "LineID", issue.location.strip() or _NOT_APPLICABLE)
        issue_response = etree.SubElement(line, f"{{{CAC}}}Response")
        _cbc(issue_response, "Description", issue.description.strip() or issue.reason)
        status = etree.SubElement(issue_response, f"{{{CAC}}}Status")
        _cbc(status, "StatusReasonCode", issue.reason)
    return serialise(root)


def _cbc(parent: etree._Element, name: str, text: str, **attrib: str) -> None:
    element = etree.SubElement(parent, f"{{{CBC}}}{name}", attrib)
    element.text = text


def _required(value: str, name: str) -> str:
    if not value.strip():
        raise FieldError(f"an MLS needs a non-empty {name}", field=name)
    return value.strip()

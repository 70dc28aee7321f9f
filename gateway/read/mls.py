"""Reading what Message Level Status needs: a received MLS, and the MLS scopes of an SBDH.

::

    mls = read_mls(xml)            # ReceivedMls: code, the InstanceIdentifier it is about …
    scopes = sbdh_scopes(sbd_xml)  # {"MLS_TYPE": "FAILURE_ONLY", "MLS_TO": "0242:987654", …}

Both parse hostile input through :mod:`gateway.xmlsafe`; a document that is not an MLS is an
:class:`~gateway.errors.InputError` naming what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from gateway.errors import InputError
from gateway.render.mls import CAC, CBC, CUSTOMIZATION_ID, MLS_NS, RESPONSE_CODES
from gateway.xmlsafe import parse_xml

SBDH_NS = "http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader"


@dataclass(frozen=True, slots=True)
class ReceivedIssue:
    """One issue of a received MLS."""

    location: str
    description: str
    reason: str


@dataclass(frozen=True, slots=True)
class ReceivedMls:
    """A Message Level Status another access point sent us."""

    mls_id: str
    code: str
    description: str
    instance_id: str
    """The SBDH InstanceIdentifier of our message it is about."""
    sender_spis: str
    receiver_spis: str
    issued: str
    issues: tuple[ReceivedIssue, ...] = ()

    def to_json(self) -> dict[str, object]:
        """JSON-ready form (for a document's history and the API)."""
        return {
            "mls_id": self.mls_id,
            "code": self.code,
            "description": self.description,
            "instance_id": self.instance_id,
            "sender_spis": self.sender_spis,
            "receiver_spis": self.receiver_spis,
            "issued": self.issued,
            "issues": [
                {"location": i.location, "description": i.description, "reason": i.reason}
                for i in self.issues
            ],
        }


def is_mls(root: etree._Element) -> bool:
    """Whether a parsed root is an MLS ``ApplicationResponse``."""
    return (
        etree.QName(root).text == f"{{{MLS_NS}}}ApplicationResponse"
        and (root.findtext(f"{{{CBC}}}CustomizationID") or "").strip() == CUSTOMIZATION_ID
    )


def read_mls(xml: bytes) -> ReceivedMls:
    """The MLS in ``xml`` (the payload alone, or inside a StandardBusinessDocument)."""
    root = parse_xml(xml, what="Message Level Status")
    if etree.QName(root).text == f"{{{SBDH_NS}}}StandardBusinessDocument":
        payload = next(
            (c for c in root if isinstance(c.tag, str) and c.tag.startswith(f"{{{MLS_NS}}}")), None
        )
        if payload is None:
            raise InputError(
                "the StandardBusinessDocument carries no MLS", field="/", rule="mls.root"
            )
        root = payload
    if not is_mls(root):
        raise InputError(
            f"not a Message Level Status (root {etree.QName(root).text}, "
            f"CustomizationID must be {CUSTOMIZATION_ID})",
            field="/",
            rule="SCH-MLS-01",
        )
    response = root.find(f"{{{CAC}}}DocumentResponse")
    if response is None:
        raise InputError(
            "the MLS has no DocumentResponse", field="DocumentResponse", rule="SCH-MLS-17"
        )
    code = _text(response, f"{{{CAC}}}Response/{{{CBC}}}ResponseCode")
    if code not in RESPONSE_CODES:
        raise InputError(
            f"MLS response code {code!r} is not AP, AB or RE",
            field="ResponseCode",
            rule="SCH-MLS-19",
        )
    instance_id = _text(response, f"{{{CAC}}}DocumentReference/{{{CBC}}}ID")
    if not instance_id:
        raise InputError(
            "the MLS names no referenced document", field="DocumentReference/ID", rule="SCH-MLS-26"
        )
    issues = tuple(
        ReceivedIssue(
            location=_text(line, f"{{{CAC}}}LineReference/{{{CBC}}}LineID"),
            description=_text(line, f"{{{CAC}}}Response/{{{CBC}}}Description"),
            reason=_text(line, f"{{{CAC}}}Response/{{{CAC}}}Status/{{{CBC}}}StatusReasonCode"),
        )
        for line in response.findall(f"{{{CAC}}}LineResponse")
    )
    return ReceivedMls(
        mls_id=_text(root, f"{{{CBC}}}ID"),
        code=code,
        description=_text(response, f"{{{CAC}}}Response/{{{CBC}}}Description"),
        instance_id=instance_id,
        sender_spis=_text(root, f"{{{CAC}}}SenderParty/{{{CBC}}}EndpointID"),
        receiver_spis=_text(root, f"{{{CAC}}}ReceiverParty/{{{CBC}}}EndpointID"),
        issued=f"{_text(root, f'{{{CBC}}}IssueDate')}T{_text(root, f'{{{CBC}}}IssueTime')}",
        issues=issues,
    )


def sbdh_scopes(xml: bytes) -> dict[str, str]:
    """The ``BusinessScope/Scope`` values of a StandardBusinessDocument (or a bare header), by
    ``Type`` (``DOCUMENTID``, ``PROCESSID``, ``COUNTRY_C1``, ``MLS_TO``, ``MLS_TYPE`` …)."""
    root = parse_xml(xml, what="StandardBusinessDocument")
    scopes: dict[str, str] = {}
    for scope in root.iter(f"{{{SBDH_NS}}}Scope"):
        kind = _text(scope, f"{{{SBDH_NS}}}Type")
        if kind and kind not in scopes:
            scopes[kind] = _text(scope, f"{{{SBDH_NS}}}InstanceIdentifier")
    return scopes


def _text(element: etree._Element, path: str) -> str:
    return " ".join((element.findtext(path) or "").split())

"""SMP redirects (Peppol SMP 1.x, ``smp:Redirect``): what one says and whom it names.

A ``SignedServiceMetadata`` may hold, instead of ``ServiceInformation``, a ``Redirect`` whose
``href`` is the full URL of the participant's service metadata at another SMP and whose
``CertificateUID`` names that SMP's certificate. The SMP XSD (``RedirectType``): "Holds the
Subject Unique Identifier of the certificate of the destination SMP. A client SHOULD validate
that the Subject Unique Identifier of the certificate used to sign the resource at the
destination SMP matches the Subject Unique Identifier published in the redirecting SMP."

The XSD does not say how the identifier is written. :func:`certificate_uid_matches` accepts
the two forms in use: the value of the subject's ``UID`` attribute (OID
0.9.2342.19200300.100.1.1), and the subject's whole distinguished name, which is what Peppol
SMPs publish (e.g. ``C=NO,O=…,OU=PEPPOL TEST SMP,CN=PNO000179``) and what peppol-commons
compares, as a set of attribute type and value pairs (any order, ``, `` or ``,`` between them,
values case-insensitive as LDAP's ``caseIgnoreMatch``). Anything else does not match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from string import hexdigits

from cryptography import x509
from cryptography.x509.oid import NameOID, ObjectIdentifier

MAX_REDIRECTS = 1
"""The SMP specification's limit: a client follows one redirect, never a chain."""

_ATTRIBUTE_TYPES: dict[str, ObjectIdentifier] = {
    "CN": NameOID.COMMON_NAME,
    "C": NameOID.COUNTRY_NAME,
    "L": NameOID.LOCALITY_NAME,
    "ST": NameOID.STATE_OR_PROVINCE_NAME,
    "S": NameOID.STATE_OR_PROVINCE_NAME,
    "O": NameOID.ORGANIZATION_NAME,
    "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
    "STREET": NameOID.STREET_ADDRESS,
    "DC": NameOID.DOMAIN_COMPONENT,
    "UID": NameOID.USER_ID,
    "SERIALNUMBER": NameOID.SERIAL_NUMBER,
    "E": NameOID.EMAIL_ADDRESS,
    "EMAILADDRESS": NameOID.EMAIL_ADDRESS,
    "SN": NameOID.SURNAME,
    "GIVENNAME": NameOID.GIVEN_NAME,
    "T": NameOID.TITLE,
    "TITLE": NameOID.TITLE,
}
"""Attribute type names as RFC 4514 and Java's ``X500Principal`` write them."""
_DOTTED = re.compile(r"^(?:OID\.)?([0-9]+(?:\.[0-9]+)+)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Redirect:
    """A signed ``smp:Redirect``: where the service metadata is, and whose certificate signs
    it there."""

    href: str
    certificate_uid: str


def certificate_uid_matches(cert: x509.Certificate, certificate_uid: str) -> bool:
    """Whether ``certificate_uid`` (a redirect's ``CertificateUID``) names ``cert``: the value
    of a ``UID`` attribute of its subject, or its subject DN (see the module docstring)."""
    wanted = certificate_uid.strip()
    if not wanted:
        return False
    uids = cert.subject.get_attributes_for_oid(NameOID.USER_ID)
    if any(str(attribute.value).strip() == wanted for attribute in uids):
        return True
    named = distinguished_name_pairs(wanted)
    return named is not None and named == _subject_pairs(cert.subject)


def _subject_pairs(subject: x509.Name) -> frozenset[tuple[str, str]]:
    return frozenset(
        (attribute.oid.dotted_string, str(attribute.value).strip().casefold())
        for attribute in subject
    )


def distinguished_name_pairs(text: str) -> frozenset[tuple[str, str]] | None:
    """The ``(OID, value)`` pairs of a DN written as text (RFC 4514 or RFC 2253 / Java
    ``X500Principal``, spaces after separators allowed), values case-folded; ``None`` when it
    is not a DN (no ``type=value``, an unknown attribute type)."""
    pairs: set[tuple[str, str]] = set()
    for piece in _split_unescaped(text):
        kind, equals, value = piece.partition("=")
        if not equals:
            return None
        oid = _attribute_type(kind.strip())
        if oid is None:
            return None
        pairs.add((oid.dotted_string, _unescape(value.strip()).strip().casefold()))
    return frozenset(pairs) or None


def _attribute_type(name: str) -> ObjectIdentifier | None:
    known = _ATTRIBUTE_TYPES.get(name.upper())
    if known is not None:
        return known
    dotted = _DOTTED.match(name)
    return ObjectIdentifier(dotted.group(1)) if dotted else None


def _split_unescaped(text: str) -> list[str]:
    """``text`` cut at the RDN separators ``,`` ``;`` and ``+`` outside escapes and quotes."""
    pieces: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            current.append(char)
            escaped = True
        elif char == '"':
            current.append(char)
            quoted = not quoted
        elif char in ",;+" and not quoted:
            pieces.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    pieces.append("".join(current).strip())
    return [piece for piece in pieces if piece]


def _unescape(value: str) -> str:
    """An attribute value as written (``\\,``, ``\\2C`` hex pairs, or ``"quoted"``) to text."""
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    out = bytearray()
    at = 0
    while at < len(value):
        char = value[at]
        if char == "\\" and at + 1 < len(value):
            pair = value[at + 1 : at + 3]
            if len(pair) == 2 and all(c in hexdigits for c in pair):
                out += bytes.fromhex(pair)
                at += 3
                continue
            out += value[at + 1].encode()
            at += 2
            continue
        out += char.encode()
        at += 1
    return out.decode("utf-8", "replace")

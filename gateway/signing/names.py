"""Distinguished names in XAdES: written as RFC 4514 strings, compared as names.

``ds:X509IssuerName`` (in ``xades:IssuerSerial``) is a string "encoded as RFC 4514 requires"
(XML-DSig 1.1 4.5.4.1); ``xades:IssuerSerialV2`` holds the DER of an RFC 5035
``IssuerSerial``. A verifier compares either with the signing certificate's issuer as names,
not as strings (RFC 5280 7.1: attribute by attribute, values after the LDAP string
preparation of RFC 4518: case folded, insignificant spaces dropped), because every toolkit
spells the same name its own way (``CN=A,O=B`` / ``CN=A, O=B`` / ``O=B`` first).

Writing (:func:`rfc4514`) follows RFC 4514 section 2: the types of its table by their short
names with string values, every other type as its dotted OID with the ``#``-hex of the value's
DER (2.3, 2.4; ``cryptography``'s own ``rfc4514_string`` writes those as plain strings, which
a strict reader cannot turn back into the certificate's name), and XML-DSig 1.1's extra
escaping of control characters and trailing spaces.

Reading (:func:`parse_rfc4514`) accepts what other signers write besides: spaces around
separators, ``;`` between RDNs, quoted values (RFC 2253 section 4), ``OID.`` prefixes and
the usual extra short names (``emailAddress``/``E``, ``serialNumber``, ``SN``, ...).
"""

from __future__ import annotations

import re
import unicodedata

from cryptography import x509

Value = str | bytes
"""A prepared string value, or the DER of a value that is not a string."""
Rdn = frozenset[tuple[str, Value]]
Name = tuple[Rdn, ...]
"""A distinguished name ready for comparison: RDNs in DER order, each a set of (OID, value)."""

RFC4514_TYPES = {
    "CN": "2.5.4.3",
    "L": "2.5.4.7",
    "ST": "2.5.4.8",
    "O": "2.5.4.10",
    "OU": "2.5.4.11",
    "C": "2.5.4.6",
    "STREET": "2.5.4.9",
    "DC": "0.9.2342.19200300.100.1.25",
    "UID": "0.9.2342.19200300.100.1.1",
}
"""The attribute types RFC 4514 3 names (written by these names, read by all)."""
OTHER_TYPES = {
    "EMAILADDRESS": "1.2.840.113549.1.9.1",
    "EMAIL": "1.2.840.113549.1.9.1",
    "E": "1.2.840.113549.1.9.1",
    "SERIALNUMBER": "2.5.4.5",
    "SN": "2.5.4.4",
    "SURNAME": "2.5.4.4",
    "GN": "2.5.4.42",
    "GIVENNAME": "2.5.4.42",
    "T": "2.5.4.12",
    "TITLE": "2.5.4.12",
    "INITIALS": "2.5.4.43",
    "GENERATIONQUALIFIER": "2.5.4.44",
    "DNQUALIFIER": "2.5.4.46",
    "PSEUDONYM": "2.5.4.65",
    "POSTALCODE": "2.5.4.17",
    "ORGANIZATIONIDENTIFIER": "2.5.4.97",
    "STATEORPROVINCENAME": "2.5.4.8",
    "LOCALITYNAME": "2.5.4.7",
    "COMMONNAME": "2.5.4.3",
    "ORGANIZATIONNAME": "2.5.4.10",
    "ORGANIZATIONALUNITNAME": "2.5.4.11",
    "COUNTRYNAME": "2.5.4.6",
}
"""Further short names other toolkits write (OpenSSL, Java, .NET), read only."""
STRING_TAGS = {
    0x0C: "utf-8",  # UTF8String
    0x12: "ascii",  # NumericString
    0x13: "ascii",  # PrintableString
    0x14: "latin-1",  # TeletexString (T.61; Latin-1 is what issuers put there in practice)
    0x16: "ascii",  # IA5String
    0x1A: "ascii",  # VisibleString
    0x1C: "utf-32-be",  # UniversalString
    0x1E: "utf-16-be",  # BMPString
}
"""DER string tags and how their octets decode."""
_OID_SYNTAX = re.compile(r"[0-2](\.(0|[1-9][0-9]*))+")
_HEX_VALUE = re.compile(r"#((?:[0-9A-Fa-f]{2})+)")
_HEX_PAIR = re.compile(r"[0-9A-Fa-f]{2}")
_SPECIAL = frozenset('"+,;<>\\=')


def same_name(text: str, name: x509.Name) -> bool:
    """Whether the RFC 4514 string ``text`` names ``name``; ``ValueError`` if unreadable."""
    return parse_rfc4514(text) == from_der(name.public_bytes())


def rfc4514(name: x509.Name) -> str:
    """``name`` as an RFC 4514 string (last RDN first)."""
    rdns = []
    for rdn in _rdn_attributes(name.public_bytes()):
        parts = []
        for oid, value_der in rdn:
            short = next((k for k, v in RFC4514_TYPES.items() if v == oid), None)
            text = _decoded(value_der)
            if short is not None and text is not None:
                parts.append(f"{short}={_escape(text)}")
            else:
                parts.append(f"{oid}=#{value_der.hex()}")
        rdns.append("+".join(parts))
    return ",".join(reversed(rdns))


def from_der(der: bytes) -> Name:
    """A DER ``Name`` ready for comparison; ``ValueError`` if it is not one."""
    return tuple(frozenset((oid, _prepared(v)) for oid, v in rdn) for rdn in _rdn_attributes(der))


def parse_rfc4514(text: str) -> Name:
    """An RFC 4514 string ready for comparison; ``ValueError`` naming what is wrong."""
    reader = _Reader(text)
    rdns: list[Rdn] = []
    members: list[tuple[str, Value]] = []
    if not text.strip():
        return ()
    while True:
        members.append(reader.attribute())
        separator = reader.separator()
        if separator != "+":
            rdns.append(frozenset(members))
            members = []
        if separator is None:
            break
    return tuple(reversed(rdns))


def _prepared(value_der: bytes) -> Value:
    """The comparable form of a value: its string prepared, else its DER."""
    text = _decoded(value_der)
    return prepare(text) if text is not None else value_der


def prepare(text: str) -> str:
    """RFC 4518 preparation for caseIgnoreMatch, reduced to what names need: NFKC, case
    folded, every space-like character a space, runs of spaces one, none at either end."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join("".join(" " if ch.isspace() else ch for ch in folded).split())


def _decoded(value_der: bytes) -> str | None:
    """The string a DER value holds, or ``None`` when it is not a string type."""
    tag, start, end = _tlv(value_der, 0)
    encoding = STRING_TAGS.get(tag)
    if encoding is None or end != len(value_der):
        return None
    try:
        return value_der[start:end].decode(encoding)
    except UnicodeDecodeError:
        return None


def _escape(text: str) -> str:
    """RFC 4514 2.4 escaping, with XML-DSig 1.1's ``\\XX`` for control characters and a
    trailing space."""
    out = []
    for index, ch in enumerate(text):
        if ch in _SPECIAL or (index == 0 and ch in "# "):
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F or (ch == " " and index == len(text) - 1):
            out.append(f"\\{ord(ch):02X}")
        else:
            out.append(ch)
    return "".join(out)


def _tlv(data: bytes, at: int) -> tuple[int, int, int]:
    """Tag, content start and content end of the DER element at ``at``."""
    if at + 2 > len(data):
        raise ValueError("truncated DER")
    tag, length = data[at], data[at + 1]
    at += 2
    if length & 0x80:
        count = length & 0x7F
        if not 0 < count <= 4 or at + count > len(data):
            raise ValueError("bad DER length")
        length = int.from_bytes(data[at : at + count], "big")
        at += count
    if at + length > len(data):
        raise ValueError("truncated DER")
    return tag, at, at + length


def _elements(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """The DER elements between ``start`` and ``end``: (tag, element start, content start,
    content end)."""
    found = []
    while start < end:
        tag, content, stop = _tlv(data, start)
        if stop > end:
            raise ValueError("truncated DER")
        found.append((tag, start, content, stop))
        start = stop
    return found


def _rdn_attributes(der: bytes) -> list[list[tuple[str, bytes]]]:
    """The (OID, value DER) pairs of each RDN of a DER ``Name``, in DER order."""
    tag, start, end = _tlv(der, 0)
    if tag != 0x30 or end != len(der):
        raise ValueError("not a DER Name")
    rdns = []
    for set_tag, _, set_start, set_end in _elements(der, start, end):
        if set_tag != 0x31:
            raise ValueError("not a DER Name: an RDN is not a SET")
        rdn = []
        for seq_tag, _, seq_start, seq_end in _elements(der, set_start, set_end):
            parts = _elements(der, seq_start, seq_end)
            if seq_tag != 0x30 or len(parts) != 2 or parts[0][0] != 0x06:
                raise ValueError("not a DER Name: an attribute is not (OID, value)")
            (_, _, oid_start, oid_end), (_, value_start, _, value_end) = parts
            rdn.append((_oid(der[oid_start:oid_end]), der[value_start:value_end]))
        rdns.append(rdn)
    return rdns


def _oid(body: bytes) -> str:
    """The dotted form of an OID's DER content."""
    numbers: list[int] = []
    value = 0
    for octet in body:
        value = (value << 7) | (octet & 0x7F)
        if not octet & 0x80:
            numbers.append(value)
            value = 0
    if not numbers or body[-1] & 0x80:
        raise ValueError("bad OID")
    first = min(numbers[0] // 40, 2)
    return ".".join(str(n) for n in (first, numbers[0] - 40 * first, *numbers[1:]))


class _Reader:
    """A cursor over an RFC 4514 string."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def _skip_spaces(self) -> None:
        while self.at < len(self.text) and self.text[self.at] == " ":
            self.at += 1

    def attribute(self) -> tuple[str, Value]:
        self._skip_spaces()
        equals = self.text.find("=", self.at)
        if equals < 0:
            raise ValueError(f"no '=' after {self.text[self.at :]!r}")
        oid = _attribute_type(self.text[self.at : equals].strip())
        self.at = equals + 1
        self._skip_spaces()
        if self.text.startswith("#", self.at):
            return oid, self._hex_value()
        if self.text.startswith('"', self.at):
            return oid, prepare(self._quoted_value())
        return oid, prepare(self._string_value())

    def separator(self) -> str | None:
        """The separator after a value (``,``, ``;`` or ``+``), or ``None`` at the end."""
        self._skip_spaces()
        if self.at >= len(self.text):
            return None
        ch = self.text[self.at]
        if ch not in ",;+":
            raise ValueError(f"unexpected {ch!r} at position {self.at}")
        self.at += 1
        return "+" if ch == "+" else ","

    def _hex_value(self) -> Value:
        match = _HEX_VALUE.match(self.text, self.at)
        if match is None:
            raise ValueError(f"bad hex value at position {self.at}")
        self.at = match.end()
        return _prepared(bytes.fromhex(match.group(1)))

    def _quoted_value(self) -> str:
        self.at += 1
        octets = bytearray()
        while self.at < len(self.text) and self.text[self.at] != '"':
            self._take(octets)
        if self.at >= len(self.text):
            raise ValueError("unterminated quoted value")
        self.at += 1
        return octets.decode("utf-8")

    def _string_value(self) -> str:
        octets = bytearray()
        while self.at < len(self.text) and self.text[self.at] not in ",;+":
            self._take(octets)
        return octets.decode("utf-8")

    def _take(self, octets: bytearray) -> None:
        """One character or escape of a value, appended as UTF-8."""
        ch = self.text[self.at]
        if ch != "\\":
            octets += ch.encode("utf-8")
            self.at += 1
            return
        pair = self.text[self.at + 1 : self.at + 3]
        if _HEX_PAIR.fullmatch(pair):
            octets.append(int(pair, 16))
            self.at += 3
        elif self.at + 1 < len(self.text):
            octets += self.text[self.at + 1].encode("utf-8")
            self.at += 2
        else:
            raise ValueError("a value ends with a lone backslash")


def _attribute_type(text: str) -> str:
    bare = text[4:] if text.upper().startswith("OID.") else text
    if _OID_SYNTAX.fullmatch(bare):
        return bare
    oid = RFC4514_TYPES.get(text.upper()) or OTHER_TYPES.get(text.upper())
    if oid is None:
        raise ValueError(f"unknown attribute type {text!r}")
    return oid


def read_issuer_serial_v2(der: bytes) -> tuple[tuple[Name, ...], int]:
    """The issuer names (the ``directoryName`` entries) and serial number of an RFC 5035
    ``IssuerSerial`` (``xades:IssuerSerialV2``); ``ValueError`` if it is not one."""
    tag, start, end = _tlv(der, 0)
    parts = _elements(der, start, end) if tag == 0x30 and end == len(der) else []
    if len(parts) not in (2, 3) or parts[0][0] != 0x30 or parts[1][0] != 0x02:
        raise ValueError("not a DER IssuerSerial (SEQUENCE { GeneralNames, INTEGER, ... })")
    (_, _, names_start, names_end), (_, _, serial_start, serial_end) = parts[0], parts[1]
    issuers = tuple(
        from_der(der[content:stop])
        for tag, _, content, stop in _elements(der, names_start, names_end)
        if tag == 0xA4  # directoryName [4] EXPLICIT Name
    )
    if serial_start == serial_end:
        raise ValueError("the IssuerSerial's serial number is empty")
    return issuers, int.from_bytes(der[serial_start:serial_end], "big", signed=True)

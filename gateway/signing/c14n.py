"""Canonicalization of elements and of the whole document minus its signature.

libxml2 (through lxml) does the canonical serialisation. C14N 1.1 differs from 1.0 only in
how ``xml:id`` / ``xml:base`` inherited from ancestors are treated in a document subset; the
gateway refuses subsets whose ancestors carry those two, so for everything it accepts 1.0 and
1.1 give the same octets and lxml's 1.0 is used for both. Inherited ``xml:lang`` and
``xml:space`` are carried into the subset as both versions require.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from lxml import etree

from gateway.errors import VerificationError
from gateway.signing.algorithms import Canonicalization, Check

XML_NS = "{http://www.w3.org/XML/1998/namespace}"


def canonicalize(
    node: etree._Element | etree._ElementTree,
    method: Canonicalization,
    *,
    prefixes: Sequence[str] = (),
    keep_comments: bool | None = None,
) -> bytes:
    """Canonical octets of ``node`` (an element subset, or the whole document).

    ``keep_comments`` overrides the method's own choice (same-document ``#id`` references
    drop comments whatever the method says).
    """
    comments = method.with_comments if keep_comments is None else keep_comments
    options = {
        "method": "c14n",
        "exclusive": method.exclusive,
        "with_comments": comments,
        "inclusive_ns_prefixes": list(prefixes) if method.exclusive and prefixes else None,
    }
    if not isinstance(node, etree._Element) or method.exclusive:
        return etree.tostring(node, **options)  # type: ignore[call-overload,no-any-return]
    inherited = _inherited_xml_attributes(node)
    for name, value in inherited.items():
        node.set(name, value)
    try:
        return etree.tostring(node, **options)  # type: ignore[call-overload,no-any-return]
    finally:
        for name in inherited:
            del node.attrib[name]


INHERITED = (f"{XML_NS}lang", f"{XML_NS}space")
"""``xml:`` attributes inclusive C14N (1.0 and 1.1 alike) carries into a subset's apex."""


def _inherited_xml_attributes(node: etree._Element) -> dict[str, str]:
    """The ``xml:lang`` / ``xml:space`` the apex inherits; refuses ``xml:base`` / ``xml:id``.

    libxml2 canonicalises an element subset without its ancestors' ``xml:`` attributes, so the
    inherited ones are put on the apex for the duration, as inclusive C14N requires.
    ``xml:base`` and ``xml:id`` are treated differently by C14N 1.0 and 1.1 and are refused.
    """
    found: dict[str, str] = {}
    for ancestor in node.iterancestors():
        for name, value in ancestor.attrib.items():
            key = str(name)
            if not key.startswith(XML_NS):
                continue
            if key not in INHERITED:
                raise VerificationError(
                    f"an ancestor of the signed element carries {key!r}; refused",
                    check=Check.STRUCTURE,
                )
            if key not in found and node.get(key) is None:
                found[key] = str(value)
    return found


@contextmanager
def detached(element: etree._Element) -> Iterator[None]:
    """Take ``element`` out of its tree for the duration (the enveloped-signature transform).

    The text after the element stays in the document, as the transform requires; the tree is
    restored exactly on exit.
    """
    parent = element.getparent()
    if parent is None:
        raise VerificationError("the signature is the document root", check=Check.STRUCTURE)
    index = parent.index(element)
    tail = element.tail
    previous = element.getprevious()
    saved_text = previous.tail if previous is not None else parent.text
    if tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)
    try:
        yield
    finally:
        if previous is not None:
            previous.tail = saved_text
        else:
            parent.text = saved_text
        element.tail = tail
        parent.insert(index, element)

"""Canonicalization of elements and of the whole document minus its signature.

libxml2 (through lxml) does the canonical serialisation. C14N 1.1 differs from 1.0 only in
how ``xml:id`` / ``xml:base`` inherited from ancestors are treated in a document subset; the
gateway refuses subsets whose ancestors carry any ``xml:`` attribute, so for everything it
accepts 1.0 and 1.1 give the same octets and lxml's 1.0 is used for both.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from lxml import etree

from gateway.errors import VerificationError
from gateway.signing.algorithms import Canonicalization

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
    if isinstance(node, etree._Element):
        _refuse_inherited_xml_attributes(node)
    comments = method.with_comments if keep_comments is None else keep_comments
    return etree.tostring(
        node,
        method="c14n",
        exclusive=method.exclusive,
        with_comments=comments,
        inclusive_ns_prefixes=list(prefixes) if method.exclusive and prefixes else None,
    )


def _refuse_inherited_xml_attributes(node: etree._Element) -> None:
    for ancestor in node.iterancestors():
        for name in ancestor.attrib:
            if str(name).startswith(XML_NS):
                raise VerificationError(
                    f"an ancestor of the signed element carries {name!r}; refused",
                    check="structure",
                )


@contextmanager
def detached(element: etree._Element) -> Iterator[None]:
    """Take ``element`` out of its tree for the duration (the enveloped-signature transform).

    The text after the element stays in the document, as the transform requires; the tree is
    restored exactly on exit.
    """
    parent = element.getparent()
    if parent is None:
        raise VerificationError("the signature is the document root", check="structure")
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

"""A light element tree for a renderer: built in Python, handed to lxml in one parse.

Creating every element through lxml's API costs several times its parse: for each one lxml
checks the name and the namespace URI again and looks the namespace up in the ancestors. A
renderer appends :data:`Node` lists instead, and :func:`to_lxml` writes them out as text and
parses that once, giving the tree the API would have built (the same elements, attributes,
texts and namespace declarations, so the same serialisation).

Where text could not give back that tree (an empty text, a value that is not a string,
characters XML cannot hold, a name lxml refuses), the nodes are built with lxml's API one by
one instead, in the order they were made, so such a document fails (or renders) exactly as
it did when each element was created directly.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

Node = list[Any]
"""``[qualified name, text or None, attributes or None, child nodes]``: a renderer makes
one with ``[name, text, attrib, []]`` and appends it to its parent's ``node[3]`` (a list
rather than a class: a renderer makes hundreds per document). The name is ``prefix:local``
with a prefix the root declares, or a local name in the default namespace."""

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True, collect_ids=False
)


class _NotText(Exception):
    """A node :func:`_write` cannot write as text that parses back to the same tree."""


def root(name: str) -> Node:
    """The root node ``name`` (in the default namespace)."""
    return [name, None, None, []]


def to_lxml(top: Node, nsmap: dict[str | None, str]) -> etree._Element:
    """The lxml tree of ``top``, whose element declares ``nsmap`` (default namespace first)."""
    declarations = "".join(
        f' xmlns="{uri}"' if prefix is None else f' xmlns:{prefix}="{uri}"'
        for prefix, uri in nsmap.items()
    )
    try:
        parts: list[str] = []
        _write(top, parts, declarations)
        return etree.fromstring("".join(parts).encode("utf-8"), _PARSER)
    except (_NotText, ValueError, TypeError, etree.XMLSyntaxError):
        return _replay(top, nsmap)


def _write(node: Node, parts: list[str], declarations: str = "") -> None:
    name, text, attrib, children = node
    parts.append(f"<{name}{declarations}")
    if attrib:
        for key, value in attrib.items():
            parts.append(f' {key}="{_attribute(value)}"')
    if text is None:
        if not children:
            parts.append("/>")
            return
        parts.append(">")
    else:
        parts.append(f">{_text(text)}")
    for child in children:
        _write(child, parts)
    parts.append(f"</{name}>")


def _text(value: object) -> str:
    """``value`` escaped as element content; the parse gives back exactly ``value``."""
    value = _string(value)
    if not value:
        raise _NotText  # an empty text node, which a parse drops
    if "&" in value:
        value = value.replace("&", "&amp;")
    if "<" in value:
        value = value.replace("<", "&lt;")
    if ">" in value:
        value = value.replace(">", "&gt;")
    if "\r" in value:
        value = value.replace("\r", "&#13;")
    return value


def _attribute(value: object) -> str:
    """``value`` escaped as a double-quoted attribute value (its whitespace kept)."""
    value = _string(value)
    if "&" in value:
        value = value.replace("&", "&amp;")
    for char, reference in _ATTRIBUTE_REFERENCES:
        if char in value:
            value = value.replace(char, reference)
    return value


def _string(value: object) -> str:
    """The characters lxml would write for ``value``: a string's own (an ``Enum`` mixed
    with ``str`` gives its value, whatever its ``__str__`` says)."""
    if type(value) is str:
        return value
    if isinstance(value, str):
        return str.__str__(value)
    raise _NotText  # bytes and other types: lxml's API decides


_ATTRIBUTE_REFERENCES = (
    ("<", "&lt;"),
    (">", "&gt;"),
    ('"', "&quot;"),
    ("\t", "&#9;"),
    ("\n", "&#10;"),
    ("\r", "&#13;"),
)


def _replay(top: Node, nsmap: dict[str | None, str]) -> etree._Element:
    """The tree of ``top`` built element by element with lxml's API."""
    element = etree.Element(_clark(top[0], nsmap), nsmap=nsmap)  # type: ignore[arg-type]
    _fill(element, top, nsmap)
    return element


def _fill(element: etree._Element, node: Node, nsmap: dict[str | None, str]) -> None:
    if node[1] is not None:
        element.text = node[1]
    for child in node[3]:
        name, attrib = _clark(child[0], nsmap), child[2]
        made = (
            etree.SubElement(element, name, attrib) if attrib else etree.SubElement(element, name)
        )
        _fill(made, child, nsmap)


def _clark(name: str, nsmap: dict[str | None, str]) -> str:
    prefix, _, local = name.rpartition(":")
    return f"{{{nsmap[prefix or None]}}}{local}"

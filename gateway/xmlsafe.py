"""Hardened XML parsing: every XML the gateway reads goes through :func:`parse_xml`.

All input is treated as hostile. A document is refused, with an :class:`UnsafeInputError`
naming the limit, when it

* is larger than :attr:`XmlLimits.max_bytes`,
* has a DOCTYPE (so no DTD, no internal or external entities, no billion laughs),
* nests elements deeper than :attr:`XmlLimits.max_depth`,
* has more than :attr:`XmlLimits.max_elements` elements.

Entities are never resolved and nothing is ever fetched from the network. Text that is not
well-formed XML is an :class:`InputError` carrying the parser's line and column.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from lxml import etree

from gateway.errors import InputError, UnsafeInputError


@dataclass(frozen=True, slots=True)
class XmlLimits:
    """Limits applied to one XML document."""

    max_bytes: int = 32 * 1024 * 1024
    """Largest accepted document, in bytes (32 MiB)."""
    max_depth: int = 128
    """Deepest accepted element nesting."""
    max_elements: int = 500_000
    """Most elements accepted in one document."""


DEFAULT_LIMITS = XmlLimits()


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
        collect_ids=False,
    )


def _check_doctype(data: bytes) -> None:
    head = data[:4096]
    if b"<!DOCTYPE" in head or b"<!doctype" in head or b"<!ENTITY" in data[:65536]:
        raise UnsafeInputError(
            "XML with a DOCTYPE or entity declaration is refused (no DTDs, no entities)",
            rule="xml.no-dtd",
        )


_probes = threading.local()


def _shape_probe(limits: XmlLimits) -> etree.XPath:
    """This thread's compiled test of ``limits``: true when the tree has at most
    ``max_elements`` elements and none deeper than ``max_depth`` (the root is at depth 1)."""
    cache: dict[tuple[int, int], etree.XPath] | None = getattr(_probes, "cache", None)
    if cache is None:
        cache = _probes.cache = {}
    key = (limits.max_depth, limits.max_elements)
    probe = cache.get(key)
    if probe is None:
        too_deep = "/".join(["*"] * limits.max_depth)
        probe = cache[key] = etree.XPath(
            f"count(descendant-or-self::*) <= {limits.max_elements} and not({too_deep})"
        )
    return probe


def _check_shape(root: etree._Element, limits: XmlLimits) -> None:
    """Refuse a tree beyond ``limits``. The common case, within them, is decided by one
    XPath in libxml2; only a tree beyond them is walked, to name the limit met first."""
    if limits.max_depth >= 1 and _shape_probe(limits)(root) is True:
        return
    count = 0
    depth = 0
    for event, _ in etree.iterwalk(root, events=("start", "end")):
        if event == "start":
            count += 1
            depth += 1
            if depth > limits.max_depth:
                raise UnsafeInputError(
                    f"XML nests deeper than {limits.max_depth} elements", rule="xml.max-depth"
                )
            if count > limits.max_elements:
                raise UnsafeInputError(
                    f"XML has more than {limits.max_elements} elements", rule="xml.max-elements"
                )
        else:
            depth -= 1


def parse_xml(
    data: bytes, *, limits: XmlLimits = DEFAULT_LIMITS, what: str = "XML"
) -> etree._Element:
    """Parse ``data`` safely and return its root element.

    ``what`` names the input in error messages (e.g. ``"fapiao XML"``).
    """
    if len(data) > limits.max_bytes:
        raise UnsafeInputError(
            f"{what} is {len(data)} bytes, more than the limit of {limits.max_bytes}",
            rule="xml.max-bytes",
        )
    _check_doctype(data)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        message = str(exc)
        if "depth" in message.lower():
            raise UnsafeInputError(
                f"{what} nests too deep: {message}", rule="xml.max-depth"
            ) from exc
        raise InputError(f"{what} is not well-formed: {message}", rule="xml.well-formed") from exc
    except ValueError as exc:
        raise InputError(f"{what} cannot be read: {exc}", rule="xml.encoding") from exc
    if root is None:
        raise InputError(f"{what} is empty", rule="xml.well-formed")
    doctype: str = getattr(root.getroottree().docinfo, "doctype", "")
    if doctype:
        raise UnsafeInputError(f"{what} has a DOCTYPE, which is refused", rule="xml.no-dtd")
    _check_shape(root, limits)
    return root

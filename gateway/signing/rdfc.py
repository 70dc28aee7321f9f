"""RDF datasets as N-Quads and their RDFC-1.0 canonical form, serialised as TrustVC's
``rdf-canonize`` serialises them.

::

    dataset = to_dataset(document, loader.options())     # PyLD's JSON-LD → RDF
    quads, issued = canonical_quads(dataset)              # sorted, with input → c14n labels

PyLD does the JSON-LD → RDF conversion and the RDFC-1.0 (URDNA2015) blank-node labelling; the
N-Quads text is ours because PyLD's is not RDFC-1.0's canonical form, which TrustVC's
``rdf-canonize`` 5 (under ``@digitalbazaar/di-sd-primitives``) writes and signs: literals
carry ECHAR for BS, TAB, LF, FF, CR, ``"`` and ``\\`` and UCHAR (``\\u00XX``) for the other
controls (PyLD escapes only TAB, LF, CR, ``"``, ``\\``), IRIs carry UCHAR for spaces, controls
and ``<>"{}|^`\\``; and PyLD's N-Quads parser splits lines at U+2028 and other Unicode line
breaks. So the canonicaliser works on PyLD's dataset structure and never
parses N-Quads text; lists of quads sort by UTF-16 code units, as JavaScript's ``sort``.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping
from typing import Any

from pyld import jsonld  # type: ignore[import-untyped]
from pyld.canon import URDNA2015  # type: ignore[import-untyped]

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
_LITERAL_ESCAPES = {
    **{chr(n): f"\\u{n:04X}" for n in [*range(0x20), 0x7F]},
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
    '"': '\\"',
    "\\": "\\\\",
}
"""RDFC-1.0 canonical N-Quads literals: ECHAR for these, UCHAR for the other controls."""
_LITERAL = str.maketrans(_LITERAL_ESCAPES)
_IRI = str.maketrans({c: f"\\u{ord(c):04X}" for c in [*map(chr, range(0x21)), *'<>"{}|^`\\']})
"""Characters an IRI in canonical N-Quads carries as UCHAR."""

Quad = dict[str, Any]


def utf16_order(text: str) -> bytes:
    """Sort key of JavaScript's default ``Array.prototype.sort`` (UTF-16 code units)."""
    return text.encode("utf-16-be")


def _term(component: dict[str, Any]) -> str:
    if component["type"] == "IRI":
        return "<" + str(component["value"]).translate(_IRI) + ">"
    return str(component["value"])


def serialize_quad(quad: Quad) -> str:
    """One N-Quad line (with its ``\\n``) of a PyLD quad (``subject``, ``predicate``,
    ``object``, optional ``name``)."""
    obj = quad["object"]
    if obj["type"] == "literal":
        text = '"' + str(obj["value"]).translate(_LITERAL) + '"'
        if obj.get("datatype") == LANG_STRING:
            text += "@" + str(obj.get("language", ""))
        elif obj.get("datatype", XSD_STRING) != XSD_STRING:
            text += "^^" + _term({"type": "IRI", "value": obj["datatype"]})
    else:
        text = _term(obj)
    line = f"{_term(quad['subject'])} {_term(quad['predicate'])} {text}"
    name = quad.get("name")
    if name is not None:
        line += " " + _term(name)
    return line + " .\n"


def to_dataset(document: Any, options: dict[str, Any]) -> dict[str, list[Quad]]:
    """PyLD's RDF dataset of a JSON-LD document (graph name → triples)."""
    dataset: dict[str, list[Quad]] = jsonld.to_rdf(document, options)
    return dataset


def quads_of(dataset: dict[str, list[Quad]]) -> list[Quad]:
    """Every quad of a dataset, each with its graph as ``name`` (none for the default)."""
    out: list[Quad] = []
    for graph, triples in dataset.items():
        for triple in triples:
            quad = dict(triple)
            if graph != "@default":
                kind = "blank node" if graph.startswith("_:") else "IRI"
                quad["name"] = {"type": kind, "value": graph}
            out.append(quad)
    return out


class _Rdfc10(URDNA2015):  # type: ignore[misc]
    """PyLD's RDFC-1.0 with first-degree hashes over our N-Quads text."""

    def hash_first_degree_quads(self, id_: str) -> str:
        info = self.blank_node_info[id_]
        if "hash" not in info:
            lines = []
            for quad in info["quads"]:
                marked = {
                    key: part
                    if key == "predicate" or part["type"] != "blank node"
                    else {**part, "value": "_:a" if part["value"] == id_ else "_:z"}
                    for key, part in quad.items()
                }
                lines.append(serialize_quad(marked))
            lines.sort(key=utf16_order)
            info["hash"] = hashlib.sha256("".join(lines).encode()).hexdigest()
        return str(info["hash"])


def canonical_dataset(dataset: dict[str, list[Quad]]) -> tuple[list[Quad], dict[str, str]]:
    """The quads of ``dataset`` with their blank nodes canonically labelled (``_:c14nN``), and
    the issued labels (input ``_:x`` → ``_:c14nN``)."""
    algorithm = _Rdfc10()
    quads = quads_of(copy.deepcopy(dataset))
    # PyLD relabels the quads it is given in place (step 7); its own text is not used.
    algorithm.main({"@default": quads}, {"format": "application/n-quads"})
    issued: dict[str, str] = dict(algorithm.canonical_issuer.existing)
    return list(algorithm.quads), issued


def canonical_quads(dataset: dict[str, list[Quad]]) -> tuple[list[str], dict[str, str]]:
    """The canonical N-Quads (sorted) and the issued labels (input ``_:x`` → ``_:c14nN``)."""
    quads, issued = canonical_dataset(dataset)
    return sorted((serialize_quad(q) for q in quads), key=utf16_order), issued


def relabelled(quad: Quad, labels: Mapping[str, str]) -> Quad:
    """``quad`` with each blank node (subject, object, graph name) renamed: ``labels`` maps a
    label to its new one, both without ``_:``. Terms are renamed, never text, so a literal
    that happens to contain ``_:`` stays as it is."""
    return {
        key: {**part, "value": "_:" + labels[str(part["value"])[2:]]}
        if key != "predicate" and isinstance(part, dict) and part.get("type") == "blank node"
        else part
        for key, part in quad.items()
    }

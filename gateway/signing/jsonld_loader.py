"""A JSON-LD document loader that never touches the network.

::

    loader = static_loader(home)             # W3C contexts + TrustVC's installed contexts
    jsonld.expand(doc, {"documentLoader": loader})

The W3C contexts (credentials v2, data integrity v2, multikey v1, DID v1) are package data
(``gateway/signing/contexts/``, see its ``SOURCES.md``); TrustVC's contexts
(``https://trustvc.io/context/…``) are the official artefact set ``trustvc-context`` installed
in the data home. Any other URL is refused with :class:`UnknownContextError` naming it: a
credential that needs a context the gateway does not know cannot be checked or signed.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from pyld.context_resolver import ContextResolver  # type: ignore[import-untyped]

from gateway.artefacts import require_files
from gateway.errors import InputError

TRUSTVC_SET = ("trustvc-context", "w3c-064b5dd")
"""The artefact set (name, version) holding TrustVC's contexts."""

W3C_CONTEXTS = {
    "https://www.w3.org/ns/credentials/v2": "credentials-v2.json",
    "https://w3id.org/security/data-integrity/v2": "data-integrity-v2.json",
    "https://w3id.org/security/multikey/v1": "multikey-v1.json",
    "https://www.w3.org/ns/did/v1": "did-v1.json",
}
TRUSTVC_CONTEXTS = {
    f"https://trustvc.io/context/{name}.json": f"w3c-context/trustvc.io.context.{name}.json"
    for name in (
        "bill-of-lading",
        "bill-of-lading-carrier",
        "transferable-records-context",
        "render-method-context-v2",
        "attachments-context",
    )
}


class UnknownContextError(InputError):
    """A JSON-LD document names a context URL the static loader does not serve."""

    code = "jsonld-context"


class DocumentLoader:
    """A PyLD document loader over a fixed set of contexts, with its own resolved-context
    cache (every document it serves is tagged ``static``, so PyLD processes each once)."""

    def __init__(self, contexts: dict[str, Any]) -> None:
        self.contexts = contexts
        self.resolved: dict[str, Any] = {}

    def __call__(self, url: str, options: Any = None) -> dict[str, Any]:
        document = self.contexts.get(url)
        if document is None:
            raise UnknownContextError(
                f"JSON-LD context {url!r} is not known to this gateway (it never fetches "
                f"contexts); known: {', '.join(sorted(self.contexts))}",
                field="@context",
                rule="jsonld.unknown-context",
            )
        return {"contextUrl": None, "documentUrl": url, "document": document, "tag": "static"}

    def options(self) -> dict[str, Any]:
        """PyLD options using this loader and its cache (base: none)."""
        return {
            "documentLoader": self,
            "contextResolver": ContextResolver(self.resolved, self),
            "base": None,
        }


@lru_cache(maxsize=8)
def _w3c(name: str) -> Any:
    text = resources.files("gateway.signing").joinpath("contexts", name).read_text("utf-8")
    return json.loads(text)


@lru_cache(maxsize=8)
def _installed(home: Path) -> dict[str, Any]:
    paths = require_files(*TRUSTVC_SET, list(TRUSTVC_CONTEXTS.values()), home)
    return {
        url: json.loads(path.read_text(encoding="utf-8"))
        for url, path in zip(TRUSTVC_CONTEXTS, paths, strict=True)
    }


def known_contexts(home: Path) -> dict[str, Any]:
    """Every context the loader serves, by URL (parsed JSON)."""
    found = {url: _w3c(name) for url, name in W3C_CONTEXTS.items()}
    found.update(_installed(home.resolve()))
    return found


@lru_cache(maxsize=8)
def _loader(home: Path) -> DocumentLoader:
    return DocumentLoader(known_contexts(home))


def static_loader(home: Path) -> DocumentLoader:
    """The document loader over :func:`known_contexts` of ``home`` (one per process and
    home); unknown URLs raise :class:`UnknownContextError`."""
    return _loader(home.resolve())

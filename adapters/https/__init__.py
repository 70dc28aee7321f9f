"""The https adapter: POST the signed document to a counterpart over (mutual) TLS.

This is the Hong Kong counterpart route. See :class:`HttpsAdapter`.
"""

from __future__ import annotations

from adapters.https.adapter import HttpsAdapter, HttpsOptions
from gateway.signing.jws import MESSAGE_ID_HEADER, SIGNATURE_HEADER, DetachedJwsSigner

__all__ = [
    "MESSAGE_ID_HEADER",
    "SIGNATURE_HEADER",
    "DetachedJwsSigner",
    "HttpsAdapter",
    "HttpsOptions",
]

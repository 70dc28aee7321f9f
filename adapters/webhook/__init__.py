"""The webhook adapter: hand received documents to the local system as a signed JSON POST.
See :class:`WebhookAdapter` and :func:`verify_signature`."""

from __future__ import annotations

from adapters.webhook.adapter import (
    SIGNATURE_HEADER,
    WebhookAdapter,
    WebhookOptions,
    sign_body,
    verify_signature,
)

__all__ = ["SIGNATURE_HEADER", "WebhookAdapter", "WebhookOptions", "sign_body", "verify_signature"]

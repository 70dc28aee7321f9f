"""Which of the gateway's eBL platforms (``dcsa_pint`` adapters) a tenant operates."""

from __future__ import annotations

from aiohttp import web

from adapters.dcsa_pint.platform import PintPlatform
from gateway.api.context import services


def operated_platform(request: web.Request, tenant_id: str) -> PintPlatform | None:
    """The eBL platform whose ``dcsa_pint`` adapter names ``tenant_id`` in ``tenants``, or
    ``None``: only its operators issue and transfer eBLs and see its registry, each for the
    parties it acts for (:class:`~adapters.dcsa_pint.platform.PintPlatform`'s ``may_read``,
    ``may_act``, ``may_issue``)."""
    adapters = services(request).adapters
    for name in adapters.names():
        platform = getattr(adapters.get(name), "platform", None)
        if isinstance(platform, PintPlatform) and tenant_id in platform.options.tenants:
            return platform
    return None

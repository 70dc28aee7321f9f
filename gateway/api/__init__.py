"""The HTTP API (aiohttp): documents, partner directory, health, metrics, OpenAPI.

Build it with :func:`create_app` (services opened by the caller); see :mod:`gateway.api.app`.
"""

from gateway.api.app import HEADER_LIMITS, create_app
from gateway.api.context import ApiOptions, ApiServices
from gateway.api.server import api_runner

__all__ = ["HEADER_LIMITS", "ApiOptions", "ApiServices", "api_runner", "create_app"]

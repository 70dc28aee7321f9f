"""The country codes a Peppol SBDH may name as ``COUNTRY_C1``.

The Peppol Business Message Envelope asks for the ISO 3166-1 alpha-2 code of C1's country
(:data:`~gateway.model.countries.ISO_3166_ALPHA2`, every assigned code). The Peppol
country code list (``openpeppol-peppol-bis-invoice-3/structure/codelist/ISO3166-1_Alpha2.xml``, the same rows as
PINT's ``ISO3166.gc``) adds :data:`PEPPOL_EXTRA_COUNTRIES`: ``1A`` (Kosovo) and ``XI`` (United
Kingdom, Northern Ireland).
"""

from __future__ import annotations

from gateway.model.countries import ISO_3166_ALPHA2

PEPPOL_EXTRA_COUNTRIES = frozenset({"1A", "XI"})
"""Codes the Peppol country code list allows beyond ISO 3166-1: Kosovo, Northern Ireland."""
COUNTRY_C1_CODES = ISO_3166_ALPHA2 | PEPPOL_EXTRA_COUNTRIES
"""What ``COUNTRY_C1`` may be."""

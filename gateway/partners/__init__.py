"""The partner directory: facts a fapiao lacks (buyer endpoint, country, address, profile,
currency) and the exporters' own Peppol identities."""

from gateway.partners.directory import (
    COUNTRY_CODES,
    PROFILES,
    BankAccount,
    Exporter,
    Partner,
    PartnerDirectory,
)

__all__ = ["COUNTRY_CODES", "PROFILES", "BankAccount", "Exporter", "Partner", "PartnerDirectory"]

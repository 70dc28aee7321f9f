"""Whose the SBDH ``Sender`` and ``Receiver`` of an invoice or credit note must be: the
Peppol enveloping rules (Peppol BIS Billing 3.0 ``BR-SBDH-1..4``, PINT's enveloping compliance).

:func:`enveloped_parties` says which documents they cover and which of their parties each
SBDH element must be; :func:`required_endpoint` holds what we send to it (before anything is
sent), :func:`check_envelope_parties` what we receive; :func:`c1_country` is the sending
party's country, the SBDH ``COUNTRY_C1``.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters.peppol.document_facts import (
    CII_ENDPOINTS,
    INVOICE_ROOTS,
    UBL_ENDPOINTS,
    DocumentFacts,
)
from adapters.peppol.identifiers import ParticipantId
from gateway.errors import FieldError
from gateway.mapping.profiles import (
    BIS3_CUSTOMIZATION,
    BIS3_SELFBILLING_CUSTOMIZATION,
    PINT_CUSTOMIZATION,
    PINT_FAMILY,
)
from gateway.mapping.profiles import BIS3_PROCESS as BIS3_BILLING_PROCESS

BIS3_BILLING_PROFILES = frozenset({BIS3_BILLING_PROCESS, "urn:peppol:bis:billing_with_response"})
"""The BIS Billing 3.0 processes (``ProfileID``) the enveloping rules BR-SBDH-1/2 cover, with
its ``CustomizationID`` (:data:`BIS3_CUSTOMIZATION`): not the France ones, for instance."""
BIS3_SELFBILLING_PROCESS = "urn:fdc:peppol.eu:2017:poacc:selfbilling:01:1.0"
PINT_SELFBILLING = f"{PINT_FAMILY}selfbilling-1"
SENDER_ENDPOINT_RULE = "peppol.sbdh.sender-endpoint"
RECEIVER_ENDPOINT_RULE = "peppol.sbdh.receiver-endpoint"


@dataclass(frozen=True, slots=True)
class EnvelopeParty:
    """A party of a document whose electronic address the SBDH ``Sender`` or ``Receiver`` must
    be (see :func:`enveloped_parties`)."""

    kind: str
    """``Sender`` or ``Receiver`` (the SBDH element)."""
    role: str
    """``seller`` or ``buyer``."""
    participant: ParticipantId | None
    """Its electronic address in the document (``None``: the document names none)."""
    path: str
    """Where the document names it."""
    country: str
    """Its country in the document (BT-40 / BT-55, upper case; ``""``: the document names
    none)."""
    source: str
    """The rule that asks for it (BR-SBDH-n, or PINT's enveloping compliance)."""

    @property
    def rule(self) -> str:
        return SENDER_ENDPOINT_RULE if self.kind == "Sender" else RECEIVER_ENDPOINT_RULE


def _is_pint(customization: str, family: str) -> bool:
    return customization == family or customization.startswith(f"{family}@")


def enveloped_parties(facts: DocumentFacts) -> tuple[EnvelopeParty, EnvelopeParty] | None:
    """The parties an invoice or credit note's SBDH ``Sender`` and ``Receiver`` must be, by
    the Peppol enveloping rules; ``None`` for a document they do not cover.

    * Peppol BIS Billing 3.0 (the ``sbdh-peppol`` rules of its upcoming release, all fatal):
      an enveloped BIS invoice or credit note has as SBDH ``Receiver/Identifier`` its buyer's
      ``Party/EndpointID``, scheme included (BR-SBDH-1), and as ``Sender/Identifier`` its
      seller's (BR-SBDH-2) — for ``CustomizationID`` :data:`BIS3_CUSTOMIZATION` with a
      ``ProfileID`` of :data:`BIS3_BILLING_PROFILES`; a self-billed one (``…selfbilling:3.0``
      with ``…selfbilling:01:1.0``) the other way round: Receiver the seller (BR-SBDH-3),
      Sender the buyer (BR-SBDH-4). The published Schematron binds the UBL syntax; the BIS 3
      CII invoice carries the same business terms (BT-34 / BT-49, its parties'
      ``URIUniversalCommunication``) and is held to the same rule.
    * PINT: the compliance chapter of PINT based BIS ("Enveloping compliance", as published
      with PINT self-billing; the BIS 3 guide's draft of it is worded the same) has the SBDH
      Sender and Receiver identifiers match the sender and the receiver party's
      ``EndpointID`` with its scheme. Applied to every PINT billing specialisation
      (``urn:peppol:pint:billing-1``, ``…@sg-1`` …) and, the other way round, to PINT
      self-billing (``urn:peppol:pint:selfbilling-1…``), whose sender is the buyer.

    Not covered: documents that are no invoice or credit note (Peppol reports, MLS), other
    ``CustomizationID`` / ``ProfileID`` pairs, and documents that carry none."""
    if (facts.root_namespace, facts.local_name) not in INVOICE_ROOTS:
        return None
    customization, process = facts.customization_id, facts.profile_id
    if customization == BIS3_CUSTOMIZATION and process in BIS3_BILLING_PROFILES:
        sources, self_billing = ("BR-SBDH-2", "BR-SBDH-1"), False
    elif customization == BIS3_SELFBILLING_CUSTOMIZATION and process == BIS3_SELFBILLING_PROCESS:
        sources, self_billing = ("BR-SBDH-4", "BR-SBDH-3"), True
    elif _is_pint(customization, PINT_CUSTOMIZATION):
        sources, self_billing = ("PINT enveloping compliance",) * 2, False
    elif _is_pint(customization, PINT_SELFBILLING):
        sources, self_billing = ("PINT self-billing enveloping compliance",) * 2, True
    else:
        return None
    endpoints = CII_ENDPOINTS if facts.is_cii else UBL_ENDPOINTS
    seller_path, buyer_path = endpoints.values()
    seller = ("seller", facts.supplier, seller_path, facts.seller_country)
    buyer = ("buyer", facts.customer, buyer_path, facts.buyer_country)
    sender, receiver = (buyer, seller) if self_billing else (seller, buyer)
    return (
        EnvelopeParty("Sender", *sender, source=sources[0]),
        EnvelopeParty("Receiver", *receiver, source=sources[1]),
    )


def c1_country(facts: DocumentFacts) -> str:
    """The country of C1, the sending end user, as the document names it (``""``: it names
    none), for the SBDH ``COUNTRY_C1`` (Peppol Business Message Envelope 2.0, mandatory: the
    country code of C1). C1 is the party the enveloping rules make the SBDH ``Sender``
    (:func:`enveloped_parties`): the seller of an invoice or credit note, the buyer of a
    self-billed one (BIS 3 self-billing BR-SBDH-4, PINT self-billing), whose country is
    ``AccountingCustomerParty/Party/PostalAddress/Country/IdentificationCode`` (CII
    ``BuyerTradeParty/PostalTradeAddress/CountryID``). A document the rules do not cover keeps
    its seller's country, if it names one."""
    parties = enveloped_parties(facts)
    return parties[0].country if parties is not None else facts.seller_country


def required_endpoint(party: EnvelopeParty, given: ParticipantId | None) -> ParticipantId:
    """The document's electronic address for ``party``; :class:`FieldError` (before anything is
    sent) when the document names none or ``given`` is another participant."""
    rule_text = (
        f"{party.source}: the SBDH {party.kind}/Identifier SHALL match the {party.role}'s "
        f"electronic address in the document, {party.path} with its schemeID"
    )
    if party.participant is None:
        raise FieldError(
            f"the document names no {party.role} electronic address ({party.path}); {rule_text}",
            field=party.path,
            rule=party.rule,
        )
    if given is not None and not given.same_as(party.participant):
        raise FieldError(
            f"the SBDH {party.kind} would be {given}, but the document's {party.role} is "
            f"{party.participant}; {rule_text}",
            field=party.path,
            rule=party.rule,
        )
    return party.participant


def check_envelope_parties(
    sender: ParticipantId, receiver: ParticipantId, facts: DocumentFacts
) -> None:
    """A received SBDH's ``Sender`` and ``Receiver`` must be the payload's parties where the
    Peppol enveloping rules say so (:func:`enveloped_parties`); :class:`FieldError` on the
    SBDH element otherwise (values compared as participant identifiers: case-insensitively,
    Peppol Policy for use of Identifiers)."""
    parties = enveloped_parties(facts)
    if parties is None:
        return
    for party, said in zip(parties, (sender, receiver), strict=True):
        if party.participant is None or not said.same_as(party.participant):
            named = party.participant or f"none ({party.path} is missing)"
            raise FieldError(
                f"the SBDH {party.kind} {said} is not the payload's {party.role} "
                f"({party.path}: {named}); {party.source}: the SBDH {party.kind}/Identifier "
                f"SHALL match the {party.role}'s electronic address, with its schemeID",
                field=f"StandardBusinessDocumentHeader/{party.kind}/Identifier",
                rule=party.rule,
            )

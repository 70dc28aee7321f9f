"""This gateway as a PINT platform: issue, transfer and read the history of eBLs.

Several tenants may operate one platform, each acting for its own parties
(:meth:`PintOptions.acts_for`, the adapter's ``tenants`` table): given the tenant, a method
finds only the eBLs one of its parties takes part in (carrier, possessor, holder, an actor
or recipient of the chain; anything else is "no such eBL"), issues only for a carrier it
acts for, and transfers, endorses or surrenders only an eBL whose acting party (its
possessor) it acts for (:class:`~gateway.errors.NotPermittedError` otherwise). The registry
is the platform's, so this scoping, not the store, keeps one tenant from another's eBLs.

What a sender does before the network: check the transport document against the official
schema, sign the new chain entry and the manifest, replay the title rules over the whole
chain (a transfer the receiver would refuse is refused here first, naming the rule), then
lock the eBL and queue the ``transfer`` job in one transaction
(:meth:`~gateway.store.ebl.EblRegistry.begin_transfer`). What a receiver does is in
:mod:`adapters.dcsa_pint.receiver`; both verify with :func:`gateway.pint.chain.verify_envelope`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.dcsa_pint.options import MAX_PARTY_NAME, PintOptions
from adapters.dcsa_pint.receiver_check import ValidateReceiver
from gateway.errors import FieldError, InputError, NotPermittedError, VerificationError
from gateway.pint import build
from gateway.pint.chain import VerifiedEnvelope, claimed_time, verify_envelope
from gateway.pint.checksums import bytes_checksum, document_checksum, jws_checksum
from gateway.pint.codes import (
    NEEDS_RECIPIENT,
    SURRENDER_ANSWERS,
    SURRENDERS,
    ActionCode,
    PintRejection,
    ResponseCode,
)
from gateway.pint.schema import EnvelopeSchema, load_schema
from gateway.pint.stored import chain_title, entry_payload, issued_visualisation
from gateway.pint.title import Party, Title
from gateway.shown_text import (
    check_identifier,
    check_name,
    describe,
    unsafe_in_identifier,
    unsafe_in_name,
)
from gateway.signing.jose import split_compact, verify_compact
from gateway.store import ConflictError, NotFoundError
from gateway.store.ebl import (
    NOT_HELD,
    CarriedDocument,
    EblRegistry,
    NewTitle,
    Outbound,
    TitleRecord,
)
from gateway.store.ebl_idempotency import Remembered
from gateway.store.ledger_records import Enclosure, TransferAssessor

log = logging.getLogger("lingang.pint")

JWKS_REFRESH_SECONDS = 60.0
"""A partner's published JWKS is fetched again at most this often (on an unknown kid)."""

FetchJwks = Callable[[str, str], Awaitable[dict[str, Any]]]
"""``(platform, url) -> JWKS document`` (an empty key set when it cannot be fetched)."""


SETTLED = (
    "accepted: the eBL came back in an envelope that continues this transfer's chain before "
    "the receiving platform's signed answer was recorded (it is fetched and kept next)"
)
"""The reason a transfer settled by the eBL's return shows until its acknowledgement comes."""
LIST_BATCH = 200
"""How many registry rows :meth:`PintPlatform.listing` reads at a time while it looks for
the eBLs a tenant may read."""
MAX_MEDIA_TYPE = 100
"""Longest ``mediaType`` DCSA's ``DocumentMetadata`` allows."""
WITHOUT_RECIPIENT = frozenset({ActionCode.SIGN, ActionCode.BLANK_ENDORSE})
"""Actions with no designated recipient: recorded on this (the possessor's) platform."""
DOCUMENT_NAME = re.compile(r"\S(?:.*\S)?")
"""DCSA's ``DocumentMetadata.name`` (``^\\S(?:.*\\S)?$``, whole): not empty, no white space at
either end, no line break."""


@dataclass(frozen=True, slots=True)
class DocumentLimit:
    """The largest document a platform sends or takes (``bytes``), and the setting that says
    so (``adapters.NAME.max_document_bytes``, for messages)."""

    bytes: int
    setting: str


@dataclass(frozen=True, slots=True)
class Attachment:
    """A supporting document (or the carrier's visualisation) to send with an eBL."""

    name: str
    data: bytes
    media_type: str = "application/pdf"

    def check(self, where: str, limit: DocumentLimit | None = None) -> Attachment:
        """This attachment, if its ``DocumentMetadata`` would be what DCSA's schema allows and
        it is no larger than ``limit``; else a :class:`FieldError` naming ``where`` (the
        receiver would refuse the envelope)."""
        if not self.data:
            raise FieldError(
                f"{where} ({self.name[:100]!r}) is empty: DCSA PINT sends a document of at "
                "least 1 byte (DocumentMetadata.size minimum 1)",
                field=where,
                rule="dcsa.DocumentMetadata.size",
            )
        if limit is not None and len(self.data) > limit.bytes:
            raise FieldError(
                f"{where} is {len(self.data)} bytes; the limit is {limit.bytes} bytes "
                f"({limit.setting})",
                field=where,
                rule="max-document-bytes",
            )
        check_name(self.name, where, "a document's name")
        if not DOCUMENT_NAME.fullmatch(self.name):
            raise FieldError(
                f"{where} name {self.name[:100]!r} must be non-empty without white space at "
                "either end (DCSA DocumentMetadata.name)",
                field=where,
                rule="dcsa.DocumentMetadata.name",
            )
        if not self.media_type or len(self.media_type) > MAX_MEDIA_TYPE:
            raise FieldError(
                f"{where} media type must be 1 to {MAX_MEDIA_TYPE} characters (DCSA "
                "DocumentMetadata.mediaType)",
                field=where,
                rule="dcsa.DocumentMetadata.mediaType",
            )
        return self

    def carried(self) -> CarriedDocument:
        """The document as the eBL carries it from now on."""
        return CarriedDocument(
            bytes_checksum(self.data), self.name, self.media_type, len(self.data)
        )


@dataclass(frozen=True, slots=True)
class Outgoing:
    """The additional documents of one envelope transfer."""

    supporting: list[dict[str, Any]]
    """``DocumentMetadata`` of the supporting documents (``supportingDocuments``)."""
    visualisation: dict[str, Any] | None
    """``DocumentMetadata`` of the carrier's visualisation (``eBLVisualisationByCarrier``)."""
    attached: list[CarriedDocument]
    """The documents attached here to this transfer (the eBL carries them from now on)."""

    @property
    def checksums(self) -> list[str]:
        """Every document the receiver may ask for."""
        return [e.checksum for e in self.enclosures]

    @property
    def enclosures(self) -> list[Enclosure]:
        """Every document announced, as the export gate sees it: each may leave."""
        found = [(m, False) for m in self.supporting]
        if self.visualisation is not None:
            found.append((self.visualisation, True))
        return [
            Enclosure(m["name"], m["documentChecksum"], m["mediaType"], m["size"], visualisation=v)
            for m, v in found
        ]


MAX_PARTY_CODE = 150
"""Longest ``partyCode`` DCSA's schemas allow."""


def parse_party(text: str, *, name: str = "") -> Party:
    """``PLATFORM:CODE`` (a party code issued by that platform) as a :class:`Party` named
    ``name`` (else its code): a ``partyName`` DCSA's schemas allow (``^\\S(?:.*\\S)?$``, at
    most 70 characters), else a :class:`FieldError` naming ``name``. A chain entry carrying
    another would be refused by the receiving platform (BENV) after the eBL was locked, and,
    recorded here, would make every later envelope of the eBL refused."""
    check_identifier(text, "to", "a platform and party code")
    check_name(name, "name", "a party's name")
    platform, sep, code = text.partition(":")
    if not sep or not platform or not code or len(platform) > 4:
        raise FieldError(f"{text[:60]!r} is not PLATFORM:PARTY (e.g. IQAX:HK-TRADER)", field="to")
    if len(code) > MAX_PARTY_CODE:
        raise FieldError(
            f"the party code is {len(code)} characters, more than DCSA's {MAX_PARTY_CODE}",
            field="to",
        )
    if len(name) > MAX_PARTY_NAME:
        raise FieldError(
            f"the party name is {len(name)} characters, more than DCSA's {MAX_PARTY_NAME}",
            field="name",
            rule="dcsa.partyName",
        )
    if name and not DOCUMENT_NAME.fullmatch(name):
        raise FieldError(
            f"the party name {name[:70]!r} must not start or end with white space nor break "
            "a line (DCSA partyName)",
            field="name",
            rule="dcsa.partyName",
        )
    if not name and (len(code) > MAX_PARTY_NAME or not DOCUMENT_NAME.fullmatch(code)):
        raise FieldError(
            f"the party code {code[:60]!r} cannot stand as its name (a DCSA partyName has "
            f"at most {MAX_PARTY_NAME} characters, no white space at either end): give name",
            field="name",
            rule="dcsa.partyName",
        )
    return Party(platform, name or code, frozenset({(platform, code)}))


def _acting(entry: str) -> str:
    """The exporter of a transfer: the party acting in its last chain entry
    (``PLATFORM:provider/code``), the carrier for an issue."""
    transactions = entry_payload(entry).get("transactions") or [{}]
    actor = transactions[-1].get("actor") or {}
    codes = actor.get("identifyingCodes") or [{}]
    first = min((str(c.get("codeListProvider", "")), str(c.get("partyCode", ""))) for c in codes)
    return f"{actor.get('eblPlatform', '')}:{first[0]}/{first[1]}"


def _last_transaction(verified: VerifiedEnvelope) -> str:
    """Where the last transaction of a verified envelope is (``envelopeTransferChain[i]
    .transactions[j]``)."""
    last = len(verified.entries) - 1
    transactions = verified.entries[last].get("transactions") or [None]
    return f"envelopeTransferChain[{last}].transactions[{len(transactions) - 1}]"


class PintPlatform:
    """One PINT platform: its keys, its registry and the adapter that sends for it."""

    def __init__(
        self,
        options: PintOptions,
        registry: EblRegistry,
        adapter: str,
        *,
        fetch_jwks: FetchJwks | None = None,
        export_gate: TransferAssessor | None = None,
        validate_receiver: ValidateReceiver | None = None,
    ) -> None:
        self.options = options
        self.registry = registry
        self.export_gate = export_gate
        """The cross-border data gate every transfer out of this platform passes."""
        self.adapter = adapter
        self.schema: EnvelopeSchema = load_schema(options.envelope_schema)
        self._fetch_jwks = fetch_jwks
        self._fetched: dict[str, float] = {}
        self._validate_receiver = validate_receiver

    @property
    def document_limit(self) -> DocumentLimit:
        """The largest document this platform sends: its ``max_document_bytes``."""
        return DocumentLimit(
            self.options.max_document_bytes, f"adapters.{self.adapter}.max_document_bytes"
        )

    async def refresh_keys(self) -> bool:
        """Fetch the JWKS of every partner that publishes one (each at most once per
        :data:`JWKS_REFRESH_SECONDS`); ``True`` if any was fetched."""
        if self._fetch_jwks is None:
            return False
        fetched = False
        now = time.monotonic()
        for partner in self.options.partners.values():
            last = self._fetched.get(partner.code)
            if partner.jwks_url is None or (last is not None and now - last < JWKS_REFRESH_SECONDS):
                continue
            self._fetched[partner.code] = now
            document = await self._fetch_jwks(partner.code, partner.jwks_url)
            try:
                self.options.keys.add_jwks(document, partner.code)
            except VerificationError as exc:
                log.warning(
                    "partner JWKS refused", extra={"platform": partner.code, "error": exc.message}
                )
                continue
            fetched = True
        return fetched

    async def verify_fetching(self, envelope: Any) -> VerifiedEnvelope:
        """:meth:`verify`, fetching partners' published keys once when a key is unknown."""
        try:
            return await self.verify_async(envelope)
        except PintRejection as exc:
            if "unknown signing key" in exc.message and await self.refresh_keys():
                return await self.verify_async(envelope)
            raise

    async def verify_async(self, envelope: Any) -> VerifiedEnvelope:
        """:meth:`verify`, in a thread when x5c revocation may ask OCSP responders or fetch
        CRLs (blocking network calls stay off the event loop)."""
        trust = self.options.keys.trust
        if trust is not None and trust.revocation is not None:
            return await asyncio.to_thread(self.verify, envelope)
        return self.verify(envelope)

    @property
    def code(self) -> str:
        return self.options.platform

    def verify(self, envelope: Any) -> VerifiedEnvelope:
        """Verify a received envelope for this platform (raises ``PintRejection``).

        The party the envelope is for (the last transaction's recipient) must be known here,
        by the receiver-validation rule (:meth:`PintOptions.party_name`); an unknown
        transferee is ``BENV``.

        A chain guarded by a control tracking registry is refused (``BENV``): such a transfer
        is valid only once the registry records it, and this platform has no registry client
        to record it with, so accepting it would assert a title the registry may deny."""
        verified = verify_envelope(
            envelope,
            keys=self.options.keys,
            carriers=self.options.carriers,
            platform=self.code,
            schema=self.schema,
        )
        self._check_recipient_known(verified)
        _check_shown_text(verified)
        registry = verified.entries[0].get("controlTrackingRegistry")
        if registry is not None:
            raise PintRejection(
                f"the transfers of this eBL are guarded by the control tracking registry "
                f"{str(registry)[:200]!r}, which platform {self.code} does not use",
                response=ResponseCode.BENV,
                field="envelopeTransferChain[0].controlTrackingRegistry",
            )
        return verified

    def _check_recipient_known(self, verified: VerifiedEnvelope) -> None:
        """Refuse (``BENV``) an envelope for a party this platform does not know."""
        recipient = verified.recipient
        if not self.options.knows(recipient):
            where = _last_transaction(verified)
            raise PintRejection(
                f"{where}: the recipient {recipient.label()} is not a party of platform "
                f"{self.code} (the transferee is unknown here)",
                response=ResponseCode.BENV,
                field=f"{where}.recipient",
            )

    def check_document(self, document: Any) -> dict[str, Any]:
        """A transport document the official schema allows (an ``InputError`` naming the path)."""
        if not isinstance(document, dict):
            raise InputError("the transport document is not a JSON object", field="$")
        try:
            self.schema.check_payload("TransportDocument", document)
        except PintRejection as exc:
            raise FieldError(exc.message, field=exc.field, rule="dcsa.schema") from exc
        reference = document["transportDocumentReference"]
        check_identifier(reference, "$.transportDocumentReference", "an eBL reference")
        return document

    # -- who may do what ---------------------------------------------------------------

    def may_issue(self, tenant_id: str) -> bool:
        """Whether ``tenant_id`` acts for the carrier this platform issues for."""
        carrier = self.options.carrier
        return carrier is not None and self.options.acts_for(tenant_id, carrier)

    def may_read(self, tenant_id: str, record: TitleRecord) -> bool:
        """Whether a party ``tenant_id`` acts for takes part in the eBL: its carrier,
        possessor, holder or surrender requester, or an actor or recipient in its chain."""
        return any(self.options.acts_for(tenant_id, p) for p in _parties(record))

    def may_act(self, tenant_id: str, record: TitleRecord) -> bool:
        """Whether ``tenant_id`` acts for the eBL's possessor (who alone transfers,
        endorses or surrenders it)."""
        possessor = _title_fields(record.title)["possessor"]
        return bool(self.options.acts_for(tenant_id, possessor))

    async def find(self, key: str, tenant_id: str | None = None) -> TitleRecord:
        """The eBL ``key`` names (checksum or reference: the newest); given ``tenant_id``,
        the newest one it may read. :class:`NotFoundError` when there is none (another
        tenant's eBL looks exactly like a missing one)."""
        found = await self.registry.find_all(key)
        if tenant_id is not None:
            found = [r for r in found if self.may_read(tenant_id, r)]
        if not found:
            raise NotFoundError(f"no eBL {key!r} in the registry", field="reference")
        return found[-1]

    async def listing(
        self,
        tenant_id: str | None = None,
        *,
        state: str | None = None,
        before: datetime | None = None,
        before_checksum: str | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        """Up to ``limit`` eBLs of the registry, most recently changed first, each with its
        state here, who possesses and who holds it, and whether it may be transferred from
        here now (``mayTransfer``: held here and, given ``tenant_id``, possessed by a party
        it acts for); given ``tenant_id``, only those it may read (:meth:`may_read`).
        ``state`` filters, ``before`` pages (changed before that time, or at it with a
        checksum below ``before_checksum``: the page after the last eBL seen, its
        ``updatedAt`` and ``transportDocumentChecksum``). An eBL received from another
        platform is found here without knowing its reference."""
        found: list[dict[str, Any]] = []
        cursor, cursor_checksum = before, before_checksum
        while len(found) < limit:
            batch = await self.registry.titles(
                state=state, before=cursor, before_checksum=cursor_checksum, limit=LIST_BATCH
            )
            for record in batch:
                if tenant_id is None or self.may_read(tenant_id, record):
                    found.append(self._summary(record, tenant_id))
                    if len(found) == limit:
                        break
            if len(batch) < LIST_BATCH:
                break
            cursor = datetime.fromisoformat(batch[-1].updated_at)
            cursor_checksum = batch[-1].td_checksum
        return found

    def _summary(self, record: TitleRecord, tenant_id: str | None) -> dict[str, Any]:
        """One eBL as :meth:`listing` shows it."""
        title = _title_fields(record.title)
        holder, requester = title["holder"], title["surrender_requested_by"]
        may_act = tenant_id is None or self.may_act(tenant_id, record)
        return {
            "transportDocumentReference": record.reference,
            "transportDocumentChecksum": record.td_checksum,
            "state": record.state,
            "possessor": record.possessor,
            "holder": None if holder is None else holder.label(),
            "surrenderRequestedBy": None if requester is None else requester.label(),
            "mayTransfer": record.state == "held" and may_act,
            "updatedAt": record.updated_at,
        }

    # -- issuing and transferring --------------------------------------------------------

    async def issue(
        self,
        document: Any,
        *,
        to: Party,
        attachments: Sequence[Attachment] = (),
        visualisation: Attachment | None = None,
        tenant_id: str | None = None,
        remembered: Remembered | None = None,
    ) -> TitleRecord | Outbound:
        """Issue ``document`` to ``to``: held here when ``to`` is a party of this platform,
        else sent to ``to``'s platform as the first envelope transfer (``ISSUE`` first).
        The eBL carries ``attachments`` and the carrier's ``visualisation`` of it (whose
        checksum the carrier signs in the issuance manifest) from then on. Given
        ``tenant_id``, it must act for the carrier (:meth:`may_issue`). With ``remembered``,
        the answer is stored with the eBL (an idempotent request's first answer)."""
        _check_attachments(attachments, self.document_limit)
        if visualisation is not None:
            visualisation.check("visualisation", self.document_limit)
        options = self.options
        if options.carrier is None or options.carrier_signer is None:
            raise ConflictError(
                f"platform {self.code} issues for no carrier (set carrier, carrier_key)",
                field="carrier",
                rule="ebl.no-carrier",
            )
        if tenant_id is not None and not self.may_issue(tenant_id):
            raise NotPermittedError(
                f"this tenant does not act for the carrier {options.carrier.label()} of "
                f"platform {self.code}, so it cannot issue eBLs here",
                field="tenant",
                rule="pint.tenant-acts-for",
            )
        document = self.check_document(document)
        td_checksum = document_checksum(document)
        issuance = build.issuance_manifest(
            document,
            to,
            options.carrier_signer,
            visualisation=None if visualisation is None else visualisation.data,
        )
        first = build.chain_entry(
            options.signer, self.code, td_checksum,
            [build.transaction(ActionCode.ISSUE, options.carrier, to)], issuance=issuance,
        )  # fmt: skip
        title = chain_title([first], to_order=bool(document.get("isToOrder")))
        local = to.platform == self.code
        new = NewTitle(
            td_checksum=td_checksum,
            reference=str(document.get("transportDocumentReference", "")),
            state="held" if local else "sending",
            possessor=to.label() if local else options.carrier.label(),
            chain=[first],
            checksums=[jws_checksum(first)],
            title=title.as_json(),
            transport_document=document,
        )
        documents = [*attachments] if visualisation is None else [visualisation, *attachments]
        if local:
            await self._keep(documents)
            carried = [a.carried() for a in documents]
            return await self.registry.issue(new, carried, remembered=remembered)
        exporter = tenant_id if tenant_id is not None else options.tenant_for(options.carrier)
        return await self._send(
            new.td_checksum, None, document, [first], title, to, documents, exporter,
            issue=new, remembered=remembered,
        )  # fmt: skip

    async def transfer(
        self,
        key: str,
        *,
        to: Party | None,
        action: ActionCode = ActionCode.TRANSFER,
        actor: Party | None = None,
        attachments: Sequence[Attachment] = (),
        forward_documents: bool = False,
        tenant_id: str | None = None,
        remembered: Remembered | None = None,
        reason_code: str | None = None,
        comments: str = "",
    ) -> Outbound | TitleRecord:
        """Transfer (or endorse, or surrender, or answer a surrender) a held eBL to ``to``.

        The transaction carries ``comments`` for the recipient, and a
        ``SURRENDER_FOR_AMENDMENT`` its ``reason_code`` (:func:`check_remarks`).

        To a party of another platform the eBL is locked and an envelope transfer queued
        (:class:`Outbound`). Its envelope announces ``attachments``, the supporting documents
        attached to the eBL here before, and the carrier's visualisation (always: PINT 3.0
        sends it unchanged with every transfer); the next platform asks for those it lacks.
        The supporting documents received with the eBL from another platform go on only with
        ``forward_documents``: PINT leaves them to the sender, and their details are "only
        privy to" the two platforms of the transfer that carried them, so a third party's
        documents do not leave again unless the sender asks.

        To a party of this platform the transaction is recorded here, at once, as the next
        signed chain entry (:class:`TitleRecord`): PINT has platforms record their internal
        transactions (endorsements and surrenders; possession transfers may be), and the
        next envelope transfer carries them. So a surrender requested by a party of the
        carrier's own platform is answered here as one from another platform is answered
        over PINT, with the same chain entries.

        ``to`` may be left out where the title implies it: a surrender goes to the issuing
        carrier, ``SACC`` / ``SREJ`` to the party that requested the surrender.

        Given ``tenant_id``, the eBL must be one it may read (else "no such eBL") and it must
        act for the party acting (the possessor, or ``actor``). With ``remembered``, the
        answer is stored with the change (an idempotent request's first answer)."""
        check_remarks(action, reason_code, comments)
        _check_attachments(attachments, self.document_limit)
        record = await self.find(key, tenant_id)
        if record.state != "held":
            raise ConflictError(
                f"eBL {record.reference} is {record.state} here: platform {self.code} has no control "
                "of it to transfer",
                field="reference",
                rule=NOT_HELD,
            )
        current = Title(**_title_fields(record.title))
        if action in WITHOUT_RECIPIENT:
            to = _kept_here(action, to, current, self.code)
        to = to or _implied_recipient(current, action)
        here = to.platform == self.code
        if here and not self.options.knows(to):
            raise FieldError(
                f"{to.label()} is not a party of platform {self.code} (its parties and carrier)",
                field="to",
            )
        acting = actor or current.possessor
        _check_not_to_itself(action, acting, to)
        if tenant_id is not None and not self.options.acts_for(tenant_id, acting):
            raise NotPermittedError(
                f"eBL {record.reference} is in the possession of {acting.label()}, for whom "
                "this tenant does not act: only the possessor's tenant transfers, endorses "
                "or surrenders it",
                field="reference",
                rule="pint.tenant-acts-for",
            )
        transaction = build.transaction(
            action,
            acting,
            None if action in WITHOUT_RECIPIENT else to,
            comments=comments,
            reason_code=reason_code,
        )
        entry = build.chain_entry(
            self.options.signer,
            self.code,
            record.td_checksum,
            [transaction],
            previous=record.chain[-1],
        )
        chain = [*record.chain, entry]
        try:
            title = chain_title(chain, to_order=bool(record.transport_document.get("isToOrder")))
        except PintRejection as exc:
            raise ConflictError(exc.message, field=exc.field, rule=exc.rule) from exc
        if here:
            await self._keep(attachments)
            return await self.registry.record_here(
                record.td_checksum,
                base_head=record.head,
                chain=chain,
                state="surrendered" if title.surrendered else "held",
                possessor=title.possessor.label(),
                title=title.as_json(),
                attached=[a.carried() for a in attachments],
                remembered=remembered,
            )
        return await self._send(
            record.td_checksum,
            record.head,
            record.transport_document,
            chain,
            title,
            to,
            attachments,
            tenant_id if tenant_id is not None else self.options.tenant_for(acting),
            forward=forward_documents,
            remembered=remembered,
        )

    async def _keep(self, attachments: Sequence[Attachment]) -> None:
        """Store the bytes of documents attached here (by checksum)."""
        for attachment in attachments:
            await self.registry.put_document(
                bytes_checksum(attachment.data), attachment.media_type, attachment.data
            )

    async def _outgoing(
        self,
        td_checksum: str,
        chain: Sequence[str],
        attachments: Sequence[Attachment],
        *,
        forward: bool,
        issue: bool,
    ) -> Outgoing:
        """The documents an envelope transfer announces: the carrier's visualisation, the
        supporting documents attached to the eBL here (and those received with it, with
        ``forward``) and ``attachments``, each once. A document whose bytes are not held here
        is a :class:`ConflictError` naming it (the receiver would ask for it, and the transfer
        could never finish)."""
        await self._keep(attachments)
        attached = [a.carried() for a in attachments]
        carried = [] if issue else await self.registry.documents_of(td_checksum)
        visual = issued_visualisation(chain)
        by_checksum = {
            d.checksum: d for d in carried if forward or not d.received or d.checksum == visual
        }
        by_checksum.update((d.checksum, d) for d in attached)
        visualisation = by_checksum.pop(visual, None) if visual is not None else None
        if visual is not None and (visualisation is None or visualisation.size is None):
            raise ConflictError(
                f"the carrier's eBL visualisation {visual} is not held here with the eBL: PINT sends it with "
                "every transfer of this eBL, and the receiver would refuse the envelope (BSIG)",
                field="documents",
                rule="ebl.document-not-held",
            )
        for held in by_checksum.values():
            if held.size is None:
                raise ConflictError(
                    f"supporting document {held.name!r} ({held.checksum}) is not held here",
                    field="documents",
                    rule="ebl.document-not-held",
                )
        return Outgoing(
            supporting=[_metadata(d) for d in by_checksum.values()],
            visualisation=None if visualisation is None else _metadata(visualisation),
            attached=attached,
        )

    async def _send(
        self,
        td_checksum: str,
        base_head: str | None,
        document: Mapping[str, Any],
        chain: list[str],
        title: Title,
        to: Party,
        attachments: Sequence[Attachment],
        exporting_tenant: str,
        *,
        issue: NewTitle | None = None,
        forward: bool = False,
        remembered: Remembered | None = None,
    ) -> Outbound:
        """Lock the eBL and queue its transfer, through the export gate (the transfer counted
        for, and held for, ``exporting_tenant``: the tenant acting for the acting party)."""
        if to.platform not in self.options.partners:
            raise FieldError(f"platform {to.platform} is not a configured partner", field="to")
        await self.check_receiver(to)
        outgoing = await self._outgoing(
            td_checksum, chain, attachments, forward=forward, issue=issue is not None
        )
        envelope = build.envelope(
            self.options.signer, document, chain, outgoing.supporting,
            visualisation=outgoing.visualisation,
        )  # fmt: skip
        export = None
        if self.export_gate is not None:
            export = self.export_gate.assess(
                document,
                td_checksum=td_checksum,
                exporter=_acting(chain[-1]),
                destination=self.options.partners[to.platform].country,
                recipient=to.label(),
                tenant_id=exporting_tenant,
                enclosures=outgoing.enclosures,
            )
        return await self.registry.begin_transfer(
            td_checksum,
            base_head=base_head,
            platform=to.platform,
            envelope=envelope,
            documents=outgoing.checksums,
            title=title.as_json(),
            adapter=self.adapter,
            issue=issue,
            export=export,
            attached=outgoing.attached,
            remembered=remembered,
        )

    async def check_receiver(self, to: Party) -> None:
        """Ask ``to``'s platform whether it knows ``to`` before the eBL is locked for it
        (PINT 3.0 receiver validation), for each of its identifying codes issued by that
        platform (a platform "can unconditionally reject lookup requests" for codes of
        other code lists, so their 404 says nothing). The standard's 404 is a
        :class:`FieldError` naming ``to`` (a 422: nothing was locked or queued); no answer
        (an older platform without the endpoint, an error, unreachable) lets the transfer
        go on, logged: the receiving platform still checks the party at the envelope
        (``BENV``), and the eBL comes back under this platform's control. Not asked of a
        partner configured with ``receiver_validation = false``."""
        partner = self.options.partners[to.platform]
        if self._validate_receiver is None or not partner.receiver_validation:
            return
        for provider, code in sorted(to.codes):
            if provider != to.platform:
                continue
            answer = await self._validate_receiver(to.platform, provider, code)
            if answer.known is False:
                said = f" ({answer.why})" if answer.why else ""
                raise FieldError(
                    f"platform {to.platform} does not know the party {code!r}: its receiver "
                    f"validation answered 404{said}. Nothing was locked or sent; check the "
                    "party code",
                    field="to",
                    rule="pint.receiver-validation",
                )
            if answer.known is None:
                log.info(
                    "receiver validation gave no answer; the receiving platform checks the "
                    "party at the envelope",
                    extra={"platform": to.platform, "party": code, "why": answer.why[:200]},
                )

    async def _refused_issue(self, key: str, tenant_id: str | None) -> dict[str, Any] | None:
        """The history of a transport document issued straight to another platform that
        refused it (``BENV``, ``BSIG``, ``DISE``): nothing was issued, so the registry keeps
        no title (the carrier may issue it again), but the carrier's operator must still learn
        why, from the signed refusal. ``state`` ``not-issued``, the carrier as possessor,
        every refused attempt under ``transfers``; ``None`` when there is none (or
        ``tenant_id`` does not act for the carrier)."""
        found = await self.registry.refused_issues(key)
        if not found:
            return None
        last = found[-1]
        carrier = Party.of(last.title.get("carrier"), "carrier")
        if tenant_id is not None and not self.options.acts_for(tenant_id, carrier):
            return None
        document = last.envelope.get("transportDocument") or {}
        return {
            "transportDocumentReference": str(document.get("transportDocumentReference", "")),
            "transportDocumentChecksum": last.td_checksum,
            "state": "not-issued",
            "possessor": carrier.label(),
            "title": None,
            "chain": [],
            "documents": [],
            "transfers": [_transfer_view(o) for o in found if o.td_checksum == last.td_checksum],
        }

    def _check_entry(
        self, token: str, payload: Mapping[str, Any], *, first: bool
    ) -> dict[str, Any]:
        """An entry's signature (and, in the first, the carrier's issuance manifest)
        verified again with the keys known now: ``signedBy``, ``kid``, ``signatureVerified``
        and, when it does not verify now, ``signatureProblem``. The registry verified every
        entry when it took the chain; a key retired since (a partner rotated its keys)
        makes the entry unverifiable now, which the history says rather than hiding the
        eBL. Every entry of a stored chain is historic evidence, so an ``x5c`` certificate
        is judged at the time the entry claims (:func:`~gateway.pint.chain.claimed_time`):
        one that has merely expired since still verifies."""
        signed_at = claimed_time(token)
        try:
            verified = verify_compact(token, self.options.keys, signed_at=signed_at)
        except VerificationError as exc:
            header, _, _, _ = split_compact(token)
            kid = header.get("kid")
            return {
                "signedBy": None,
                "kid": kid if isinstance(kid, str) else None,
                "signatureVerified": False,
                "signatureProblem": exc.message,
            }
        problem = None
        if first:
            issuance = str(payload.get("issuanceManifestSignedContent"))
            try:
                verify_compact(issuance, self.options.carriers, signed_at=signed_at)
            except VerificationError as exc:
                problem = f"the carrier's issuance manifest: {exc.message}"
        return {
            "signedBy": verified.signer.owner,
            "kid": verified.signer.kid,
            "signatureVerified": problem is None,
            "signatureProblem": problem,
        }

    async def history(self, key: str, tenant_id: str | None = None) -> dict[str, Any]:
        """The eBL's state and its chain, every entry's signature verified again (an entry
        that does not verify with the keys known now is shown so, see :meth:`_check_entry`);
        given ``tenant_id``, only an eBL it may read (:meth:`find`). A transport document
        whose issue straight to another platform was refused there is shown ``not-issued``
        (:meth:`_refused_issue`)."""
        try:
            record = await self.find(key, tenant_id)
        except NotFoundError:
            refused = await self._refused_issue(key, tenant_id)
            if refused is None:
                raise
            return refused
        entries = []
        for index, token in enumerate(record.chain):
            payload = entry_payload(token)
            check = self._check_entry(token, payload, first=index == 0)
            entries.append(
                {
                    "platform": payload.get("eblPlatform"),
                    **check,
                    "checksum": jws_checksum(token),
                    "transactions": [
                        {
                            "actionCode": t.get("actionCode"),
                            "actor": Party.of(t.get("actor"), "actor").label(),
                            "recipient": Party.of(t["recipient"], "recipient").label()
                            if t.get("recipient")
                            else None,
                            "actionDateTime": t.get("actionDateTime"),
                            **{k: t[k] for k in ("reasonCode", "comments") if k in t},
                        }
                        for t in payload.get("transactions") or ()
                    ],
                }
            )
        chain_title(record.chain, to_order=bool(record.transport_document.get("isToOrder")))
        return {
            "transportDocumentReference": record.reference,
            "transportDocumentChecksum": record.td_checksum,
            "state": record.state,
            "possessor": record.possessor,
            "title": record.title,
            "chain": entries,
            "documents": [
                {
                    "name": d.name,
                    "mediaType": d.media_type,
                    "documentChecksum": d.checksum,
                    "size": d.size,
                    "origin": "received" if d.received else "attached",
                }
                for d in await self.registry.documents_of(record.td_checksum)
            ],
            "transfers": [
                _transfer_view(o) for o in await self.registry.outbound_of(record.td_checksum)
            ],
        }


def export_hold(transfer: Outbound) -> dict[str, str] | None:
    """Whether the export gate holds ``transfer``, as answers show it (``exportHold``):
    ``{"reason": …}`` until a compliance officer releases or refuses it, else ``None``.
    A name of its own: the registry's ``held`` is possession (the eBL is under this
    platform's control), which a transfer the gate holds is not (the eBL is ``sending``)."""
    return None if transfer.held is None else {"reason": transfer.held}


def transfer_accepted(sent: Outbound) -> dict[str, Any]:
    """The answer to a transfer (or an issue) queued for another platform: the eBL's
    checksum, the transfer's id and platform, and ``exportHold`` (:func:`export_hold`).

    ``state`` (``sending``, or ``held`` while the gate holds the transfer) and ``reason``
    (the gate's) are kept for the clients written against them and go in the next major
    version: their ``held`` is the export gate's hold, which the eBL registry's ``held``
    (possession, ``GET /v1/ebls?state=held``) is not."""
    body: dict[str, Any] = {
        "checksum": sent.td_checksum,
        "state": "sending" if sent.held is None else "held",
        "transfer": sent.id,
        "to": sent.platform,
        "exportHold": export_hold(sent),
    }
    if sent.held is not None:
        body["reason"] = sent.held
    return body


def _transfer_view(transfer: Outbound) -> dict[str, Any]:
    """An outbound transfer as the eBL's history shows it: where it went, its state, why
    the export gate holds it (``exportHold``; ``held``, its reason alone, is kept for the
    clients written against it until the next major version), and the receiving platform's
    signed answer as it
    came (``response``, a compact JWS: the acknowledgement) with the ``reason`` it gives, or,
    for a transfer a compliance officer refused, the refusal; for one settled before its
    answer came, that (:data:`SETTLED`)."""
    reason, signed = None, None
    if transfer.state == "accepted" and transfer.response is None:
        reason = SETTLED
    elif transfer.response:
        try:
            _, payload, _, _ = split_compact(transfer.response)
            answer = json.loads(payload)
        except (VerificationError, ValueError):
            reason = transfer.response
        else:
            signed = transfer.response
            if isinstance(answer, dict) and answer.get("reason"):
                reason = str(answer["reason"])
    return {
        "id": transfer.id,
        "to": transfer.platform,
        "state": transfer.state,
        "responseCode": transfer.response_code,
        "reason": reason,
        "response": signed,
        "exportHold": export_hold(transfer),
        "held": transfer.held,
    }


AMENDMENT_REASONS = {"SWTP": "switch to paper", "COD": "change of destination", "SWI": "switch BL"}
"""PINT 3.0 ``Transaction.reasonCode`` values, "on actionCode being SURRENDER_FOR_AMENDMENT"."""
MAX_COMMENTS = 255
"""``Transaction.comments``: at most 255 characters, ``^\\S(?:.*\\S)?$``."""


def check_remarks(action: ActionCode, reason_code: str | None, comments: str) -> None:
    """Refuse (``FieldError``) a ``reasonCode`` or ``comments`` PINT 3.0's ``Transaction``
    does not allow: a reason code other than ``SWTP``, ``COD`` or ``SWI``, or on an action
    other than ``SURRENDER_FOR_AMENDMENT``; comments over 255 characters, with white space
    at either end, breaking a line or holding a control or direction character (the
    receiving platform's schema refuses those comments with BENV after the eBL was
    locked)."""
    if reason_code is not None:
        if action is not ActionCode.SURRENDER_FOR_AMENDMENT:
            raise FieldError(
                f"reasonCode goes only with SURRENDER_FOR_AMENDMENT, not {action} (PINT 3.0 "
                "Transaction.reasonCode); say why in comments",
                field="reasonCode",
                rule="pint.reasonCode",
            )
        if reason_code not in AMENDMENT_REASONS:
            known = ", ".join(f"{c} ({w})" for c, w in AMENDMENT_REASONS.items())
            raise FieldError(
                f"reasonCode {reason_code[:20]!r} is not one of {known}; another reason goes "
                "in comments",
                field="reasonCode",
                rule="pint.reasonCode",
            )
    if not comments:
        return
    if len(comments) > MAX_COMMENTS or not DOCUMENT_NAME.fullmatch(comments):
        raise FieldError(
            f"comments must be 1 to {MAX_COMMENTS} characters on one line, without white "
            f"space at either end (PINT 3.0 Transaction.comments); it has {len(comments)}",
            field="comments",
            rule="pint.comments",
        )
    check_name(comments, "comments", "a transaction's comments")


def _check_shown_text(verified: VerifiedEnvelope) -> None:
    """Refuse (``BENV``) an envelope whose eBL reference, or a party's platform, code or
    name in its chain, holds a character that shows it other than it is (Unicode TR #36;
    :mod:`gateway.shown_text`): this platform's operators would list and act on the eBL
    under what they see, as the API refuses to issue or address one so."""
    places: list[tuple[Any, str, Callable[[str], str | None]]] = [
        (
            verified.transport_document.get("transportDocumentReference"),
            "$.transportDocument.transportDocumentReference",
            unsafe_in_identifier,
        )
    ]
    for index, entry in enumerate(verified.entries):
        for number, transaction in enumerate(entry.get("transactions") or ()):
            for role in ("actor", "recipient"):
                party = transaction.get(role) if isinstance(transaction, Mapping) else None
                if not isinstance(party, Mapping):
                    continue
                where = f"envelopeTransferChain[{index}].transactions[{number}].{role}"
                places += [
                    (party.get("eblPlatform"), f"{where}.eblPlatform", unsafe_in_identifier),
                    (party.get("partyName"), f"{where}.partyName", unsafe_in_name),
                ]
                for k, code in enumerate(party.get("identifyingCodes") or ()):
                    for member in ("codeListProvider", "partyCode"):
                        value = code.get(member) if isinstance(code, Mapping) else None
                        places.append(
                            (value, f"{where}.identifyingCodes[{k}].{member}", unsafe_in_identifier)
                        )
    for value, where, unsafe in places:
        found = unsafe(value) if isinstance(value, str) else None
        if found is not None:
            raise PintRejection(
                f"{where} holds {describe(found)}, which shows it other than it is (a "
                "control, direction or invisible format character; Unicode TR #36)",
                response=ResponseCode.BENV,
                field=where,
            )


def _check_attachments(attachments: Sequence[Attachment], limit: DocumentLimit) -> None:
    """Each attachment as DCSA's ``DocumentMetadata`` allows it and within ``limit`` (a
    :class:`FieldError` naming ``documents[i]``, as the API's request does)."""
    for index, attachment in enumerate(attachments):
        attachment.check(f"documents[{index}]", limit)


def _kept_here(action: ActionCode, to: Party | None, title: Title, platform: str) -> Party:
    """Where a ``SIGN`` or ``BLANK_ENDORSE`` is recorded: here, with the possessor. PINT 3.0
    gives neither a recipient ("this action has no designated recipient"; a blank
    endorsement "does not specify a recipient" and "must always take place on the eBL
    platform of the current possessor"), so no envelope could carry one to another platform:
    a ``to`` there is refused (a party of this platform is accepted and not recorded)."""
    if to is not None and to.platform != platform:
        raise FieldError(
            f"{action} has no recipient in PINT: it is recorded on the possessor's platform "
            f"{platform}, not sent to {to.label()} (leave out to)",
            field="to",
            rule="pint.no-recipient",
        )
    return title.possessor


def _check_not_to_itself(action: ActionCode, acting: Party, to: Party) -> None:
    """Refuse (409) a ``TRANSFER``, ``ENDORSE`` or ``ENDORSE_TO_ORDER`` whose recipient is
    the party acting: it hands the eBL (or its endorsement) to whoever has it already, so
    it changes nothing in the title, yet its signed entry would stay in the chain every
    later platform receives and verifies (a ``to`` mistyped as the possessor's own code)."""
    if action in NEEDS_RECIPIENT and action is not ActionCode.ISSUE and to.same(acting):
        raise ConflictError(
            f"{action} to {to.label()}, who is acting: a party cannot transfer or endorse "
            "an eBL to itself",
            field="to",
            rule="pint.to-itself",
        )


def _implied_recipient(title: Title, action: ActionCode) -> Party:
    """The party a transaction without ``to`` goes to: the issuing carrier for a surrender,
    the party that requested the surrender for ``SACC`` / ``SREJ``."""
    if action in SURRENDERS:
        return title.carrier
    if action in SURRENDER_ANSWERS:
        if title.surrender_requested_by is None:
            raise ConflictError(
                f"{action} answers a surrender request, and none is pending",
                field="action",
                rule="ebl.no-surrender-request",
            )
        return title.surrender_requested_by
    raise FieldError(f"to is required for {action}", field="to")


def _metadata(document: CarriedDocument) -> dict[str, Any]:
    assert document.size is not None
    return build.metadata(document.name, document.size, document.media_type, document.checksum)


def _title_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "carrier": Party.of(data["carrier"], "carrier"),
        "possessor": Party.of(data["possessor"], "possessor"),
        "holder": Party.of(data["holder"], "holder") if data.get("holder") else None,
        "to_order": bool(data.get("toOrder")),
        "surrendered": bool(data.get("surrendered")),
        "surrender_requested_by": Party.of(data["surrenderRequestedBy"], "surrenderRequestedBy")
        if data.get("surrenderRequestedBy")
        else None,
        "holder_may_endorse": bool(data.get("holderMayEndorse", True)),
    }


def _parties(record: TitleRecord) -> list[Party]:
    """Every party of the eBL: the title's (carrier, possessor, holder, who asked for its
    surrender) and every actor and recipient of its chain (entries verified when the
    registry took them)."""
    title = _title_fields(record.title)
    found = [
        title[name]
        for name in ("carrier", "possessor", "holder", "surrender_requested_by")
        if title[name] is not None
    ]
    for token in record.chain:
        for transaction in entry_payload(token).get("transactions") or ():
            for role in ("actor", "recipient"):
                if isinstance(transaction, Mapping) and transaction.get(role):
                    try:
                        found.append(Party.of(transaction[role], role))
                    except PintRejection:
                        continue
    return found

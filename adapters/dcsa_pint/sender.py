"""The sending side of PINT 3.0: start, send the documents, finish — until a signed answer.

::

    POST /v3/envelopes ─► 200 signed RECE/DUPE ─────────────────────────► done
                       ─► 201 {envelopeReference, missing…} ─► PUT each missing document
                          (a signed INCD is kept and the transfer is retried later)
                          ─► PUT finish-transfer ─► signed RECE/DUPE/DISE/…
                             signed MDOC ─► PUT the documents it lists ─► finish again
                             (up to MAX_MDOC_ROUNDS times; then kept, retried later)
                       ─► 4xx/409 signed BENV/BSIG/DISE ─────────────────► done
    anything unsigned (5xx, proxy page, network error) ─► TransientDeliveryError: retried

The signed ``responseCode`` decides, never the HTTP status; a response is accepted only
when it verifies with a key of the receiving platform and names the envelope's last entry.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp

from adapters.base import Envelope, Receipt
from adapters.dcsa_pint.options import Partner, PintOptions
from adapters.dcsa_pint.receiver_check import ReceiverAnswer
from adapters.retry_after import asked_wait, waiting
from gateway.bounded_body import read_bounded
from gateway.errors import PermanentDeliveryError, TransientDeliveryError, VerificationError
from gateway.pint.checksums import is_checksum, jws_checksum
from gateway.pint.codes import ResponseCode
from gateway.pint.responses import SignedResponse, read_response

log = logging.getLogger("lingang.pint")

HEADERS = {"Content-Type": "application/json", "API-Version": "3"}
MAX_ANSWER_BYTES = 4 * 1024 * 1024
"""The largest answer read from a partner: a signed response or a started transfer lists
document checksums (65 bytes each), a receiver validation one name; more is refused
unread rather than held in memory."""
RECEIVER_VALIDATION_SECONDS = 5.0
"""The longest receiver validation waits (or the adapter's ``timeout``, if shorter): it runs
while the client that asked for the transfer waits, and no answer lets the transfer go on."""
MAX_MDOC_ROUNDS = 3
"""How often one attempt answers a signed ``MDOC`` at finish by sending the documents it
lists again and finishing again, before the ``transfer`` job retries the whole transfer."""


@dataclass(slots=True)
class _Answer:
    status: int
    body: bytes
    asked: float | None = None
    """The wait a 429 or 503 asked for (``Retry-After``)."""


class PintSender:
    """Runs envelope transfers to partner platforms over one HTTP connection pool."""

    def __init__(
        self,
        name: str,
        options: PintOptions,
        session: aiohttp.ClientSession,
        ssl: Mapping[str, Any],
    ) -> None:
        self.name = name
        self.options = options
        self.session = session
        self.ssl = ssl

    async def send(self, envelope: Envelope) -> Receipt:
        """Transfer the ``EblEnvelope`` in ``envelope.body`` to ``envelope.receiver``'s platform;
        the documents travel in ``envelope.attachments`` by checksum."""
        partner = self.options.partners.get(envelope.receiver)
        if partner is None:
            raise PermanentDeliveryError(
                f"platform {envelope.receiver!r} is not a configured partner", field="receiver"
            )
        data = json.loads(envelope.body)
        last = jws_checksum(data["envelopeTransferChain"][-1])
        answer = await self._call(
            "POST", partner.endpoint("/v3/envelopes"), envelope.body, partner.code
        )
        if answer.status != 201:
            return self._receipt(envelope, self._signed(answer, partner.code, last))
        reference, missing = _started(answer.body, last)
        for checksum in missing:
            if checksum not in envelope.attachments:
                raise PermanentDeliveryError(
                    f"the receiver wants document {checksum} this transfer does not hold",
                    field="documents",
                )
        refused = await self._upload(envelope, partner, reference, missing, last)
        if refused is not None:
            return self._receipt(envelope, refused)
        finish = partner.endpoint(f"/v3/envelopes/{reference}/finish-transfer")
        answer = await self._call("PUT", finish, b"", partner.code)
        response = self._signed(answer, partner.code, last)
        for _ in range(MAX_MDOC_ROUNDS):
            wanted = _still_missing(response)
            if not wanted or any(c not in envelope.attachments for c in wanted):
                break
            refused = await self._upload(envelope, partner, reference, wanted, last)
            if refused is not None:
                return self._receipt(envelope, refused)
            answer = await self._call("PUT", finish, b"", partner.code)
            response = self._signed(answer, partner.code, last)
        return self._receipt(envelope, response)

    async def validate_receiver(self, platform: str, provider: str, code: str) -> ReceiverAnswer:
        """Ask ``platform`` whether it knows the party ``provider``/``code`` (PINT 3.0 ``POST
        /v3/receiver-validation``): known (200 with its ``partyName``), unknown (404 with a
        DCSA ``ErrorResponse``: "the server cannot identify an account or user via the given
        party code", or would reject a transfer to it), or no answer to go by (any other
        status, e.g. a platform without the endpoint answering its own 404; a network
        error)."""
        partner = self.options.partners[platform]
        body = json.dumps({"codeListProvider": provider, "partyCode": code}).encode()
        url = partner.endpoint("/v3/receiver-validation")
        seconds = min(self.options.timeout, RECEIVER_VALIDATION_SECONDS)
        try:
            answer = await self._call("POST", url, body, platform, timeout=seconds)
        except TransientDeliveryError as exc:
            return ReceiverAnswer(None, why=str(exc))
        try:
            data = json.loads(answer.body)
        except ValueError:
            data = None
        if answer.status == 200 and isinstance(data, dict):
            name = data.get("partyName")
            if isinstance(name, str) and name.strip():
                return ReceiverAnswer(True, name=name[:70])
        if answer.status == 404 and _is_error_response(data, 404):
            return ReceiverAnswer(False, why=_error_message(data))
        return ReceiverAnswer(None, why=f"{platform} answered HTTP {answer.status}")

    async def _upload(
        self,
        envelope: Envelope,
        partner: Partner,
        reference: str,
        checksums: Sequence[str],
        last: str,
    ) -> SignedResponse | None:
        """PUT each document of ``checksums`` (all held by ``envelope``); the receiver's
        signed answer to the first one it does not take with 204, else ``None``."""
        for checksum in checksums:
            url = partner.endpoint(f"/v3/envelopes/{reference}/additional-documents/{checksum}")
            document = envelope.attachments[checksum]
            body = json.dumps(base64.b64encode(document).decode("ascii")).encode()
            sent = await self._call("PUT", url, body, partner.code)
            if sent.status != 204:
                return self._signed(sent, partner.code, last)
        return None

    async def _call(
        self, method: str, url: str, body: bytes, platform: str, *, timeout: float | None = None
    ) -> _Answer:
        """One request to the partner (within ``timeout`` seconds when given, else the
        session's); a network error or time-out is a :class:`TransientDeliveryError`."""
        limit: dict[str, Any] = {}
        if timeout is not None:
            limit["timeout"] = aiohttp.ClientTimeout(total=timeout)
        try:
            async with self.session.request(
                method, url, data=body, headers=HEADERS, **self.ssl, **limit
            ) as response:
                asked = asked_wait(response.status, response.headers)
                data = await read_bounded(response.content, MAX_ANSWER_BYTES)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise TransientDeliveryError(
                f"{platform}: {method} {url}: {type(exc).__name__}: {exc}"
            ) from exc
        if data is None:
            raise TransientDeliveryError(
                f"{platform}: {method} {url}: HTTP {response.status} with an answer larger than "
                f"{MAX_ANSWER_BYTES} bytes (not read)",
                retry_after=asked,
            )
        return _Answer(response.status, data, asked)

    def _signed(self, answer: _Answer, platform: str, last: str) -> SignedResponse:
        """The verified signed response in ``answer``; unsigned answers are transient."""
        try:
            token = json.loads(answer.body)
            if not isinstance(token, str):
                raise ValueError("not a JSON string")
            return read_response(token, self.options.keys, platform=platform, last_checksum=last)
        except (ValueError, VerificationError) as exc:
            raise TransientDeliveryError(
                f"{platform} answered HTTP {answer.status}{waiting(answer.asked)} without a valid "
                f"signed response ({exc}); retrying",
                retry_after=answer.asked,
            ) from exc

    def _receipt(self, envelope: Envelope, response: SignedResponse) -> Receipt:
        log.info(
            "envelope transfer answered",
            extra={"code": response.code.value, "platform": response.signer},
        )
        return Receipt(
            message_id=envelope.message_id,
            adapter=self.name,
            remote_id=str(
                response.payload.get("lastEnvelopeTransferChainEntrySignedContentChecksum", "")
            ),
            duplicate=response.code is ResponseCode.DUPE,
            body=response.token.encode("ascii"),
            content_type="application/jose",
            details={
                "responseCode": response.code.value,
                "reason": response.payload.get("reason", ""),
                "missing": response.payload.get("missingAdditionalDocumentChecksums", []),
            },
        )


def _is_error_response(data: Any, status: int) -> bool:
    """Whether ``data`` is a DCSA ``ErrorResponse`` for ``status`` (its required
    ``statusCode`` and ``errors``), not some other server's page for a path it lacks."""
    return (
        isinstance(data, dict)
        and data.get("statusCode") == status
        and isinstance(data.get("errors"), list)
    )


def _error_message(data: dict[str, Any]) -> str:
    """What a DCSA ``ErrorResponse`` says (its ``statusCodeMessage``), bounded."""
    message = data.get("statusCodeMessage") or data.get("statusCodeText") or ""
    return str(message)[:200]


def _still_missing(response: SignedResponse) -> list[str]:
    """The documents a signed ``MDOC`` lists (``missingAdditionalDocumentChecksums``); none
    for any other code."""
    if response.code is not ResponseCode.MDOC:
        return []
    listed = response.payload.get("missingAdditionalDocumentChecksums")
    return [c for c in listed if is_checksum(c)] if isinstance(listed, list) else []


def _started(body: bytes, last: str) -> tuple[str, list[str]]:
    """``(envelopeReference, missing document checksums)`` of a started transfer; the
    reference is the receiver's own (opaque, URL-quoted when used)."""
    try:
        started = json.loads(body)
        missing = started["missingAdditionalDocumentChecksums"]
        reference = started["envelopeReference"]
        if started["lastEnvelopeTransferChainEntrySignedContentChecksum"] != last:
            raise ValueError("the started transfer is about another envelope")
        if not isinstance(missing, list) or not isinstance(reference, str) or not reference:
            raise ValueError(
                "envelopeReference and missingAdditionalDocumentChecksums are required"
            )
    except (ValueError, KeyError, TypeError) as exc:
        raise TransientDeliveryError(f"unreadable EnvelopeTransferStartedResponse: {exc}") from exc
    return quote(reference[:100], safe=""), [str(c) for c in missing if is_checksum(c)]

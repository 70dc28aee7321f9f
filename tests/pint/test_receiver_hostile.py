"""The receiving endpoints under hostile input: every answer is a specific 4xx (signed where
the standard says so), never a 500, and nothing reaches the registry."""

from __future__ import annotations

import base64
import hashlib
import json
import ssl
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from gateway.pint import build
from gateway.pint.checksums import document_checksum
from gateway.pint.codes import ActionCode
from gateway.pint.responses import read_response
from gateway.signing.jose import CompactSigner, b64url
from gateway.testing.cluster import free_port
from gateway.testing.pint import (
    DemoPlatform,
    InProcessPlatform,
    key_sets,
    platform,
    transport_document,
    write_platform_homes,
)
from gateway.testing.tls import make_tls


@pytest.fixture
def platforms() -> list[DemoPlatform]:
    """The sender (AEOT, also the carrier) and the receiver (IQAX)."""
    return [platform("AEOT", "ed25519", "A", carrier=True), platform("IQAX", "p256", "B")]


@pytest.fixture
async def receiver(
    tmp_path: Path, reference: Path, platforms: list[DemoPlatform]
) -> AsyncIterator[tuple[InProcessPlatform, Any, ssl.SSLContext]]:
    tls = make_tls(tmp_path / "tls")
    homes = write_platform_homes(
        tmp_path, platforms, reference_root=reference, tls=tls, ports=[free_port(), free_port()]
    )
    running = await InProcessPlatform(homes[1], tls).start()
    keys, _ = key_sets(platforms)
    yield running, keys, ssl.create_default_context(cafile=str(tls.ca))
    await running.stop()


async def _call(
    running: InProcessPlatform, context: ssl.SSLContext, method: str, path: str, data: bytes
) -> tuple[int, bytes]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            method,
            running.home.url + path,
            data=data,
            ssl=context,
            headers={"Content-Type": "application/json"},
        ) as response,
    ):
        return response.status, await response.read()


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"transportDocument": {}, "envelopeManifestSignedContent": "a.b.c", "envelopeTransferChain": ["x"]}',
        b'{"transportDocument": 1e999, "envelopeManifestSignedContent": 5, "envelopeTransferChain": []}',
        json.dumps(
            {"envelopeTransferChain": ["\u00e9.\u00e9.\u00e9"], "transportDocument": {}}
        ).encode(),
        b"\xff\xfe garbage",
    ],
)
async def test_bad_envelopes_get_a_signed_benv_or_bsig(receiver: Any, body: bytes) -> None:
    running, keys, context = receiver
    status, answer = await _call(running, context, "POST", "/v3/envelopes", body)
    assert status == 422, answer[:300]
    token = json.loads(answer)
    verified = read_response(token, keys, platform="IQAX", last_checksum=_last(body))
    assert verified.code.value in {"BENV", "BSIG"}
    assert verified.payload["reason"]
    assert await running.adapter.platform.registry.find("anything") is None


def _last(body: bytes) -> str:
    try:
        chain = json.loads(body)["envelopeTransferChain"]
        if chain and isinstance(chain[-1], str) and chain[-1].isascii():
            return hashlib.sha256(chain[-1].encode()).hexdigest()
    except (ValueError, KeyError, TypeError, IndexError, RecursionError):
        pass
    return hashlib.sha256(b"").hexdigest()


async def test_unknown_transfers_and_bad_paths_are_4xx(receiver: Any) -> None:
    running, _, context = receiver
    for method, path, body in [
        ("PUT", "/v3/envelopes/nope/finish-transfer", b""),
        ("PUT", f"/v3/envelopes/{'a' * 64}/finish-transfer", b""),
        ("PUT", f"/v3/envelopes/nope/additional-documents/{'b' * 64}", b'"AAAA"'),
        ("POST", "/v3/receiver-validation", b"{}"),
        ("POST", "/v3/receiver-validation", b"[1]"),
        ("POST", "/v3/receiver-validation", b'{"codeListProvider": "IQAX", "partyCode": "NOBODY"}'),
    ]:
        status, answer = await _call(running, context, method, path, body)
        assert 400 <= status < 500, (path, status, answer[:200])
        problem = json.loads(answer)
        assert problem["statusCode"] == status and problem["errors"][0]["errorCodeMessage"]


@pytest.mark.parametrize(
    "body",
    [
        {"codeListProvider": "IQAX", "partyCode": ["BANK"]},
        {"codeListProvider": "IQAX", "partyCode": 7},
        {"codeListProvider": ["IQAX"], "partyCode": "BANK"},
        {"codeListProvider": "IQAX", "partyCode": "B" * 151},
        {"codeListProvider": "I" * 101, "partyCode": "BANK"},
    ],
)
async def test_a_receiver_validation_that_is_no_identifying_code_is_400(
    receiver: Any, body: dict[str, Any]
) -> None:
    """DCSA's IdentifyingCode: codeListProvider and partyCode are strings (at most 100 and
    150 characters); anything else is a bad request, not a party looked up as its text."""
    running, _, context = receiver
    raw = json.dumps(body).encode()
    status, answer = await _call(running, context, "POST", "/v3/receiver-validation", raw)
    assert status == 400, answer[:200]
    assert "IdentifyingCode" in json.loads(answer)["statusCodeMessage"]


DEEP = b"[" * 5000 + b"]" * 5000
"""JSON nested far deeper than Python's parser recurses (a RecursionError, once a 500)."""


def _envelope(reference: Path, sender: DemoPlatform, receiver: DemoPlatform) -> dict[str, Any]:
    """A well-formed envelope from ``sender`` (its carrier issues to it, it transfers)."""
    assert sender.carrier is not None and sender.carrier_key is not None
    document = transport_document(reference, "LGHOSTILE01")
    issuance = build.issuance_manifest(document, sender.party, CompactSigner(sender.carrier_key))
    transactions = [
        build.transaction(ActionCode.ISSUE, sender.carrier, sender.party),
        build.transaction(ActionCode.TRANSFER, sender.party, receiver.party),
    ]
    entry = build.chain_entry(
        sender.signer, sender.code, document_checksum(document), transactions, issuance=issuance
    )
    return build.envelope(sender.signer, document, [entry], [])


@pytest.mark.parametrize(
    "change",
    [
        "manifest header deep",
        "manifest payload deep",
        "chain entry payload deep",
        "manifest payload lone surrogate",
        "chain entry payload lone surrogate",
        "transport document lone surrogate",
        "transport document NUL",
    ],
)
async def test_deep_or_broken_json_inside_the_signed_parts_is_refused(
    receiver: Any, platforms: list[DemoPlatform], reference: Path, change: str
) -> None:
    """JSON inside a JWS (its header, its payload) nested thousands deep or holding a lone
    surrogate gets a signed refusal, not a 500 (the JWS's own JSON was parsed unguarded)."""
    running, keys, context = receiver
    sender, iqax = platforms
    envelope = _envelope(reference, sender, iqax)
    manifest = envelope["envelopeManifestSignedContent"]
    entry = envelope["envelopeTransferChain"][-1]
    _, body, signature = manifest.split(".")
    surrogate = b'{"eblPlatform": "\\ud800"}'
    if change == "manifest header deep":
        manifest = f"{b64url(DEEP)}.{body}.{signature}"
    elif change == "manifest payload deep":
        manifest = sender.signer.sign_bytes(DEEP)
    elif change == "chain entry payload deep":
        entry = sender.signer.sign_bytes(DEEP)
    elif change == "manifest payload lone surrogate":
        manifest = sender.signer.sign_bytes(surrogate)
    elif change == "chain entry payload lone surrogate":
        entry = sender.signer.sign_bytes(surrogate)
    changed = {**envelope, "envelopeManifestSignedContent": manifest}
    changed["envelopeTransferChain"] = [*envelope["envelopeTransferChain"][:-1], entry]
    data = json.dumps(changed).encode()
    if change.startswith("transport document"):  # once a 500 (canonical JSON) or a 503 (PostgreSQL)
        escape = b"\\ud800" if change.endswith("surrogate") else b"\\u0000"
        data = data.replace(b'"LGHOSTILE01"', b'"LGHOSTILE01' + escape + b'"', 1)
        assert escape in data
    status, answer = await _call(running, context, "POST", "/v3/envelopes", data)
    assert 400 <= status < 500, (status, answer[:300])
    verified = read_response(json.loads(answer), keys, platform="IQAX", last_checksum=_last(data))
    assert verified.code.value in {"BENV", "BSIG"}, verified.payload
    assert verified.payload["reason"]


@pytest.mark.parametrize("twice", ["transportDocumentReference", "envelopeTransferChain"])
async def test_an_envelope_naming_a_member_twice_gets_a_signed_benv(
    receiver: Any, platforms: list[DemoPlatform], reference: Path, twice: str
) -> None:
    """The transport document's checksum is SHA-256 of its RFC 8785 form, which is defined
    for I-JSON only (RFC 8785 3.1; RFC 7493 2.3: no member name twice). A second
    ``transportDocumentReference`` or ``envelopeTransferChain`` was taken as the last one
    given, without a word: the envelope names the eBL, or its chain, two ways."""
    running, keys, context = receiver
    sender, iqax = platforms
    envelope = _envelope(reference, sender, iqax)
    data = json.dumps(envelope).encode()
    if twice == "transportDocumentReference":
        data = data.replace(
            b'"transportDocumentReference": "LGHOSTILE01"',
            b'"transportDocumentReference": "LGHOSTILE02", '
            b'"transportDocumentReference": "LGHOSTILE01"',
            1,
        )
    else:
        data = (
            data[:-1]
            + b', "envelopeTransferChain": '
            + json.dumps(envelope["envelopeTransferChain"]).encode()
            + b"}"
        )
    assert data.count(f'"{twice}"'.encode()) == 2
    status, answer = await _call(running, context, "POST", "/v3/envelopes", data)
    assert status == 422, (status, answer[:300])
    unread = hashlib.sha256(b"").hexdigest()  # the answer to an envelope it could not read
    verified = read_response(json.loads(answer), keys, platform="IQAX", last_checksum=unread)
    assert verified.code.value == "BENV", verified.payload
    assert twice in verified.payload["reason"]
    assert await running.adapter.platform.registry.find("LGHOSTILE01") is None


async def test_an_x5c_certificate_of_an_unusable_key_type_gets_a_signed_bsig(
    receiver: Any, platforms: list[DemoPlatform], reference: Path
) -> None:
    """A manifest whose header names, in ``x5c``, a certificate with a P-384 key (no JWS
    algorithm the platforms accept takes one) is refused with a signed BSIG; it was a 500."""
    running, keys, context = receiver
    sender, iqax = platforms
    envelope = _envelope(reference, sender, iqax)
    key = ec.generate_private_key(ec.SECP384R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "p384.example")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    der = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
    header = {"alg": "ES256", "x5c": [der]}
    _, body, signature = envelope["envelopeManifestSignedContent"].split(".")
    envelope["envelopeManifestSignedContent"] = (
        f"{b64url(json.dumps(header).encode())}.{body}.{signature}"
    )
    data = json.dumps(envelope).encode()
    status, answer = await _call(running, context, "POST", "/v3/envelopes", data)
    assert status == 422, answer[:300]
    verified = read_response(json.loads(answer), keys, platform="IQAX", last_checksum=_last(data))
    assert verified.code.value == "BSIG"
    assert "secp384r1" in verified.payload["reason"]


async def test_error_responses_are_the_official_error_response(
    receiver: Any, reference: Path
) -> None:
    """Every unsigned answer validates against PINT 3.0's ``ErrorResponse``, and its
    ``statusCodeText`` is "a standard short description corresponding to the HTTP status
    code" (``Not Found``, as the official example's ``Bad Request``); it said ``Unknown
    party`` / ``Unknown envelope``, which now is the detailed error's ``errorCodeText``."""
    import jsonschema

    running, _, context = receiver
    schema = json.loads(
        (reference / "ebl/dcsa/jsonschema/EBL_PINT_v3.0.0.EblEnvelope.schema.json").read_text()
    )
    error_response = {"$ref": "#/$defs/ErrorResponse", "$defs": schema["$defs"]}
    unknown = json.dumps({"codeListProvider": "IQAX", "partyCode": "NOBODY"}).encode()
    for method, path, body, status, phrase, text in [
        ("POST", "/v3/receiver-validation", unknown, 404, "Not Found", "Unknown party"),
        ("PUT", f"/v3/envelopes/{'a' * 64}/finish-transfer", b"", 404, "Not Found",
         "Unknown envelope"),
        ("POST", "/v3/receiver-validation", b"{}", 400, "Bad Request", "Bad Request"),
    ]:  # fmt: skip
        answer_status, answer = await _call(running, context, method, path, body)
        data = json.loads(answer)
        assert answer_status == status, data
        jsonschema.Draft202012Validator(error_response).validate(data)
        assert data["statusCodeText"] == phrase, data
        assert data["errors"][0]["errorCodeText"] == text, data


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ("reference", "$.transportDocument.transportDocumentReference"),
        ("shipper code", "envelopeTransferChain[0].transactions[0].recipient.identifyingCodes[0].partyCode"),
        ("shipper name", "envelopeTransferChain[0].transactions[0].recipient.partyName"),
    ],
)  # fmt: skip
async def test_an_envelope_naming_the_ebl_or_a_party_deceptively_gets_a_signed_benv(
    receiver: Any, platforms: list[DemoPlatform], reference: Path, change: str, field: str
) -> None:
    """DCSA's patterns let U+202E (and U+200B) into a transportDocumentReference, a party
    code or name: accepted, the eBL was listed here under ``LG0001`` reordered, its shipper
    under a look-alike code (Unicode TR #36). Now a signed BENV naming the member; nothing
    is recorded."""
    from gateway.pint.title import Party

    running, keys, context = receiver
    sender, iqax = platforms
    number = "LG\u202e0001" if change == "reference" else "LGBIDI0001"
    document = transport_document(reference, number)
    shipper = sender.party
    if change == "shipper code":
        shipper = Party(shipper.platform, shipper.name, frozenset({("AEOT", "A\u200b")}))
    elif change == "shipper name":
        shipper = Party(shipper.platform, "Shipper \u202eLtd", shipper.codes)
    assert sender.carrier is not None and sender.carrier_key is not None
    issuance = build.issuance_manifest(document, shipper, CompactSigner(sender.carrier_key))
    transactions = [
        build.transaction(ActionCode.ISSUE, sender.carrier, shipper),
        build.transaction(ActionCode.TRANSFER, shipper, iqax.party),
    ]
    entry = build.chain_entry(
        sender.signer, sender.code, document_checksum(document), transactions, issuance=issuance
    )
    data = json.dumps(build.envelope(sender.signer, document, [entry], [])).encode()
    status, answer = await _call(running, context, "POST", "/v3/envelopes", data)
    assert status == 422, (status, answer[:300])
    verified = read_response(json.loads(answer), keys, platform="IQAX", last_checksum=_last(data))
    assert verified.code.value == "BENV", verified.payload
    assert verified.payload["reason"].startswith(field), verified.payload
    assert await running.adapter.platform.registry.find(number) is None

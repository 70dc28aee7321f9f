"""Data Integrity ``ecdsa-sd-2023`` base proofs: create and verify (W3C VC Data Integrity
ECDSA Cryptosuites v1.0, §3.3 and the selective-disclosure functions of §3.4).

::

    signed = sign_base_proof(credential, key, f"{did}#keys-1", loader,
                             mandatory_pointers=("/issuer", "/validFrom"))
    problems = verify_base_proof(signed, did_document, loader)     # [] when valid

Signing: the proof options (the credential's ``@context`` + type, cryptosuite, created,
verificationMethod, proofPurpose) are canonicalised (RDFC-1.0) and hashed; the credential is
skolemised, canonicalised, its blank nodes relabelled by HMAC-SHA-256 under a fresh key, and
its N-Quads split into those the mandatory JSON pointers select and the rest. Every
non-mandatory quad is signed by a fresh P-256 key; the issuer's key signs proof hash +
that key's Multikey bytes + the hash of the mandatory quads. The ``proofValue`` is ``u`` +
base64url(``0xd9 0x5d 0x00`` + CBOR [base signature, public key, HMAC key, signatures,
mandatory pointers]). Verification repeats the transformation with the disclosed HMAC key and
checks every signature, so it proves the whole credential unchanged.

JSON-LD is processed by PyLD with the static loader of :mod:`gateway.signing.jsonld_loader`;
canonical N-Quads come from :mod:`gateway.signing.rdfc` (PyLD's RDFC-1.0 labelling, our
N-Quads text); signatures are IEEE P1363 ``r || s`` (64 bytes).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from pyld import jsonld  # type: ignore[import-untyped]

from gateway.errors import InputError
from gateway.signing.jsonld_loader import DocumentLoader, UnknownContextError
from gateway.signing.multikey import (
    multikey_public,
    public_key_from_multikey_bytes,
    public_multikey_bytes,
)
from gateway.signing.rdfc import (
    Quad,
    canonical_dataset,
    canonical_quads,
    quads_of,
    relabelled,
    serialize_quad,
    to_dataset,
    utf16_order,
)

CRYPTOSUITE = "ecdsa-sd-2023"
BASE_HEADER = b"\xd9\x5d\x00"
DEFAULT_MANDATORY = ("/issuer", "/validFrom")
"""What TrustVC's ``signW3C`` makes mandatory for a VC 2.0 credential with ``validFrom``."""
_SKOLEM = "urn:bnid:"


@dataclass(frozen=True, slots=True)
class BaseProofValue:
    """The five components of an ``ecdsa-sd-2023`` base ``proofValue``."""

    base_signature: bytes
    public_key: bytes
    hmac_key: bytes
    signatures: tuple[bytes, ...]
    mandatory_pointers: tuple[str, ...]

    def encode(self) -> str:
        """``u`` + base64url (no padding) of header + CBOR array."""
        payload = cbor2.dumps(
            [
                self.base_signature,
                self.public_key,
                self.hmac_key,
                list(self.signatures),
                list(self.mandatory_pointers),
            ]
        )
        return "u" + base64.urlsafe_b64encode(BASE_HEADER + payload).rstrip(b"=").decode()

    @classmethod
    def decode(cls, text: Any) -> BaseProofValue:
        """Parse a base ``proofValue``; :class:`InputError` naming what is wrong."""
        if not isinstance(text, str) or not text.startswith("u"):
            raise _bad("proofValue must be a multibase base64url string ('u…')")
        try:
            raw = base64.urlsafe_b64decode(text[1:] + "=" * (-len(text[1:]) % 4))
        except ValueError as exc:
            raise _bad(f"proofValue is not base64url: {exc}") from exc
        if not raw.startswith(BASE_HEADER):
            raise _bad("proofValue is not an ecdsa-sd-2023 base proof (header d9 5d 00)")
        try:
            parts = cbor2.loads(raw[3:])
        except (cbor2.CBORDecodeError, ValueError) as exc:
            raise _bad(f"proofValue CBOR: {exc}") from exc
        if not (isinstance(parts, list) and len(parts) == 5):
            raise _bad("proofValue must be a CBOR array of 5 components")
        base_signature, public_key, hmac_key, signatures, pointers = parts
        if not (
            isinstance(base_signature, bytes)
            and len(base_signature) == 64
            and isinstance(public_key, bytes)
            and isinstance(hmac_key, bytes)
            and len(hmac_key) == 32
            and isinstance(signatures, list)
            and all(isinstance(s, bytes) and len(s) == 64 for s in signatures)
            and isinstance(pointers, list)
            and all(isinstance(p, str) for p in pointers)
        ):
            raise _bad("proofValue components have the wrong types or sizes")
        return cls(base_signature, public_key, hmac_key, tuple(signatures), tuple(pointers))


@dataclass(frozen=True, slots=True)
class Grouped:
    """A credential's HMAC-relabelled canonical N-Quads, split by the mandatory pointers."""

    mandatory: list[str]
    non_mandatory: list[str]


def _bad(message: str) -> InputError:
    return InputError(message, field="proof/proofValue", rule="ecdsa-sd-2023.proof-value")


def _options(loader: DocumentLoader) -> dict[str, Any]:
    return loader.options()


def _jsonld_error(exc: Exception) -> InputError:
    """The loader's own error when PyLD wrapped it, else a JSON-LD error naming the cause."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, UnknownContextError):
            return cause
        cause = cause.__cause__ or getattr(cause, "cause", None)
    return InputError(f"JSON-LD processing failed: {exc}", rule="jsonld.process")


def _dataset(document: Any, loader: DocumentLoader) -> dict[str, list[Quad]]:
    try:
        return to_dataset(document, _options(loader))
    except jsonld.JsonLdError as exc:
        raise _jsonld_error(exc) from exc


def canonicalize(document: dict[str, Any], loader: DocumentLoader) -> str:
    """RDFC-1.0 canonical N-Quads of a JSON-LD document."""
    lines, _ = canonical_quads(_dataset(document, loader))
    return "".join(lines)


ISSUER_DEPENDENT = "https://www.w3.org/ns/credentials/issuer-dependent#"
"""Where a VC 2.0 context with ``@vocab`` puts terms no context defines."""


def undefined_terms(document: dict[str, Any], loader: DocumentLoader) -> list[str]:
    """JSON pointers of the members of ``document`` no context defines: dropped by JSON-LD
    expansion (so no proof covers them; jsonld.js's "safe mode" refuses them too) or mapped to
    :data:`ISSUER_DEPENDENT` (a verifier cannot know what they mean)."""
    try:
        expanded = jsonld.expand(document, _options(loader))
        again = jsonld.compact(expanded, document["@context"], _options(loader))
    except jsonld.JsonLdError as exc:
        raise _jsonld_error(exc) from exc
    found: list[str] = []
    _compare(document, again, "", found)
    found += [f"/{t}" for t in _vocab_terms(expanded)]
    return found


def _compare(original: Any, kept: Any, path: str, found: list[str]) -> None:
    if isinstance(original, list):
        kept_list = kept if isinstance(kept, list) else [kept]
        for index, item in enumerate(original):
            there = kept_list[index] if index < len(kept_list) else None
            _compare(item, there, f"{path}/{index}", found)
    elif isinstance(original, dict):
        if isinstance(kept, list) and len(kept) == 1:
            kept = kept[0]
        if isinstance(kept, str) and original.get("id") == kept:
            return  # a node reference compacts to its id alone
        kept_dict = kept if isinstance(kept, dict) else {}
        for key, value in original.items():
            if key == "@context":
                continue
            where = f"{path}/{key.replace('~', '~0').replace('/', '~1')}"
            if key not in kept_dict:
                found.append(where)
            else:
                _compare(value, kept_dict[key], where, found)


def _vocab_terms(value: Any) -> list[str]:
    if isinstance(value, list):
        return [t for item in value for t in _vocab_terms(item)]
    if isinstance(value, dict):
        own = [k.removeprefix(ISSUER_DEPENDENT) for k in value if k.startswith(ISSUER_DEPENDENT)]
        return own + [t for item in value.values() for t in _vocab_terms(item)]
    return []


def _skolemize(expanded: list[Any], labels: list[int], random: str) -> list[Any]:
    """Give every node object without an ``@id`` a ``urn:bnid:`` IRI (blank ones keep their
    label), recursively, so that selections of it keep their links."""
    out: list[Any] = []
    for element in expanded:
        if not isinstance(element, dict) or "@value" in element:
            out.append(copy.deepcopy(element))
            continue
        node: dict[str, Any] = {
            key: _skolemize(value, labels, random)
            if isinstance(value, list)
            else _skolemize([value], labels, random)[0]
            for key, value in element.items()
        }
        if "@id" not in node:
            node["@id"] = f"{_SKOLEM}b{random}n{labels[0]}"
            labels[0] += 1
        elif str(node["@id"]).startswith("_:"):
            node["@id"] = _SKOLEM + str(node["@id"])[2:]
        out.append(node)
    return out


def _deskolemize(part: dict[str, Any]) -> dict[str, Any]:
    value = str(part.get("value", ""))
    if part.get("type") == "IRI" and value.startswith(_SKOLEM):
        return {"type": "blank node", "value": "_:" + value.removeprefix(_SKOLEM)}
    return part


def _deskolemized(document: Any, loader: DocumentLoader) -> dict[str, list[Quad]]:
    """The dataset of a skolemised document with its ``urn:bnid:`` IRIs blank again."""
    dataset: dict[str, list[Quad]] = {}
    for graph, triples in _dataset(document, loader).items():
        name = "_:" + graph.removeprefix(_SKOLEM) if graph.startswith(_SKOLEM) else graph
        dataset[name] = [{k: _deskolemize(v) for k, v in t.items()} for t in triples]
    return dataset


def _canonical_relabelled(
    dataset: dict[str, list[Quad]], hmac_key: bytes
) -> tuple[list[str], dict[str, str]]:
    """Canonical N-Quads with each ``c14nN`` label replaced by ``u`` + base64url(HMAC(label)),
    sorted; and the map from input labels to those labels."""
    canonical, issued = canonical_dataset(dataset)
    c14n_to_new: dict[str, str] = {}
    label_map: dict[str, str] = {}
    for source, c14n in issued.items():
        digest = hmac.new(hmac_key, c14n[2:].encode(), hashlib.sha256).digest()
        new = "u" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        c14n_to_new[c14n[2:]] = new
        label_map[source[2:]] = new
    lines = [serialize_quad(relabelled(quad, c14n_to_new)) for quad in canonical]
    return sorted(lines, key=utf16_order), label_map


def parse_pointer(pointer: str) -> list[str | int]:
    """RFC 6901 JSON pointer → path (array indexes as ints)."""
    if pointer and not pointer.startswith("/"):
        raise InputError(f"JSON pointer {pointer!r} must start with '/'", rule="json-pointer")
    out: list[str | int] = []
    for part in pointer.split("/")[1:]:
        if "~" in part:
            out.append(part.replace("~1", "/").replace("~0", "~"))
        else:
            out.append(int(part) if part.isdigit() else part)
    return out


class _Sparse(dict[int, Any]):
    """An array under selection: indexes chosen so far (made dense at the end)."""


def _initial(source: Any) -> dict[str, Any]:
    selection: dict[str, Any] = {}
    if isinstance(source, dict):
        node_id = source.get("id")
        if isinstance(node_id, str) and not node_id.startswith("_:"):
            selection["id"] = node_id
        if source.get("type"):
            selection["type"] = source["type"]
    return selection


def _child(parent: Any, step: str | int, pointer: str) -> Any:
    try:
        if isinstance(parent, list):
            if not isinstance(step, int):
                raise KeyError(step)
            return parent[step]
        if isinstance(parent, dict):
            return parent[str(step)]
    except (KeyError, IndexError):
        pass
    raise InputError(
        f"JSON pointer {pointer!r} does not match the credential",
        field=pointer,
        rule="ecdsa-sd-2023.pointer",
    )


def _select_path(document: Any, pointer: str, selection: dict[str, Any]) -> None:
    steps = parse_pointer(pointer)
    value: Any = document
    selected: Any = selection
    parent: Any = selection
    for step in steps:
        parent = selected
        value = _child(value, step, pointer)
        key: Any = step if isinstance(parent, _Sparse) else str(step)
        selected = parent.get(key)
        if selected is None:
            selected = _Sparse() if isinstance(value, list) else _initial(value)
            parent[key] = selected
    if isinstance(value, dict):
        final: Any = {**selected, **copy.deepcopy(value)}
    else:
        final = copy.deepcopy(value)
    last = steps[-1]
    parent[last if isinstance(parent, _Sparse) else str(last)] = final


def _dense(value: Any) -> Any:
    if isinstance(value, _Sparse):
        return [_dense(value[i]) for i in sorted(value)]
    if isinstance(value, dict):
        return {k: _dense(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dense(v) for v in value]
    return value


def select_json_ld(document: dict[str, Any], pointers: Iterable[str]) -> dict[str, Any] | None:
    """The part of a compact JSON-LD document the pointers select, with the ``id`` and
    ``type`` of every node on the way and the document's ``@context``; ``None`` for none."""
    pointers = list(pointers)
    if not pointers:
        return None
    selection: dict[str, Any] = {"@context": copy.deepcopy(document.get("@context"))}
    selection.update(_initial(document))
    for pointer in pointers:
        if not parse_pointer(pointer):
            return copy.deepcopy(document)
        _select_path(document, pointer, selection)
    result: dict[str, Any] = _dense(selection)
    return result


def canonicalize_and_group(
    document: dict[str, Any],
    hmac_key: bytes,
    mandatory_pointers: Sequence[str],
    loader: DocumentLoader,
) -> Grouped:
    """Skolemise, canonicalise and relabel ``document``; split its quads by the pointers."""
    try:
        expanded = jsonld.expand(document, _options(loader))
        skolemized = _skolemize(expanded, [0], os.urandom(8).hex())
        compact = jsonld.compact(skolemized, document["@context"], _options(loader))
    except jsonld.JsonLdError as exc:
        raise _jsonld_error(exc) from exc
    nquads, label_map = _canonical_relabelled(_deskolemized(skolemized, loader), hmac_key)
    selection = select_json_ld(compact, mandatory_pointers)
    chosen: set[str] = set()
    if selection is not None:
        for quad in quads_of(_deskolemized(selection, loader)):
            chosen.add(serialize_quad(relabelled(quad, label_map)))
    mandatory = [q for q in nquads if q in chosen]
    return Grouped(mandatory, [q for q in nquads if q not in chosen])


def _proof_options(document: dict[str, Any], proof: dict[str, Any]) -> dict[str, Any]:
    options = {"@context": document["@context"], **proof}
    options.pop("proofValue", None)
    return options


def _p1363(der: bytes) -> bytes:
    r, s = decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def _sign(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    return _p1363(key.sign(data, ec.ECDSA(hashes.SHA256())))


def _valid(key: ec.EllipticCurvePublicKey, signature: bytes, data: bytes) -> bool:
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    try:
        key.verify(der, data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def sign_base_proof(
    credential: dict[str, Any],
    key: ec.EllipticCurvePrivateKey,
    verification_method: str,
    loader: DocumentLoader,
    *,
    created: str,
    mandatory_pointers: Sequence[str] = DEFAULT_MANDATORY,
) -> dict[str, Any]:
    """``credential`` with an ``ecdsa-sd-2023`` base proof by ``key`` (an assertion method)."""
    document = {k: v for k, v in credential.items() if k != "proof"}
    proof: dict[str, Any] = {
        "type": "DataIntegrityProof",
        "created": created,
        "verificationMethod": verification_method,
        "cryptosuite": CRYPTOSUITE,
        "proofPurpose": "assertionMethod",
    }
    proof_hash = hashlib.sha256(canonicalize(_proof_options(document, proof), loader).encode())
    hmac_key = os.urandom(32)
    grouped = canonicalize_and_group(document, hmac_key, mandatory_pointers, loader)
    ephemeral = ec.generate_private_key(ec.SECP256R1())
    signatures = tuple(_sign(ephemeral, q.encode()) for q in grouped.non_mandatory)
    public_key = public_multikey_bytes(ephemeral.public_key())
    mandatory_hash = hashlib.sha256("".join(grouped.mandatory).encode()).digest()
    base_signature = _sign(key, proof_hash.digest() + public_key + mandatory_hash)
    value = BaseProofValue(
        base_signature, public_key, hmac_key, signatures, tuple(mandatory_pointers)
    )
    proof["proofValue"] = value.encode()
    return {**document, "proof": proof}


def verify_base_proof(
    signed: dict[str, Any], did_document: dict[str, Any], loader: DocumentLoader
) -> list[str]:
    """Problems with ``signed``'s ``ecdsa-sd-2023`` base proof (empty: valid).

    The issuer key is the proof's verification method in ``did_document``, which must be the
    credential's issuer's DID document and list the method under ``assertionMethod``.
    """
    proof = signed.get("proof")
    if not isinstance(proof, dict):
        return ["/proof: missing or not a single proof object"]
    if proof.get("type") != "DataIntegrityProof" or proof.get("cryptosuite") != CRYPTOSUITE:
        return ["/proof: not a DataIntegrityProof with cryptosuite ecdsa-sd-2023"]
    if proof.get("proofPurpose") != "assertionMethod":
        return ["/proof/proofPurpose: must be assertionMethod"]
    method = str(proof.get("verificationMethod", ""))
    issuer = signed.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    if method.split("#")[0] != issuer_id or did_document.get("id") != issuer_id:
        return ["/proof/verificationMethod: not a key of the credential's issuer"]
    try:
        issuer_key = multikey_public(did_document, method)
        value = BaseProofValue.decode(proof.get("proofValue"))
        ephemeral = public_key_from_multikey_bytes(value.public_key)
        document = {k: v for k, v in signed.items() if k != "proof"}
        options = _proof_options(document, proof)
        proof_hash = hashlib.sha256(canonicalize(options, loader).encode()).digest()
        grouped = canonicalize_and_group(document, value.hmac_key, value.mandatory_pointers, loader)
    except InputError as exc:
        return [f"{exc.field or '/proof'}: {exc.message}"]
    mandatory_hash = hashlib.sha256("".join(grouped.mandatory).encode()).digest()
    problems = []
    if not _valid(issuer_key, value.base_signature, proof_hash + value.public_key + mandatory_hash):
        problems.append(
            "/proof: the base signature does not match the proof options and the "
            "mandatory statements"
        )
    if len(value.signatures) != len(grouped.non_mandatory):
        problems.append(
            f"/proof: {len(value.signatures)} statement signatures for "
            f"{len(grouped.non_mandatory)} non-mandatory statements"
        )
    else:
        bad = sum(
            not _valid(ephemeral, sig, quad.encode())
            for sig, quad in zip(value.signatures, grouped.non_mandatory, strict=True)
        )
        if bad:
            problems.append(f"/proof: {bad} statement signature(s) do not match the credential")
    return problems

"""OpenAttestation v2 (TradeTrust ``.tt``): wrap, obfuscate, verify integrity.

What OpenAttestation 2.0 specifies, and this module does the same way:

* **Salting.** Every leaf value of the raw document becomes the string
  ``<uuid4>:<type>:<value>`` (``type`` is ``string``, ``number``, ``boolean`` or ``null``).
* **Field hashes.** The salted ``data`` is flattened to ``{"a.b.0.c": leaf}`` (keys joined
  with ``.``, list indices as keys; a key may not contain ``.``); each pair is hashed as
  ``keccak256(JSON.stringify({key: leaf}))``, hex.
* **Target hash.** The field hashes plus ``privacy.obfuscatedData`` (hashes of removed
  fields), sorted, are hashed as ``keccak256(JSON.stringify(sorted))``.
* **Merkle root.** Over the batch's target hashes, a pair hashes as keccak256 of its two
  32-byte values concatenated in ascending order; a lone node moves up unchanged. The
  document carries ``signature = {type: SHA3MerkleProof, targetHash, proof, merkleRoot}``.

keccak-256 is Ethereum's hash (Keccak with its original padding), not NIST SHA3-256; it comes
from pycryptodome. ``JSON.stringify`` is reproduced with compact separators and no ASCII
escaping, which writes the same bytes for every value a salted document holds.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from Crypto.Hash import keccak

from gateway.errors import FieldError

OA_V2 = "https://schema.openattestation.com/2.0/schema.json"
PROOF_TYPE = "SHA3MerkleProof"


def keccak256(data: bytes) -> bytes:
    """Ethereum keccak-256 of ``data``."""
    return keccak.new(digest_bits=256, data=data).digest()


def js_stringify(value: Any) -> str:
    """``JSON.stringify`` of a JSON value, as JavaScript writes it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_js_number)


def _js_number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def _typed(value: Any) -> str:
    if value is None:
        return "null:null"
    if isinstance(value, bool):
        return f"boolean:{'true' if value else 'false'}"
    if isinstance(value, int | Decimal | float):
        return f"number:{js_stringify(value)}"
    if isinstance(value, str):
        return f"string:{value}"
    raise FieldError(f"cannot salt a {type(value).__name__}", rule="oa.value-type")


def salt(data: Any, make_salt: Callable[[], str] = lambda: str(uuid.uuid4())) -> Any:
    """Every leaf of ``data`` salted as ``<salt>:<type>:<value>``."""
    if isinstance(data, dict):
        return {key: salt(value, make_salt) for key, value in data.items()}
    if isinstance(data, list):
        return [salt(value, make_salt) for value in data]
    return f"{make_salt()}:{_typed(data)}"


def unsalt(data: Any) -> Any:
    """The raw values back from salted ``data`` (numbers as :class:`Decimal`)."""
    if isinstance(data, dict):
        return {key: unsalt(value) for key, value in data.items()}
    if isinstance(data, list):
        return [unsalt(value) for value in data]
    if not isinstance(data, str) or data.count(":") < 2:
        return data
    _salt, kind, text = data.split(":", 2)
    if kind == "number":
        return Decimal(text)
    if kind == "boolean":
        return text == "true"
    if kind == "null":
        return None
    return text


def flatten(data: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``(dotted key, leaf)`` pairs; empty objects and lists are leaves themselves."""
    if isinstance(data, dict | list) and data:
        items = data.items() if isinstance(data, dict) else enumerate(data)
        for key, value in items:
            name = str(key)
            if "." in name:
                raise FieldError(
                    f"OpenAttestation key {name!r} contains '.'", field=prefix, rule="oa.key"
                )
            yield from flatten(value, f"{prefix}.{name}" if prefix else name)
    elif prefix:
        yield prefix, data


def field_hashes(data: Any) -> list[str]:
    """The hex keccak-256 of each flattened field of salted ``data``."""
    return [keccak256(js_stringify({key: leaf}).encode()).hex() for key, leaf in flatten(data)]


def target_hash(document: dict[str, Any]) -> str:
    """The document's digest: its visible field hashes and obfuscated hashes, sorted."""
    obfuscated = document.get("privacy", {}).get("obfuscatedData", [])
    hashes = sorted([*obfuscated, *field_hashes(document.get("data", {}))])
    return keccak256(js_stringify(hashes).encode()).hex()


def combine(first: bytes, second: bytes) -> bytes:
    """One Merkle node from two children, order-independent."""
    low, high = sorted((first, second))
    return keccak256(low + high)


@dataclass(slots=True)
class MerkleTree:
    """OpenAttestation's batch tree over target hashes (sorted, de-duplicated leaves)."""

    leaves: list[bytes]
    layers: list[list[bytes]] = field(init=False)

    def __post_init__(self) -> None:
        self.leaves = sorted(set(self.leaves))
        layer = self.leaves
        self.layers = [layer]
        while len(layer) > 1:
            layer = [
                combine(layer[i], layer[i + 1]) if i + 1 < len(layer) else layer[i]
                for i in range(0, len(layer), 2)
            ]
            self.layers.append(layer)

    @property
    def root(self) -> bytes:
        return self.layers[-1][0]

    def proof(self, leaf: bytes) -> list[bytes]:
        """The sibling hashes from ``leaf`` up to the root."""
        index = self.leaves.index(leaf)
        siblings: list[bytes] = []
        for layer in self.layers[:-1]:
            pair = index + 1 if index % 2 == 0 else index - 1
            if pair < len(layer):
                siblings.append(layer[pair])
            index //= 2
        return siblings


def wrap_documents(
    raws: Sequence[dict[str, Any]], make_salt: Callable[[], str] | None = None
) -> list[dict[str, Any]]:
    """Wrap a batch of raw OA v2 documents under one Merkle root."""
    salted = [
        {"version": OA_V2, "data": salt(raw) if make_salt is None else salt(raw, make_salt)}
        for raw in raws
    ]
    targets = [bytes.fromhex(target_hash(doc)) for doc in salted]
    tree = MerkleTree(list(targets))
    for doc, target in zip(salted, targets, strict=True):
        doc["signature"] = {
            "type": PROOF_TYPE,
            "targetHash": target.hex(),
            "proof": [p.hex() for p in tree.proof(target)],
            "merkleRoot": tree.root.hex(),
        }
    return salted


def wrap_document(raw: dict[str, Any]) -> dict[str, Any]:
    """Wrap one raw document (its Merkle root is its target hash)."""
    return wrap_documents([raw])[0]


def obfuscate(document: dict[str, Any], path: str) -> dict[str, Any]:
    """A copy of a wrapped document with the field(s) at dotted ``path`` removed and their
    hashes kept in ``privacy.obfuscatedData``; it still verifies."""
    out = copy.deepcopy(document)
    removed = [
        (key, leaf)
        for key, leaf in flatten(out["data"])
        if key == path or key.startswith(path + ".")
    ]
    if not removed:
        raise FieldError(f"no field {path!r} to obfuscate", field=path, rule="oa.obfuscate")
    parts = path.split(".")
    node: Any = out["data"]
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node.pop(int(parts[-1]))
    else:
        del node[parts[-1]]
    hashes = [keccak256(js_stringify({k: v}).encode()).hex() for k, v in removed]
    privacy = out.setdefault("privacy", {})
    privacy["obfuscatedData"] = [*privacy.get("obfuscatedData", []), *hashes]
    return out


@dataclass(frozen=True, slots=True)
class OaVerification:
    """Integrity of a wrapped document: which checks passed, and why one failed."""

    target_hash_ok: bool
    merkle_root_ok: bool
    problems: tuple[str, ...] = ()

    @property
    def valid(self) -> bool:
        return self.target_hash_ok and self.merkle_root_ok


def verify_document(document: Any) -> OaVerification:
    """Check a wrapped OA v2 document's integrity (data → targetHash → merkleRoot).

    Issuance status (a token minted for the Merkle root in a token registry, or a document
    store) is a separate check: :mod:`gateway.signing.title_registry`.
    """
    signature = document.get("signature") if isinstance(document, dict) else None
    if not isinstance(signature, dict) or signature.get("type") != PROOF_TYPE:
        return OaVerification(False, False, (f"signature is not a {PROOF_TYPE}",))
    problems: list[str] = []
    try:
        computed = target_hash(document)
    except FieldError as exc:
        return OaVerification(False, False, (exc.message,))
    stated = signature.get("targetHash")
    target_ok = computed == stated
    if not target_ok:
        problems.append(f"targetHash {stated} does not match the data (computed {computed})")
    root_ok = False
    try:
        node = bytes.fromhex(str(stated))
        for sibling in signature.get("proof") or []:
            node = combine(node, bytes.fromhex(str(sibling)))
        root_ok = node.hex() == signature.get("merkleRoot")
    except ValueError:
        problems.append("targetHash, proof or merkleRoot is not hex")
    if not root_ok:
        problems.append("the proof does not lead from targetHash to merkleRoot")
    return OaVerification(target_ok, root_ok, tuple(problems))

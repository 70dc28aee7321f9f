"""OpenAttestation v2: the TradeTrust sample wrapped by OpenAttestation's own code verifies
with our verifier, a tampered copy fails; what we wrap verifies, obfuscated or batched."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from gateway.signing.openattestation import (
    keccak256,
    obfuscate,
    unsalt,
    verify_document,
    wrap_document,
    wrap_documents,
)


@pytest.fixture(scope="module")
def tradetrust(reference: Path) -> Path:
    return reference / "ebl" / "tradetrust"


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_keccak_is_not_sha3() -> None:
    assert keccak256(b"").hex() == (
        "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    )


def test_reference_wrapped_sample_verifies(tradetrust: Path) -> None:
    sample = _load(tradetrust / "samples" / "oa-v2.wrapped.ebl.token-registry-v5.amoy.tt.json")
    verdict = verify_document(sample)
    assert verdict.valid, verdict.problems


@pytest.mark.parametrize(
    "tamper",
    [
        lambda d: d["data"].__setitem__("blNumber", d["data"]["blNumber"] + "0"),
        lambda d: d["data"]["shipper"].pop("name"),
        lambda d: d["signature"].__setitem__("merkleRoot", "00" * 32),
        lambda d: d["signature"].__setitem__("targetHash", "ab" * 32),
        lambda d: d["data"].__setitem__("extra", "x:string:y"),
    ],
    ids=["value", "removed", "root", "target", "added"],
)
def test_tampered_sample_fails(tradetrust: Path, tamper: object) -> None:
    sample = _load(tradetrust / "samples" / "oa-v2.wrapped.ebl.token-registry-v5.amoy.tt.json")
    tampered = copy.deepcopy(sample)
    tamper(tampered)  # type: ignore[operator]
    assert not verify_document(tampered).valid


@pytest.mark.parametrize("name", ["oa-v2.0-sample-token.json", "oa-v2.0-sample-document.json"])
def test_reference_raw_samples_wrap_and_verify(tradetrust: Path, name: str) -> None:
    raw = _load(tradetrust / "openattestation" / name)
    wrapped = wrap_document(raw)
    assert wrapped["signature"]["merkleRoot"] == wrapped["signature"]["targetHash"]
    assert verify_document(wrapped).valid
    assert unsalt(wrapped["data"]) == raw
    hidden = obfuscate(wrapped, "issuers.0.name")
    assert "name" not in hidden["data"]["issuers"][0]
    assert verify_document(hidden).valid
    tampered = copy.deepcopy(wrapped)
    tampered["data"]["issuers"][0]["name"] = tampered["data"]["issuers"][0]["name"] + "!"
    assert not verify_document(tampered).valid


def test_batch_shares_one_root(tradetrust: Path) -> None:
    raw = _load(tradetrust / "openattestation" / "oa-v2.0-sample-token.json")
    batch = wrap_documents([{**raw, "id": str(i)} for i in range(5)])
    roots = {d["signature"]["merkleRoot"] for d in batch}
    assert len(roots) == 1
    assert all(verify_document(d).valid for d in batch)
    assert {len(d["signature"]["proof"]) for d in batch} == {1, 3}
    swapped = copy.deepcopy(batch[0])
    swapped["signature"]["proof"] = batch[1]["signature"]["proof"]
    assert not verify_document(swapped).valid

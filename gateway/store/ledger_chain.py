"""The export ledger's hash chain: how an entry's hash is made, and how a chain is checked.

Each entry's hash is SHA-256 over the previous entry's hash and the entry's own fields as
canonical JSON (sorted keys, no spaces), so changing, removing, inserting or reordering an
entry breaks the chain at that entry. The head row names the last entry; signed checkpoints
(the gateway's signing key, checked against a certificate the verifier trusts) fix the chain
up to a point, so rewriting every hash after an edit is caught up to the last checkpoint. What
lies in the same database can be cut together with the entries: entries cut off the end (with
their checkpoints and the head moved back) are caught only against the anchor file, the
checkpoints kept outside the database (:mod:`gateway.store.ledger_anchor`).
:func:`verify_chain` names the first problem.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64
"""The previous hash of the first entry."""

ENTRY_FIELDS = (
    "at",
    "exporter",
    "destination",
    "recipient",
    "submission_id",
    "document_id",
    "digest",
    "categories",
    "subjects",
    "basis",
    "article",
    "policy_version",
    "decided_by",
)
"""What an entry records (and its hash covers), besides its place in the chain."""

LATER_FIELDS = ("tenant_id", "principal")
"""Fields entries record since a later schema (``tenant_id``: migration 17; ``principal``,
the authenticated principal that decided: migration 18): the hash covers
each one an entry has (not ``NULL``), so older entries keep the hashes they were written
with, and a field set on an older entry, or taken from a newer one, breaks the chain there."""


def entry_text(entry: Mapping[str, Any]) -> str:
    """The entry's fields as the hash covers them: canonical JSON (sorted keys, no spaces,
    UTF-8 as is)."""
    body = {name: entry[name] for name in ENTRY_FIELDS}
    body.update({name: entry[name] for name in LATER_FIELDS if entry.get(name) is not None})
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def sha256_hex(text: str) -> str:
    """SHA-256 in hex over ``text``'s UTF-8: the chain's hash function (SQLite's
    ``lingang_sha256``; PostgreSQL's ``sha256(convert_to(text, 'UTF8'))`` is the same)."""
    return hashlib.sha256(text.encode()).hexdigest()


def chained_hash(prev_hash: str, text: str) -> str:
    """The hash over ``prev_hash``, a line feed and the entry's :func:`entry_text`. The
    store computes the same in SQL when it appends (the ``ledger_chain_entry`` query), so
    the head's lock is never held while the gateway waits for an answer."""
    return sha256_hex(f"{prev_hash}\n{text}")


def entry_hash(prev_hash: str, entry: Mapping[str, Any]) -> str:
    """The hash of ``entry`` chained after ``prev_hash``."""
    return chained_hash(prev_hash, entry_text(entry))


def checkpoint_payload(seq: int, head_hash: str, at: str) -> bytes:
    """The bytes a checkpoint signs."""
    body = {"seq": seq, "head_hash": head_hash, "at": at}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class ChainReport:
    """What :func:`verify_chain` found."""

    ok: bool
    entries: int
    checkpoints: int
    problem: str = ""
    """The first problem, naming the entry (empty when ``ok``)."""
    seq: int | None = None
    """The sequence number of the first entry found wrong."""
    anchored: int = 0
    """Checkpoints of the anchor file found in the chain (``lingang ledger verify``)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "checkpoints": self.checkpoints,
            "anchored": self.anchored,
            "problem": self.problem,
            "seq": self.seq,
        }


def verify_chain(
    entries: Sequence[Mapping[str, Any]],
    head: Mapping[str, Any],
    checkpoints: Sequence[Mapping[str, Any]] = (),
    check_signature: Callable[[bytes, str, str], bool] | None = None,
) -> ChainReport:
    """Check ``entries`` (rows in ``seq`` order) against each other, the ``head`` row and
    the ``checkpoints`` (their signatures with ``check_signature(payload, signature,
    certificate)`` when given). Names the first edited, removed, inserted or reordered one."""
    count, marks = len(entries), len(checkpoints)

    def bad(seq: int | None, problem: str) -> ChainReport:
        return ChainReport(False, count, marks, problem, seq)

    hashes = {str(e["entry_hash"]): i for i, e in enumerate(entries)}
    previous = GENESIS
    for index, entry in enumerate(entries):
        seq = int(entry["seq"])
        if entry_hash(str(entry["prev_hash"]), entry) != entry["entry_hash"]:
            return bad(seq, f"entry {seq} was edited (its hash does not match its contents)")
        if entry["prev_hash"] != previous:
            return bad(seq, _break(entries, index, hashes))
        if index and seq != int(entries[index - 1]["seq"]) + 1:
            return bad(seq, f"entry {int(entries[index - 1]['seq']) + 1} was removed "
                            f"(the sequence jumps to {seq})")  # fmt: skip
        if not index and seq != 1:
            return bad(seq, f"entries before {seq} were removed (the ledger starts at {seq})")
        previous = str(entry["entry_hash"])
    last_seq = int(entries[-1]["seq"]) if entries else 0
    if int(head["seq"]) != last_seq or head["hash"] != previous:
        if int(head["seq"]) > last_seq:
            return bad(last_seq + 1, f"entry {last_seq + 1} was removed (the head names entry "
                                     f"{int(head['seq'])})")  # fmt: skip
        return bad(int(head["seq"]) + 1, f"entry {int(head['seq']) + 1} was inserted after the "
                                         "head the gateway wrote")  # fmt: skip
    by_seq = {int(e["seq"]): e for e in entries}
    agreed = 0
    for mark in sorted(checkpoints, key=lambda m: int(m["seq"])):
        seq = int(mark["seq"])
        payload = checkpoint_payload(seq, str(mark["head_hash"]), str(mark["at"]))
        if check_signature is not None and not check_signature(
            payload, str(mark["signature"]), str(mark["certificate"])
        ):
            return bad(seq, f"checkpoint at entry {seq} has a bad signature")
        covered = by_seq.get(seq)
        if covered is None:
            return bad(seq, f"entry {seq} was removed (signed checkpoint {seq} covers it)")
        if covered["entry_hash"] != mark["head_hash"]:
            return bad(
                agreed + 1,
                f"an entry from {agreed + 1} to {seq} was changed and the chain rewritten "
                f"after it (signed checkpoint {seq} disagrees)",
            )
        agreed = seq
    return ChainReport(True, count, marks)


def _break(entries: Sequence[Mapping[str, Any]], index: int, hashes: Mapping[str, int]) -> str:
    """Why entry ``index`` does not follow the one before it."""
    entry = entries[index]
    seq = int(entry["seq"])
    points_to = hashes.get(str(entry["prev_hash"]))
    if points_to is not None and points_to > index:
        return f"entry {seq} is out of order (it follows entry {int(entries[points_to]['seq'])})"
    if points_to is not None and points_to == index - 2:
        before = int(entries[index - 1]["seq"])
        return f"entry {before} was inserted (entry {seq} follows entry {before - 1})"
    if points_to is not None and points_to < index - 1:
        return f"entry {seq} is out of order (it follows entry {int(entries[points_to]['seq'])})"
    if index and entries[index - 1]["prev_hash"] not in hashes and index > 1:
        return f"entry {int(entries[index - 1]['seq'])} was inserted"
    return f"an entry before {seq} was removed (entry {seq} follows an entry no longer there)"

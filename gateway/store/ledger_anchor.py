"""The ledger's anchor: its signed checkpoints, kept outside the database as well.

A checkpoint kept only in the ledger's own database proves nothing against whoever can
write that database: deleting the last entries, the checkpoints that name them and moving
the head back leaves a shorter chain that checks. So every checkpoint the gateway signs is
also appended, one JSON line each, to an anchor file (``[policy] ledger_anchor``; an operator
ships it to write-once storage), and ``lingang ledger verify --anchor FILE`` requires every
checkpoint the file names to be in the chain with the same hash: entries cut off the end,
and a chain rewritten from an anchored entry on, are then caught. The lines carry their
signature, so a line forged in the file fails against the trusted certificate too.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from gateway.private_files import fsync_path, private_dir

ANCHOR_FIELDS = ("seq", "head_hash", "at", "signature")
"""What a line of the anchor file holds (the checkpoint's payload and its signature)."""
MAX_ANCHOR_LINE = 64 * 1024
"""Longest line read back (a checkpoint's line is under 2 KiB)."""


def anchor_line(mark: Mapping[str, Any]) -> bytes:
    """The anchor file's line for a signed checkpoint (canonical JSON and a line feed)."""
    body = {name: mark[name] for name in ANCHOR_FIELDS}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode() + b"\n"


def append_anchor(path: Path, mark: Mapping[str, Any]) -> None:
    """Append ``mark`` to the anchor file at ``path`` and flush it to disk (the folder is
    made owner-only when missing; the file is only ever appended to). The line is written
    whole (a short write goes on where it stopped), and a file this call creates is
    ``fsync``-ed into its folder as well: the first checkpoint's line, synced in a file
    whose name a power cut then lost, was no anchor."""
    private_dir(path.parent)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o600)
        created = True
    except FileExistsError:
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND)
        created = False
    try:
        line = memoryview(anchor_line(mark))
        while line:
            line = line[os.write(descriptor, line) :]
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    if created:
        fsync_path(path.parent)


class AnchorError(ValueError):
    """An anchor file that cannot be read as one; the message names the file and line."""


def read_anchor(path: Path) -> list[dict[str, Any]]:
    """The checkpoints an anchor file names, in file order."""
    marks: list[dict[str, Any]] = []
    with path.open("rb") as stream:
        for number, raw in enumerate(stream, start=1):
            if len(raw) > MAX_ANCHOR_LINE:
                raise AnchorError(f"{path}, line {number}: longer than {MAX_ANCHOR_LINE} bytes")
            if not raw.strip():
                continue
            try:
                mark = json.loads(raw)
            except ValueError as exc:
                raise AnchorError(f"{path}, line {number}: not JSON ({exc})") from exc
            if not isinstance(mark, dict) or any(name not in mark for name in ANCHOR_FIELDS):
                raise AnchorError(f"{path}, line {number}: not a checkpoint ({ANCHOR_FIELDS})")
            if not isinstance(mark["seq"], int) or mark["seq"] < 1:
                raise AnchorError(f"{path}, line {number}: seq is not a positive whole number")
            marks.append({**mark, "line": number, "file": str(path)})
    return marks


def anchored_problem(
    entries: Sequence[Mapping[str, Any]], anchored: Sequence[Mapping[str, Any]]
) -> tuple[int, str] | None:
    """The first anchored checkpoint the chain does not hold, as (entry, why), or ``None``.

    ``entries`` is the chain as :func:`~gateway.store.ledger_chain.verify_chain` accepted it;
    an anchored entry missing from it was cut off, one with another hash was rewritten."""
    by_seq = {int(entry["seq"]): str(entry["entry_hash"]) for entry in entries}
    for mark in sorted(anchored, key=lambda m: int(m["seq"])):
        seq = int(mark["seq"])
        where = f"{mark.get('file', 'the anchor')}, line {mark.get('line', '?')}"
        held = by_seq.get(seq)
        if held is None:
            return seq, (
                f"entry {seq} was removed: the chain ends at {len(entries)}, and the anchored "
                f"checkpoint {seq} ({where}) names it"
            )
        if held != mark["head_hash"]:
            return seq, (
                f"entry {seq} or one before it was changed and the chain rewritten (the "
                f"anchored checkpoint {seq}, {where}, disagrees)"
            )
    return None

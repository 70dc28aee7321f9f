"""Shared by ``lingang ebl issue / transfer / history``: the configured PINT platform."""

from __future__ import annotations

import argparse
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from adapters.base import AdapterContext
from adapters.dcsa_pint import PintAdapter
from adapters.dcsa_pint.platform import Attachment, PintPlatform
from gateway.cli._stores import open_command_store
from gateway.errors import ConfigError, FieldError, InputError
from gateway.ingest.source import FileTooLarge, read_bounded_file
from gateway.jobs.gate import TransferGate
from gateway.jsontext import unique_members
from gateway.settings import AdapterConfig, Settings

MAX_INPUT_BYTES = 16 * 1024 * 1024
"""Largest transport document (JSON) read: the API's ``MAX_EBL_BYTES`` for a request body."""


def add_platform_arguments(parser: argparse.ArgumentParser) -> None:
    """``--config`` and ``--adapter`` (which ``dcsa_pint`` table, when there are several)."""
    parser.add_argument("--config", type=Path, help="lingang.toml (default: $LINGANG_CONFIG)")
    parser.add_argument("--adapter", help="the [adapters.NAME] of type dcsa_pint to use")
    parser.add_argument("--json", action="store_true", help="print JSON")


def add_document_arguments(parser: argparse.ArgumentParser) -> None:
    """``--document FILE`` (repeatable): supporting documents sent with the eBL."""
    parser.add_argument(
        "--document",
        action="append",
        type=Path,
        default=[],
        metavar="FILE",
        help="a supporting document to send with the eBL (repeatable)",
    )


MEDIA_TYPES = {
    ".pdf": "application/pdf",
    ".json": "application/json",
    ".xml": "application/xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
}
"""Media types by file name suffix (else ``application/octet-stream``)."""


def read_limited(path: Path, option: str, limit: int, setting: str) -> bytes:
    """The bytes of ``path`` (given with ``option``), never more than ``limit`` of them held
    (:func:`~gateway.ingest.source.read_bounded_file`): a :class:`FieldError` naming the
    option, the file, its size and the limit (``setting``: where the limit comes from) when
    ``stat`` shows it larger, or when it grows past the limit while being read."""
    try:
        return read_bounded_file(path, limit)
    except FileTooLarge as big:
        size = "larger (it grew while being read)" if big.size is None else f"{big.size} bytes"
        raise FieldError(
            f"{option} {path} is {size}; the limit is {limit} bytes ({setting})",
            field=option,
            rule=setting,
        ) from None


def attachment(
    platform: PintPlatform, path: Path, option: str, media_type: str | None = None
) -> Attachment:
    """The file ``path`` given with ``option`` as a document to send with an eBL (its media
    type from its suffix unless given); a :class:`FieldError` naming the option and file
    when it is larger than the adapter's ``max_document_bytes`` (refused before it is read
    whole) or DCSA PINT could not send it (e.g. empty)."""
    limit = platform.document_limit
    found = Attachment(
        path.name,
        read_limited(path, option, limit.bytes, limit.setting),
        media_type or MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream"),
    )
    return found.check(f"{option} {path}", limit)


def attachments(platform: PintPlatform, paths: list[Path]) -> list[Attachment]:
    """The supporting documents named on the command line (``--document``)."""
    return [attachment(platform, p, "--document") for p in paths]


def answer_line(out: Mapping[str, Any]) -> str:
    """An answer as one ``key=value`` line: a nested object's members as ``key.member``,
    nothing for a member that is ``None`` (``exportHold`` of a transfer the gate let go)."""
    pairs: list[str] = []
    for key, value in out.items():
        if isinstance(value, Mapping):
            pairs += [f"{key}.{k}={v}" for k, v in value.items() if v is not None]
        elif value is not None:
            pairs.append(f"{key}={value}")
    return " ".join(pairs)


def read_json(path: Path) -> Any:
    """A JSON input file (``-``: stdin is not supported for eBLs), size-limited as the API
    limits an eBL request body (refused before it is read whole)."""
    data = read_limited(path, "FILE", MAX_INPUT_BYTES, "the eBL request body limit")
    try:
        return json.loads(data, object_pairs_hook=unique_members)
    except (ValueError, RecursionError) as exc:  # a member given twice: see unique_members
        raise InputError(f"{path.name} is not JSON: {exc}", field="FILE") from exc


def transfer_gate(settings: Settings, store: Any) -> TransferGate:
    """The export gate for eBL transfers, as the service builds it (same policy, same key)."""
    from gateway.flows.tools import load_policy_source, load_subject_key
    from gateway.service import tools_spec

    spec = tools_spec(settings)
    return TransferGate(
        load_policy_source(spec.policy_file), load_subject_key(spec), clock=store.clock
    )


def _pint_table(settings: Settings, chosen: str | None) -> tuple[str, AdapterConfig]:
    """The ``[adapters.NAME]`` table of type ``dcsa_pint`` to act as; :class:`ConfigError`
    naming the configuration file and what to do when there is none, or not one."""
    tables = {n: c for n, c in settings.adapters.items() if c.type == "dcsa_pint"}
    where = (
        f"the configuration {settings.source}"
        if settings.source
        else "the built-in configuration (no --config, no $LINGANG_CONFIG)"
    )
    if not tables:
        raise ConfigError(
            f'{where} has no [adapters.NAME] table of type = "dcsa_pint": add one (this '
            "platform's code and key, the carrier, the partner platforms; deploy/lingang.toml "
            "documents it) and name the file with --config or $LINGANG_CONFIG",
            field="adapters",
        )
    if chosen is not None:
        if chosen not in tables:
            raise ConfigError(
                f"--adapter {chosen}: {where} has no [adapters.{chosen}] table of type "
                f"dcsa_pint (it has {', '.join(sorted(tables))})",
                field="adapters",
            )
        return chosen, tables[chosen]
    if len(tables) > 1:
        raise ConfigError(
            f"{where} has several tables of type dcsa_pint ({', '.join(sorted(tables))}): "
            "name one with --adapter",
            field="adapters",
        )
    ((name, config),) = tables.items()
    return name, config


@asynccontextmanager
async def pint_platform(
    args: argparse.Namespace, *, create: bool = True
) -> AsyncIterator[PintPlatform]:
    """The PINT platform of the configuration, over its store; the adapter (its HTTP
    session) and the store are closed however the command ends. ``create=False`` (the
    commands that only read: ``list``, ``history``): an SQLite store that is not there is
    a usage error naming it, not made empty (:func:`~gateway.cli._stores.open_command_store`)."""
    settings = Settings.load(args.config)
    name, config = _pint_table(settings, args.adapter)
    store = await open_command_store(settings.store.url, create=create)
    try:
        context = AdapterContext(
            data_dir=settings.data_dir, store=store, export_gate=transfer_gate(settings, store)
        )
        adapter = PintAdapter.from_config(name, config.options, context)
        try:
            yield adapter.platform
        finally:
            await adapter.aclose()
    finally:
        await store.close()

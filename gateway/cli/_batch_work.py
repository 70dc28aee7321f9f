"""The per-file work of a batch, run in the pool's processes (top-level, so it pickles).

Each process keeps one partner directory per file name and the one-shot validator, so a
batch pays for loading rules once per process, not once per file.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.cli._batch import FAILED, FileResult
from gateway.cli._io import write_output
from gateway.cli._not_validatable import fapiao_not_document
from gateway.errors import LingangError
from gateway.ingest.source import read_input
from gateway.partners import PartnerDirectory

if TYPE_CHECKING:
    from gateway.validation import Validator


@cache
def _validator(rules: str | None = None) -> Validator:
    """This process's validator (loaded once per batch process)."""
    from gateway.cli._validator import one_shot_validator

    return one_shot_validator(rules=rules)


def validate_file(file: str, profile: str | None, rules: str | None = None) -> FileResult:
    """Validate one file: its findings, or the reason it could not be validated."""
    try:
        data = read_input(Path(file))
        refusal = fapiao_not_document(data, file)
        if refusal is not None:
            return FileResult(file, FAILED, profile, error=refusal)
        report = _validator(rules).validate(data, profile)
    except LingangError as exc:
        return FileResult(file, FAILED, profile, error=str(exc))
    return FileResult.from_findings(file, report.profile, [f.to_json() for f in report.findings])


def convert_file(
    file: str,
    profile: str | None,
    partners: str,
    source_format: str,
    out_dir: str,
    validate: bool,
    metadata: dict[str, str] | None = None,
    strict: bool = False,
) -> FileResult:
    """Convert (and validate) one fapiao with the submission ``metadata`` (``--meta``) and
    ``strict``; write ``out_dir/<name>.xml`` only when it passed."""
    from gateway.convert import convert

    try:
        result = convert(
            read_input(Path(file)),
            profile,
            _directory(partners),
            format=source_format,
            metadata=metadata,
            strict=strict,
        )
    except LingangError as exc:
        return FileResult(file, FAILED, profile, error=str(exc))
    findings = [
        {"rule_id": "convert", "flag": "warning", "location": "", "text": text}
        for text in result.warnings
    ]
    if validate:
        report = _validator().validate(result.xml, result.profile, tree=result.tree)
        findings += [f.to_json() for f in report.findings]
    outcome = FileResult.from_findings(file, result.profile, findings)
    if outcome.status != FAILED:
        target = Path(out_dir) / f"{Path(file).stem}.xml"
        write_output(target, result.xml)
        outcome.output = str(target)
    return outcome


@cache
def _directory(path: str) -> PartnerDirectory:
    return PartnerDirectory.load(path)

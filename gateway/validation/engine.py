"""The validator: XSD, then the official Schematron of the document's profile."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from lxml import etree

from gateway.artefacts import INSTALL_HINT, load_manifest, require_files
from gateway.errors import ArtefactError, InputError
from gateway.validation import schematron
from gateway.validation.fastrules import stylesheet_for
from gateway.validation.options import EngineOptions
from gateway.validation.profiles import (
    DOCUMENT_TYPES,
    PROFILE_TABLE,
    SBDH,
    DocumentType,
    Profile,
    RuleFile,
    detect_profile,
    document_type,
)
from gateway.validation.report import Finding, ValidationReport
from gateway.validation.svrl import ENGINE_RULE
from gateway.validation.warmup import CUSTOMIZATION, warmup_invoice
from gateway.validation.xsd import compile_schema, validate_xsd
from gateway.xmlsafe import parse_xml

_DEFAULTS: dict[tuple[Path, EngineOptions], Validator] = {}
_DEFAULTS_LOCK = threading.Lock()


class Validator:
    """Validates documents against the installed official artefacts.

    Artefacts are located (and hash-checked) on first use of each profile and document type;
    schemas and stylesheets are compiled once per process. A missing or corrupt artefact raises
    :class:`~gateway.errors.ArtefactError` naming it and the command that installs it.
    """

    def __init__(
        self,
        home: Path,
        engine: schematron.SchematronEngine | None = None,
        rules: str | None = None,
    ) -> None:
        self.home = home
        self.rules = rules or "fast"
        """Which compiled form of the official rules runs (``official`` or ``fast``)."""
        self._manifest = load_manifest()
        self._paths: dict[tuple[str, str, str], Path] = {}
        self._lock = threading.Lock()
        self._ready: dict[tuple[str, str], tuple[etree.XMLSchema, list[tuple[RuleFile, Any]]]] = {}
        self.engine = engine or schematron.engine(engine_options(home, None))

    @classmethod
    def default(cls, home: Path, options: EngineOptions | None = None) -> Validator:
        """The process's validator for the artefacts in ``home`` and ``options``, cached.

        Checks at once that the artefacts of the ``bis3`` profile are installed.
        """
        home = home.resolve()
        options = engine_options(home, options)
        with _DEFAULTS_LOCK:
            validator = _DEFAULTS.get((home, options))
            if validator is None:
                validator = cls(home, schematron.engine(options), options.rules)
                validator.artefact_paths("bis3", "Invoice")
                _DEFAULTS[(home, options)] = validator
            return validator

    def _path(self, set_name: str, version: str, rel: str) -> Path:
        key = (set_name, version, rel)
        with self._lock:
            path = self._paths.get(key)
            if path is None:
                (path,) = require_files(set_name, version, [rel], self.home, self._manifest)
                self._paths[key] = path
            return path

    def artefact_paths(self, profile: str, doc_type: str) -> list[Path]:
        """Installed files the profile applies to ``doc_type`` (XSD first), hash-checked.

        One :class:`ArtefactError` names every missing or corrupt file of every set involved.
        """
        prof = self.profile(profile)
        dtype = self._dtype(prof, doc_type)
        wanted = [(dtype.xsd_set, dtype.xsd_version, dtype.xsd_path)]
        wanted += [(r.set_name, r.version, r.path) for r in prof.rules[doc_type]]
        paths: list[Path] = []
        problems: list[str] = []
        for set_name, version, rel in wanted:
            try:
                paths.append(self._path(set_name, version, rel))
            except ArtefactError as exc:
                problems.append(exc.message.split("; install")[0])
        if problems:
            raise ArtefactError(
                f"profile {prof.name} cannot validate {_a(doc_type)}: "
                + "; ".join(problems)
                + f"; {INSTALL_HINT}",
                field=prof.name,
                rule="artefacts.missing",
            )
        return paths

    @staticmethod
    def profile(name: str) -> Profile:
        """The profile called ``name``; :class:`InputError` if unknown."""
        try:
            return PROFILE_TABLE[name]
        except KeyError:
            known = ", ".join(PROFILE_TABLE)
            raise InputError(
                f"unknown validation profile {name!r} (known: {known})", field="profile"
            ) from None

    @staticmethod
    def _dtype(prof: Profile, doc_type: str) -> DocumentType:
        if doc_type not in prof.rules:
            raise InputError(
                f"profile {prof.name} does not apply to {_a(doc_type)} document",
                field="profile",
                rule="validation.profile-document-type",
            )
        return next(t for t in DOCUMENT_TYPES if t.name == doc_type)

    def warm(
        self,
        profiles: Sequence[str],
        doc_types: Sequence[str] = ("Invoice",),
        *,
        exercise: bool = False,
    ) -> None:
        """Compile the schemas and stylesheets of ``profiles`` now rather than on first use.

        With ``exercise``, also run the invoice rules once on a synthetic invoice, so that
        Saxon's lazily compiled template rules are ready before the first real document.
        """
        for name in profiles:
            prof = self.profile(name)
            for doc_type in doc_types:
                if doc_type in prof.rules:
                    self._compiled(prof, doc_type)
            if exercise and name in CUSTOMIZATION and "Invoice" in doc_types:
                _, rules = self._compiled(prof, "Invoice")
                sample = warmup_invoice(CUSTOMIZATION[name], self.engine.WARM_LINES)
                self.engine.warm(sample, [(rule.source, exe) for rule, exe in rules])

    def _compiled(
        self, prof: Profile, doc_type: str
    ) -> tuple[etree.XMLSchema, list[tuple[RuleFile, Any]]]:
        key = (prof.name, doc_type)
        ready = self._ready.get(key)
        if ready is None:
            self._dtype(prof, doc_type)
            xsd_path, *rule_paths = self.artefact_paths(prof.name, doc_type)
            rules = [
                (rule, self.engine.compile(stylesheet_for(path, self.rules, self.home)))
                for rule, path in zip(prof.rules[doc_type], rule_paths, strict=True)
            ]
            ready = (compile_schema(xsd_path), rules)
            self._ready[key] = ready
        return ready

    def detect_profile(self, xml: bytes) -> str:
        """The profile :meth:`validate` would choose for ``xml``."""
        return detect_profile(parse_xml(xml, what="document to validate"))

    def validate(
        self, xml: bytes, profile: str | None = None, *, tree: etree._Element | None = None
    ) -> ValidationReport:
        """Validate ``xml`` under ``profile`` (detected when ``None``).

        A StandardBusinessDocument is checked against the SBDH XSD and its payload validated
        under the payload's profile (``profile="xsd"``: the envelope only). Raises
        :class:`InputError` for unreadable or unsafe input or an unknown document type,
        :class:`ArtefactError` when the profile's artefacts are not installed.

        ``tree``: the root element ``xml`` was serialised from, when the caller built it (a
        converted document; never a tree read from outside without :mod:`gateway.xmlsafe`,
        whose limits are skipped here): it is validated as it is instead of parsing ``xml``
        again. The report is the same: should the schema find errors in it, ``xml`` is parsed
        after all, so that they are reported with the lines of ``xml``.
        """
        root = tree if tree is not None else parse_xml(xml, what="document to validate")
        dtype = document_type(root)
        if dtype.name == "StandardBusinessDocument" and profile != "xsd":
            if tree is not None:
                root = parse_xml(xml, what="document to validate")
            return self._validate_envelope(root, profile)
        prof = self.profile(profile or detect_profile(root))
        schema, rules = self._compiled(prof, dtype.name)
        report = ValidationReport(prof.name, dtype.name, artefacts=self._labels(prof, dtype))
        schema_findings = validate_xsd(schema, root)
        if schema_findings and tree is not None:
            root = parse_xml(xml, what="document to validate")
            schema_findings = validate_xsd(schema, root)
        report.findings.extend(schema_findings)
        if rules:
            report.findings.extend(self._run_rules(xml, root, rules))
        return report

    def _validate_envelope(self, root: etree._Element, profile: str | None) -> ValidationReport:
        """An SBD: its header against the SBDH XSD, its payload under the payload's profile.

        (With ``profile="xsd"`` only the envelope is checked.)
        """
        xsd = self.profile("xsd")
        schema, _ = self._compiled(xsd, "StandardBusinessDocument")
        findings = validate_xsd(schema, root)
        labels = self._labels(
            xsd, next(t for t in DOCUMENT_TYPES if t.local_name == "StandardBusinessDocument")
        )
        payload = next(
            (c for c in root if isinstance(c.tag, str) and etree.QName(c).namespace != SBDH),
            None,
        )
        if payload is None:
            raise InputError(
                "the StandardBusinessDocument carries no payload",
                field="StandardBusinessDocument",
                rule="sbdh.payload",
            )
        inner = self.validate(etree.tostring(payload), profile)
        return ValidationReport(
            inner.profile,
            f"StandardBusinessDocument/{inner.document_type}",
            findings + inner.findings,
            labels + inner.artefacts,
        )

    def validate_rules_only(self, root: etree._Element, profile: str) -> list[Finding]:
        """Only the Schematron of ``profile`` on an already parsed root (as vefa tests do)."""
        dtype = document_type(root)
        _, rules = self._compiled(self.profile(profile), dtype.name)
        return self._run_rules(None, root, rules)

    def _run_rules(
        self, xml: bytes | None, root: etree._Element, rules: list[tuple[RuleFile, Any]]
    ) -> list[Finding]:
        """The findings of ``rules`` on the document.

        When our compiled form cannot run to the end on a document (a dynamic error, such
        as a malformed amount that a rule converts to a number), the official form runs
        instead and decides: both stop at an error, but not necessarily at the same one
        (they visit rules in another order), and the report must be the official one.
        """
        document = _as_utf8(xml, root)
        findings = self.engine.run(document, [(rule.source, exe) for rule, exe in rules])
        if self.rules != "official" and any(f.rule_id == ENGINE_RULE for f in findings):
            official = [
                (rule.source, self.engine.compile(self._official(rule))) for rule, _ in rules
            ]
            findings = self.engine.run(document, official)
        return findings

    def _official(self, rule: RuleFile) -> Path:
        """The installed official file of ``rule`` (hash-checked)."""
        return self._path(rule.set_name, rule.version, rule.path)

    @staticmethod
    def _labels(prof: Profile, dtype: DocumentType) -> list[str]:
        labels = [f"{dtype.xsd_set}/{dtype.xsd_version}:{dtype.xsd_path}"]
        labels += [f"{r.set_name}/{r.version}:{r.path}" for r in prof.rules[dtype.name]]
        return labels


def engine_options(home: Path, options: EngineOptions | None) -> EngineOptions:
    """``options`` (default: all defaults) with the engine's work folder defaulting to ``home``."""
    options = options or EngineOptions()
    return options if options.work_dir is not None else replace(options, work_dir=home)


def one_shot_validator(home: Path, options: EngineOptions | None = None) -> Validator:
    """The validator for a command that validates once and exits: Schematron in process
    (unless the options chose an engine explicitly), so no JVM is started for it."""
    return Validator.default(home, schematron.prefer_in_process(options))


def _as_utf8(xml: bytes | None, root: etree._Element) -> bytes:
    """The document as UTF-8 for the engine: the input itself when it is UTF-8, else
    re-serialised (so an engine never has to guess an encoding)."""
    encoding = (root.getroottree().docinfo.encoding or "UTF-8").upper()
    if xml is not None and encoding in ("UTF-8", "UTF8", "US-ASCII", "ASCII"):
        return xml[3:] if xml.startswith(b"\xef\xbb\xbf") else xml
    return etree.tostring(root, encoding="utf-8")


def _a(noun: str) -> str:
    """``noun`` with its indefinite article: "an Invoice", "a CreditNote"."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"

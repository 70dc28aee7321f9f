"""The export policy file: rules by destination, platform, document kind and data category.

::

    version = "2026-09-01"             # required; recorded with every decision
    include = ["shanghai-ftz.toml"]    # optional: more rule files (e.g. a free-trade-zone list)

    [[negative]]                       # flows forbidden, or needing an approval
    id = "no-sensitive-to-xx"
    effect = "forbid"                  # forbid | approval
    destinations = ["XX"]              # ISO 3166 countries; empty: any
    platforms = []                     # target profiles (pint-sg, bis3 …); empty: any
    kinds = []                         # invoice | credit-note | bill-of-lading; empty: any
    categories = ["sensitive"]         # business | personal | sensitive | important | unread
                                       # (what the gate cannot read: a PDF sent with an eBL);
                                       # any of them carried (sensitive is personal too);
                                       # empty: any
    reason = "…"
    source = "…"                       # the list it comes from

    [[positive]]                       # flows allowed outright
    id = "sg-trade"
    destinations = ["SG"]
    categories = ["business"]          # a document carrying a category not named here
                                       # (besides business) is not covered; empty: any
    basis = "Shanghai FTZ positive guidance, item 3"   # required: the legal basis
    keep = ["buyer.phone"]             # fields minimisation must leave alone

    [[important_data]]                 # only what the authorities notified or published
    id = "rare-earths"
    notice = "MIIT notice 2026-12"     # required
    tax_codes = ["10201"]              # tax classification code prefixes
    keywords = ["稀土"]                 # words in the item name

    [minimisation]
    mask_personal_phone = true         # a personal buyer's phone, unless a rule keeps it
    mask_clerk = true                  # the issuing clerk's name in an embedded original,
                                       # and the staff a remark names (收款人:…) in the note too
    mask_personal_id = true            # a personal buyer's ID-card number in an embedded original

Without a file the gateway runs :data:`DEFAULT_POLICY` (no lists, the Provisions' defaults).
A file with errors is refused naming the file and line; :class:`~gateway.policy.source.PolicySource`
re-reads a changed file and keeps the last good version when the new one has errors.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.errors import ConfigError
from gateway.policy.categories import Category
from gateway.toml_lines import line_of

EFFECTS = ("forbid", "approval")
KINDS = ("invoice", "credit-note", "bill-of-lading")
KEEPABLE = ("buyer.phone", "buyer.id", "Drawer", "remark.staff")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_RULE_KEYS = frozenset(
    {"id", "effect", "destinations", "platforms", "kinds", "categories", "reason", "source"}
)
_POSITIVE_KEYS = (_RULE_KEYS - {"effect"}) | {"basis", "keep"}
_IMPORTANT_KEYS = frozenset({"id", "notice", "tax_codes", "keywords"})
_MINIMISATION_KEYS = frozenset({"mask_personal_phone", "mask_clerk", "mask_personal_id"})
_TOP_KEYS = frozenset(
    {"version", "include", "negative", "positive", "important_data", "minimisation"}
)


@dataclass(frozen=True, slots=True)
class Rule:
    """One line of the negative list or the positive guidance."""

    id: str
    effect: str
    """``forbid`` / ``approval`` (negative list) or ``allow`` (positive guidance)."""
    destinations: frozenset[str] = frozenset()
    platforms: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()
    categories: frozenset[Category] = frozenset()
    reason: str = ""
    source: str = ""
    basis: str = ""
    """The legal basis an allowed flow rests on."""
    keep: frozenset[str] = frozenset()

    def matches(
        self, destination: str, platform: str, kind: str, carried: frozenset[Category]
    ) -> bool:
        """Whether the rule applies to a flow (empty sets match anything; ``categories``
        matches when the document carries any of them, sensitive personal information
        being personal information too): how a negative-list rule applies. An unknown
        destination (``""``: a partner platform without its ``country``) could be any
        country, so it matches a negative-list rule's ``destinations`` and never a positive
        rule's."""
        if Category.SENSITIVE in carried:
            carried = carried | {Category.PERSONAL}
        unknown = not destination and self.effect != "allow"
        return (
            (not self.destinations or destination in self.destinations or unknown)
            and (not self.platforms or platform in self.platforms)
            and (not self.kinds or kind in self.kinds)
            and (not self.categories or bool(self.categories & carried))
        )

    def covers(
        self, destination: str, platform: str, kind: str, carried: frozenset[Category]
    ) -> bool:
        """Whether the rule allows a flow: it :meth:`matches` and names every category the
        document carries besides business data (empty ``categories``: any), so guidance for
        trade data or contacts never covers a document carrying more (sensitive personal
        information, important data): how a positive-guidance rule applies."""
        beyond = carried - {Category.BUSINESS}
        return self.matches(destination, platform, kind, carried) and (
            not self.categories or beyond <= self.categories
        )


@dataclass(frozen=True, slots=True)
class ImportantData:
    """A catalogue entry of important data, as a notice of the authorities declares it."""

    id: str
    notice: str
    tax_codes: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()

    def matches(self, item_name: str, codes: Sequence[str]) -> bool:
        return any(code.startswith(self.tax_codes) for code in codes if self.tax_codes) or any(
            word in item_name for word in self.keywords
        )


@dataclass(frozen=True, slots=True)
class Minimisation:
    """What minimisation does when no rule says otherwise."""

    mask_personal_phone: bool = True
    mask_clerk: bool = True
    mask_personal_id: bool = True


@dataclass(frozen=True, slots=True)
class Policy:
    """One version of the export policy."""

    version: str
    negative: tuple[Rule, ...] = ()
    positive: tuple[Rule, ...] = ()
    important: tuple[ImportantData, ...] = ()
    minimisation: Minimisation = field(default_factory=Minimisation)
    source: str = ""
    """The file it was read from (``""``: the built-in default): for operators (logs,
    ``lingang policy check``), never shown to API clients."""
    files: tuple[tuple[str, str], ...] = ()
    """``(file name, SHA-256 of its bytes)`` of the file and its includes, in order."""

    def summary(self) -> dict[str, Any]:
        """What the API shows: version, the files by name and digest (``sha256sum`` of each
        tells an officer which text is in force; no server path) and the rules."""
        return {
            "version": self.version,
            "source": Path(self.source).name if self.source else "built-in defaults",
            "files": [{"name": name, "sha256": digest} for name, digest in self.files],
            "negative": [_rule_json(r) for r in self.negative],
            "positive": [_rule_json(r) for r in self.positive],
            "important_data": [
                {
                    "id": i.id,
                    "notice": i.notice,
                    "tax_codes": list(i.tax_codes),
                    "keywords": list(i.keywords),
                }
                for i in self.important
            ],
            "minimisation": {
                "mask_personal_phone": self.minimisation.mask_personal_phone,
                "mask_clerk": self.minimisation.mask_clerk,
                "mask_personal_id": self.minimisation.mask_personal_id,
            },
        }


def _rule_json(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "effect": rule.effect,
        "destinations": sorted(rule.destinations),
        "platforms": sorted(rule.platforms),
        "kinds": sorted(rule.kinds),
        "categories": sorted(c.value for c in rule.categories),
        "reason": rule.reason,
        "source": rule.source,
        "basis": rule.basis,
        "keep": sorted(rule.keep),
    }


DEFAULT_POLICY = Policy(version="default-2024-provisions")
"""No lists; the 2024 Provisions' default decisions; minimisation on."""


class _File:
    """One policy file's text, for errors that name its lines."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            raw = path.read_bytes()
            text = raw.decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read policy file {path}: {exc}", field="policy") from exc
        self.sha256 = hashlib.sha256(raw).hexdigest()
        """The digest of the file's bytes, as ``sha256sum`` prints it."""
        self.text = text.replace("\r\n", "\n").replace("\r", "\n")  # as read_text reads it
        try:
            self.data = tomllib.loads(self.text)
        except (ValueError, RecursionError) as exc:  # TOMLDecodeError is a ValueError
            raise ConfigError(f"{path}: not valid TOML: {exc}", field="policy") from exc

    def error(
        self, message: str, table: str, index: int | None = None, key: str | None = None
    ) -> ConfigError:
        line = self.line(table, index, key)
        where = f"{self.path}, line {line}" if line else str(self.path)
        dotted = table + (f"[{index}]" if index is not None else "") + (f".{key}" if key else "")
        return ConfigError(f"{where}: {dotted}: {message}", field=f"policy.{dotted}")

    def line(self, table: str, index: int | None, key: str | None) -> int | None:
        """The line of ``table[index].key`` (an array of tables: the index-th header)."""
        if index is None:
            return line_of(self.text, (table, key) if key else (table,))
        lines = self.text.splitlines()
        header = re.compile(rf"^\s*\[\[\s*{re.escape(table)}\s*\]\]")
        starts = [n for n, text in enumerate(lines) if header.match(text)]
        if index >= len(starts):
            return line_of(self.text, (table,))
        start = starts[index]
        end = next(
            (n for n in range(start + 1, len(lines)) if lines[n].lstrip().startswith("[")),
            len(lines),
        )
        if key is None:
            return start + 1
        found = line_of("\n".join(lines[start:end]), (table, key))
        return start + found if found else start + 1


def load_policy(path: str | Path) -> Policy:
    """Read and check a policy file (and its includes); :class:`ConfigError` naming the
    file and line of the first problem."""
    main = _File(Path(path))
    _check_keys(main, main.data, _TOP_KEYS, "policy")
    version = main.data.get("version")
    if not isinstance(version, str) or not version.strip():
        raise main.error("`version` is required (a string naming this version)", "version")
    files = [main]
    includes = main.data.get("include", [])
    if not isinstance(includes, list) or not all(isinstance(i, str) for i in includes):
        raise main.error("`include` must be a list of file names", "include")
    for name in includes:
        included = _File(main.path.parent / name)
        _check_keys(included, included.data, _TOP_KEYS - {"include", "minimisation"}, "policy")
        files.append(included)
    negative: list[Rule] = []
    positive: list[Rule] = []
    important: list[ImportantData] = []
    for file in files:
        negative += [_rule(file, "negative", i, t) for i, t in enumerate(_tables(file, "negative"))]
        positive += [_rule(file, "positive", i, t) for i, t in enumerate(_tables(file, "positive"))]
        important += [_important(file, i, t) for i, t in enumerate(_tables(file, "important_data"))]
    ids = [r.id for r in (*negative, *positive)]
    duplicate = next((i for i in ids if ids.count(i) > 1), None)
    if duplicate is not None:
        raise main.error(f"rule id {duplicate!r} is used twice", "negative")
    return Policy(
        version=version.strip(),
        negative=tuple(negative),
        positive=tuple(positive),
        important=tuple(important),
        minimisation=_minimisation(main),
        source=str(main.path),
        files=tuple((file.path.name, file.sha256) for file in files),
    )


def _check_keys(file: _File, table: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    for key in table:
        if key not in allowed:
            raise file.error(f"unknown key `{key}` (allowed: {sorted(allowed)})", key)


def _tables(file: _File, name: str) -> list[Mapping[str, Any]]:
    value = file.data.get(name, [])
    if not isinstance(value, list) or not all(isinstance(t, Mapping) for t in value):
        raise file.error(f"must be an array of tables ([[{name}]])", name)
    return list(value)


def _words(file: _File, table: Mapping[str, Any], key: str, where: tuple[str, int]) -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise file.error("must be a list of non-empty strings", where[0], where[1], key)
    return list(value)


def _text(
    file: _File,
    table: Mapping[str, Any],
    key: str,
    where: tuple[str, int],
    *,
    required: bool = False,
) -> str:
    value = table.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise file.error(
            "is required (a non-empty string)" if required else "must be a string",
            where[0],
            where[1],
            key,
        )
    return value.strip()


def _rule(file: _File, name: str, index: int, table: Mapping[str, Any]) -> Rule:
    where = (name, index)
    allowed = _RULE_KEYS if name == "negative" else _POSITIVE_KEYS
    for key in table:
        if key not in allowed:
            raise file.error(f"unknown key `{key}` (allowed: {sorted(allowed)})", name, index, key)
    rule_id = _text(file, table, "id", where, required=True)
    if name == "negative":
        effect = table.get("effect")
        if effect not in EFFECTS:
            raise file.error(f"`effect` must be one of {list(EFFECTS)}", name, index, "effect")
    else:
        effect = "allow"
    destinations = _words(file, table, "destinations", where)
    bad = next((d for d in destinations if not _COUNTRY.match(d)), None)
    if bad is not None:
        raise file.error(
            f"{bad!r} is not an ISO 3166 alpha-2 country code", name, index, "destinations"
        )
    kinds = _words(file, table, "kinds", where)
    bad = next((k for k in kinds if k not in KINDS), None)
    if bad is not None:
        raise file.error(
            f"unknown document kind {bad!r} (kinds: {list(KINDS)})", name, index, "kinds"
        )
    names = _words(file, table, "categories", where)
    try:
        categories = frozenset(Category(c) for c in names)
    except ValueError:
        raise file.error(
            f"categories must be among {[c.value for c in Category]}", name, index, "categories"
        ) from None
    keep: list[str] = []
    if name == "positive":
        keep = _words(file, table, "keep", where)
        bad = next((k for k in keep if k not in KEEPABLE), None)
        if bad is not None:
            raise file.error(
                f"cannot keep {bad!r} (keepable: {list(KEEPABLE)})", name, index, "keep"
            )
    return Rule(
        id=rule_id,
        effect=str(effect),
        destinations=frozenset(destinations),
        platforms=frozenset(_words(file, table, "platforms", where)),
        kinds=frozenset(kinds),
        categories=categories,
        reason=_text(file, table, "reason", where),
        source=_text(file, table, "source", where),
        basis=_text(file, table, "basis", where, required=name == "positive"),
        keep=frozenset(keep),
    )


def _important(file: _File, index: int, table: Mapping[str, Any]) -> ImportantData:
    where = ("important_data", index)
    for key in table:
        if key not in _IMPORTANT_KEYS:
            raise file.error(f"unknown key `{key}`", "important_data", index, key)
    entry = ImportantData(
        id=_text(file, table, "id", where, required=True),
        notice=_text(file, table, "notice", where, required=True),
        tax_codes=tuple(_words(file, table, "tax_codes", where)),
        keywords=tuple(_words(file, table, "keywords", where)),
    )
    if not entry.tax_codes and not entry.keywords:
        raise file.error("needs `tax_codes` or `keywords`", "important_data", index)
    return entry


def _minimisation(file: _File) -> Minimisation:
    table = file.data.get("minimisation", {})
    if not isinstance(table, Mapping):
        raise file.error("must be a table", "minimisation")
    flags: dict[str, bool] = {}
    for key, value in table.items():
        if key not in _MINIMISATION_KEYS:
            raise file.error(f"unknown key `{key}`", "minimisation", None, key)
        if not isinstance(value, bool):
            raise file.error("must be true or false", "minimisation", None, key)
        flags[key] = value
    return Minimisation(**flags)

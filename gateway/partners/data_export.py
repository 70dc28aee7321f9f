"""An exporter's cross-border data facts: the ``[exporters.data_export]`` part of its entry.

::

    [[exporters]]
    seller_id = "91310115MA1FL8K22H"
    endpoint = "0199:5493001KJTIIGC8Y1S09"

    [exporters.data_export]
    ciio = false                          # a critical information infrastructure operator
    exempt_below = 100000                 # Art. 5(4): individuals per year, non-sensitive
    assessment_from = 1000000             # Art. 7: individuals per year
    sensitive_assessment_from = 10000     # Art. 7: individuals' sensitive PI per year
    warn_ratio = 0.8                      # warn when a count reaches this share of a threshold

    [[exporters.data_export.filings]]
    kind = "standard-contract"            # standard-contract | certification | security-assessment
    reference = "SH-SCC-2026-00042"
    valid_from = "2026-01-15"             # a date (quoted: the API stores JSON, no TOML dates)
    expires = "2029-01-14"                # certification: three years from valid_from by default

The defaults are the numbers of the 2024 Provisions on Promoting and Regulating Cross-Border
Data Flows; an exporter without the part gets them, no filing and ``ciio = false``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.errors import FieldError

EXEMPT_BELOW = 100_000
"""Art. 5(4) / Art. 8: fewer individuals than this since 1 January is exempt."""
ASSESSMENT_FROM = 1_000_000
"""Art. 7: this many individuals or more needs a security assessment."""
SENSITIVE_ASSESSMENT_FROM = 10_000
"""Art. 7: sensitive personal information of this many individuals needs an assessment."""
WARN_RATIO = 0.8
CERTIFICATE_YEARS = 3
"""A personal-information-protection certificate is valid for three years."""

FILING_KINDS = ("standard-contract", "certification", "security-assessment")
_KEYS = frozenset(
    {
        "ciio",
        "exempt_below",
        "assessment_from",
        "sensitive_assessment_from",
        "warn_ratio",
        "filings",
    }
)
_FILING_KEYS = frozenset({"kind", "reference", "valid_from", "expires"})


@dataclass(frozen=True, slots=True)
class Filing:
    """A standard-contract filing, a certification or a security-assessment approval."""

    kind: str
    reference: str
    valid_from: dt.date | None = None
    expires: dt.date | None = None

    def valid_on(self, day: dt.date) -> bool:
        """Whether the filing covers ``day``."""
        if self.valid_from is not None and day < self.valid_from:
            return False
        return self.expires is None or day <= self.expires

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "reference": self.reference,
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "expires": self.expires.isoformat() if self.expires else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Filing:
        return cls(
            kind=str(data["kind"]),
            reference=str(data["reference"]),
            valid_from=_day(data.get("valid_from")),
            expires=_day(data.get("expires")),
        )


@dataclass(frozen=True, slots=True)
class DataExport:
    """Thresholds, the CIIO flag and the filings of one exporter."""

    ciio: bool = False
    exempt_below: int = EXEMPT_BELOW
    assessment_from: int = ASSESSMENT_FROM
    sensitive_assessment_from: int = SENSITIVE_ASSESSMENT_FROM
    warn_ratio: float = WARN_RATIO
    filings: tuple[Filing, ...] = ()

    def filing(self, kinds: tuple[str, ...], day: dt.date) -> Filing | None:
        """The first filing of one of ``kinds`` valid on ``day``."""
        return next((f for f in self.filings if f.kind in kinds and f.valid_on(day)), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "ciio": self.ciio,
            "exempt_below": self.exempt_below,
            "assessment_from": self.assessment_from,
            "sensitive_assessment_from": self.sensitive_assessment_from,
            "warn_ratio": self.warn_ratio,
            "filings": [f.to_json() for f in self.filings],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DataExport:
        return cls(
            ciio=bool(data.get("ciio", False)),
            exempt_below=int(data.get("exempt_below", EXEMPT_BELOW)),
            assessment_from=int(data.get("assessment_from", ASSESSMENT_FROM)),
            sensitive_assessment_from=int(
                data.get("sensitive_assessment_from", SENSITIVE_ASSESSMENT_FROM)
            ),
            warn_ratio=float(data.get("warn_ratio", WARN_RATIO)),
            filings=tuple(Filing.from_json(f) for f in data.get("filings") or ()),
        )


def _day(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def parse_data_export(value: object, where: str) -> DataExport:
    """The ``data_export`` table of an exporter entry, checked key by key."""
    here = f"{where}.data_export"
    if not isinstance(value, Mapping):
        raise FieldError(f"{here} must be a table", field=here)
    for key in value:
        if key not in _KEYS:
            raise FieldError(f"{here}: unknown key `{key}`", field=f"{here}.{key}")
    ciio = value.get("ciio", False)
    if not isinstance(ciio, bool):
        raise FieldError(f"{here}: `ciio` must be true or false", field=f"{here}.ciio")
    counts = {
        key: _count(value, key, default, here)
        for key, default in (
            ("exempt_below", EXEMPT_BELOW),
            ("assessment_from", ASSESSMENT_FROM),
            ("sensitive_assessment_from", SENSITIVE_ASSESSMENT_FROM),
        )
    }
    if counts["exempt_below"] > counts["assessment_from"]:
        raise FieldError(
            f"{here}: `exempt_below` must not exceed `assessment_from`",
            field=f"{here}.exempt_below",
            rule="threshold-order",
        )
    ratio = value.get("warn_ratio", WARN_RATIO)
    if isinstance(ratio, bool) or not isinstance(ratio, int | float) or not 0 < ratio <= 1:
        raise FieldError(
            f"{here}: `warn_ratio` must be a number in (0, 1]", field=f"{here}.warn_ratio"
        )
    filings = value.get("filings", [])
    if not isinstance(filings, list):
        raise FieldError(f"{here}: `filings` must be an array of tables", field=f"{here}.filings")
    return DataExport(
        ciio=ciio,
        warn_ratio=float(ratio),
        filings=tuple(_filing(i, f, here) for i, f in enumerate(filings)),
        **counts,
    )


def _count(table: Mapping[str, Any], key: str, default: int, where: str) -> int:
    value = table.get(key, default)
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON Schema's "integer" admits 1.0
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise FieldError(f"{where}: `{key}` must be a positive integer", field=f"{where}.{key}")
    return value


def _filing(index: int, table: object, where: str) -> Filing:
    here = f"{where}.filings[{index}]"
    if not isinstance(table, Mapping):
        raise FieldError(f"{here} must be a table", field=here)
    for key in table:
        if key not in _FILING_KEYS:
            raise FieldError(f"{here}: unknown key `{key}`", field=f"{here}.{key}")
    kind = table.get("kind")
    if kind not in FILING_KINDS:
        raise FieldError(
            f"{here}: `kind` must be one of {list(FILING_KINDS)}", field=f"{here}.kind"
        )
    reference = table.get("reference")
    if not isinstance(reference, str) or not reference.strip():
        raise FieldError(f"{here}: `reference` is required", field=f"{here}.reference")
    valid_from, expires = (_date(table, key, here) for key in ("valid_from", "expires"))
    if kind == "certification" and expires is None and valid_from is not None:
        try:
            expires = valid_from.replace(year=valid_from.year + CERTIFICATE_YEARS)
        except ValueError:
            expires = valid_from.replace(year=valid_from.year + CERTIFICATE_YEARS, day=28)
    if kind == "security-assessment" and expires is None:
        raise FieldError(
            f"{here}: a security-assessment approval needs `expires`", field=f"{here}.expires"
        )
    if valid_from is not None and expires is not None and expires < valid_from:
        raise FieldError(
            f"{here}: `expires` is before `valid_from`", field=f"{here}.expires", rule="date-order"
        )
    return Filing(str(kind), reference.strip(), valid_from, expires)


def _date(table: Mapping[str, Any], key: str, where: str) -> dt.date | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise FieldError(f"{where}: `{key}` must be a date (YYYY-MM-DD)", field=f"{where}.{key}")

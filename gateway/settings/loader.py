"""From parsed TOML and an environment to checked section values, every error naming the
file, the dotted key and its line (or the environment variable)."""

from __future__ import annotations

import difflib
import math
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import gateway.settings.values as values
from gateway.errors import ConfigError
from gateway.settings.sections import (
    ADAPTER_ENV_PREFIX,
    AT_LEAST_ONE,
    CHOICES,
    ENVIRONMENT,
    LOADED_DEFAULTS,
    NOT_IN_FILE,
    ROUTE_DEFAULT_ENV,
    SECTIONS,
    TOP_LEVEL,
    AdapterConfig,
    Routing,
    parse_listen,
)
from gateway.settings.toml_lines import line_of

TABLES = (*SECTIONS, "adapters", "routing")
"""Every table the file may have."""
ROUTE_TABLES = ("profiles", "partners", "inbound_tenants")


@dataclass(frozen=True, slots=True)
class Loaded:
    """What :class:`Loader` produced, for :class:`~gateway.settings.Settings`."""

    data_dir: Path
    log_level: str
    sections: Mapping[str, Any]
    adapters: Mapping[str, AdapterConfig]
    routing: Routing


class Loader:
    """Checks and merges one parsed file (``data``, read from ``source`` whose ``text``
    gives line numbers) and the environment ``env``."""

    def __init__(
        self,
        data: Mapping[str, Any],
        env: Mapping[str, str],
        *,
        source: Path | None,
        text: str | None,
        data_home: Path,
    ) -> None:
        self.data = data
        self.env = env
        self.source = source
        self.text = text
        self.data_home = data_home

    # ----------------------------------------------------------------- errors

    def error(self, dotted: str, problem: str, rule: str, *, at: str | None = None) -> ConfigError:
        """A ``ConfigError`` for the file's key ``dotted``, naming the file and the line (of
        ``at`` when the key itself is missing)."""
        where = ""
        if self.source is not None:
            path = (at or dotted).split(".")
            line = line_of(self.text, path) if self.text is not None else None
            where = f"{self.source}, line {line}: " if line else f"{self.source}: "
        return ConfigError(f"{where}{problem}", field=dotted, rule=rule)

    def env_error(self, variable: str, dotted: str, problem: str) -> ConfigError:
        """A ``ConfigError`` for an environment variable's value."""
        return ConfigError(
            f"environment variable {variable} (`{dotted}`) {problem}",
            field=variable,
            rule="config.environment",
        )

    def unknown(self, dotted: str, known: Iterable[str], what: str) -> ConfigError:
        parent, _, name = dotted.rpartition(".")
        close = difflib.get_close_matches(name, list(known), n=1)
        hint = f" (did you mean `{parent + '.' if parent else ''}{close[0]}`?)" if close else ""
        return self.error(dotted, f"unknown {what} `{dotted}`{hint}", "config.unknown-key")

    # ----------------------------------------------------------------- reading

    def load(self) -> Loaded:
        """Every section checked and built (raises :class:`ConfigError` at the first fault)."""
        for key, value in self.data.items():
            if key in TABLES:
                self.table(key)
            elif key not in TOP_LEVEL:
                what = "table" if isinstance(value, Mapping) else "key"
                raise self.unknown(key, [*TOP_LEVEL, *TABLES], what)
        data_dir = self.data_dir()
        sections = {name: self.section(name, cls, data_dir) for name, cls in SECTIONS.items()}
        sections["validation"] = replace(
            sections["validation"],
            work_dir=sections["pipeline"].artefacts or data_dir,
            explicit=self.is_set("validation.engine"),
        )
        adapters = self.adapters()
        log_level = self.value("log_level", self.data, "log_level", str)
        return Loaded(
            data_dir=data_dir,
            log_level="INFO" if log_level is None else log_level,
            sections=sections,
            adapters=adapters,
            routing=self.routing(adapters),
        )

    def is_set(self, dotted: str) -> bool:
        """Whether the file or the environment sets ``dotted``."""
        variable = ENVIRONMENT.get(dotted)
        if variable is not None and self.env.get(variable):
            return True
        table, _, key = dotted.rpartition(".")
        return key in (self.table(table) if table else self.data)

    def table(self, dotted: str) -> Mapping[str, Any]:
        """The table at ``dotted`` (empty when absent); anything else there is an error."""
        found: Mapping[str, Any] = self.data
        for part in dotted.split("."):
            inner = found.get(part, {})
            if not isinstance(inner, Mapping):
                raise self.error(dotted, f"`{dotted}` must be a table", "config.type")
            found = inner
        return found

    def data_dir(self) -> Path:
        variable = ENVIRONMENT["data_dir"]
        if self.env.get(variable):
            return Path(self.env[variable]).expanduser().absolute()
        raw = self.data.get("data_dir")
        if raw is None:
            return self.data_home
        try:
            path: Path = values.from_file(raw, Path)
        except values.WrongType as exc:
            raise self.error("data_dir", f"`data_dir` {exc}", "config.type") from None
        base = self.source.parent if self.source is not None else Path.cwd()
        return base / path if not path.is_absolute() else path

    def value(self, dotted: str, table: Mapping[str, Any], key: str, hint: Any) -> Any:
        """The environment's value for ``dotted``, else the file's, else ``None``; checked
        against ``hint`` and, where the key has them, its choices and range."""
        variable = ENVIRONMENT.get(dotted)
        if variable is not None and self.env.get(variable):
            try:
                found = values.from_env(self.env[variable], hint)
            except values.WrongType as exc:
                raise self.env_error(variable, dotted, str(exc)) from None
            return self.checked(found, dotted, variable)
        if key not in table:
            return None
        try:
            found = values.from_file(table[key], hint)
        except values.WrongType as exc:
            raise self.error(dotted, f"`{dotted}` {exc}", "config.type") from None
        return self.checked(found, dotted, None)

    def checked(self, found: Any, dotted: str, variable: str | None) -> Any:
        """``found`` within its key's choices and range (numbers are never negative)."""
        found, problem = check_value(dotted, found)
        if problem is None:
            return found
        if variable is not None:
            raise self.env_error(variable, dotted, problem)
        raise self.error(dotted, f"`{dotted}` {problem}", "config.value")

    def section(self, name: str, cls: type, data_dir: Path) -> Any:
        """Section ``name`` as an instance of ``cls``: file keys checked, environment applied,
        relative paths resolved against ``data_dir``."""
        table = self.table(name)
        hints = typing.get_type_hints(cls)
        keys = [f.name for f in fields(cls) if f.name not in NOT_IN_FILE.get(name, ())]
        for key in table:
            if key not in keys:
                raise self.unknown(f"{name}.{key}", keys, "key")
        chosen: dict[str, Any] = {}
        for key in keys:
            dotted = f"{name}.{key}"
            found = self.value(dotted, table, key, hints[key])
            if found is None and dotted in LOADED_DEFAULTS:
                found = LOADED_DEFAULTS[dotted](data_dir)
            if found is not None:
                chosen[key] = (
                    values.resolve(found, data_dir) if values.is_path(hints[key]) else found
                )
        return cls(**chosen)

    # ----------------------------------------------------------------- adapters, routing

    def adapters(self) -> dict[str, AdapterConfig]:
        """``[adapters.NAME]`` tables plus ``LINGANG_ADAPTER_<NAME>_<OPTION>`` variables."""
        tables: dict[str, dict[str, Any]] = {}
        for name in self.table("adapters"):
            tables[name] = dict(self.table(f"adapters.{name}"))
        from_env: dict[str, str] = {}
        for variable, text in self.env.items():
            name, _, option = variable.removeprefix(ADAPTER_ENV_PREFIX).partition("_")
            if variable.startswith(ADAPTER_ENV_PREFIX) and name and option:
                tables.setdefault(name.lower(), {})[option.lower()] = text
                from_env.setdefault(name.lower(), f"{ADAPTER_ENV_PREFIX}{name}_TYPE")
        configs: dict[str, AdapterConfig] = {}
        for name, options in tables.items():
            kind = options.pop("type", None)
            if not isinstance(kind, str) or not kind:
                dotted = f"adapters.{name}.type"
                problem = "is required: the adapter's entry point name, e.g. `https`"
                if name in self.table("adapters"):
                    raise self.error(
                        dotted, f"`{dotted}` {problem}", "config.type", at=f"adapters.{name}"
                    )
                raise self.env_error(from_env[name], dotted, problem)
            configs[name] = AdapterConfig(name=name, type=kind, options=options)
        return configs

    def routing(self, adapters: Mapping[str, AdapterConfig]) -> Routing:
        """``[routing]``: ``default``, ``inbound``, ``[routing.profiles]``,
        ``[routing.partners]``, ``[routing.inbound_tenants]``, each naming a configured
        adapter."""
        table = self.table("routing")
        for key in table:
            if key not in ("default", "inbound", *ROUTE_TABLES):
                raise self.unknown(f"routing.{key}", ("default", "inbound", *ROUTE_TABLES), "key")
        default = self.env.get(ROUTE_DEFAULT_ENV) or None
        if default is not None:
            if default not in adapters:
                raise self.env_error(ROUTE_DEFAULT_ENV, "routing.default", self.no_adapter(default))
        else:
            default = self.route("routing.default", table, "default", adapters)
        routes: dict[str, dict[str, str]] = {}
        for name in ROUTE_TABLES:
            entries = self.table(f"routing.{name}")
            routes[name] = {}
            for key in entries:
                target = self.route(f"routing.{name}.{key}", entries, key, adapters)
                assert target is not None
                routes[name][key] = target
        return Routing(
            default=default,
            profiles=routes["profiles"],
            partners=routes["partners"],
            inbound=self.route("routing.inbound", table, "inbound", adapters),
            inbound_tenants=routes["inbound_tenants"],
        )

    def route(
        self, dotted: str, table: Mapping[str, Any], key: str, adapters: Mapping[str, Any]
    ) -> str | None:
        if key not in table:
            return None
        try:
            target: str = values.from_file(table[key], str)
        except values.WrongType as exc:
            raise self.error(dotted, f"`{dotted}` {exc}", "config.type") from None
        if target not in adapters:
            raise self.error(dotted, f"`{dotted}` {self.no_adapter(target)}", "config.route")
        return target

    @staticmethod
    def no_adapter(target: str) -> str:
        return f"names adapter {target!r}, which is not configured under [adapters]"


def check_value(dotted: str, found: Any) -> tuple[Any, str | None]:
    """``found`` for key ``dotted`` (a choice in its canonical case) and what is wrong with
    it, if anything: not one of the key's choices, ``inf`` or ``nan`` (TOML has both, and
    ``float()`` reads them from the environment; no setting means either: 0 is "never"), a
    negative number (0 for a key in
    :data:`AT_LEAST_ONE`), a port out of range, a listen address that is not ``HOST:PORT``. The loader's check of every file key and
    environment variable, and of the command-line flags that override them."""
    problem = None
    choices = CHOICES.get(dotted)
    if choices is not None:
        found = found.upper() if dotted == "log_level" else found.lower()
        if found not in choices:
            problem = f"must be one of {', '.join(choices)}, got {found!r}"
    elif isinstance(found, int | float) and not isinstance(found, bool):
        if not math.isfinite(found):
            problem = f"must be a finite number, got {found}"
        elif found < 0:
            problem = f"must not be negative, got {found}"
        elif found < 1 and dotted in AT_LEAST_ONE:
            problem = f"must be at least 1, got {found}"
        elif dotted == "server.port" and found > 65535:
            problem = f"must be a port number (0 to 65535), got {found}"
    elif dotted == "ops.listen" and found:
        try:
            parse_listen(found)
        except ValueError as exc:
            problem = str(exc)
    return found, problem

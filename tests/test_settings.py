"""Settings: typed sections from a TOML file and the environment, every mistake named with
its file, key and line (or its environment variable)."""

from __future__ import annotations

import os
import pickle
import re
import typing
from dataclasses import fields
from pathlib import Path

import pytest

from gateway.delivery import Router
from gateway.settings import (
    ENVIRONMENT,
    SECTIONS,
    ConfigError,
    Routing,
    ServerSettings,
    Settings,
    data_home,
    default_stage_processes,
)
from gateway.settings.sections import CHOICES, NOT_IN_FILE
from gateway.settings.toml_lines import line_of, split_key
from gateway.settings.values import unwrap

DEPLOY = Path(__file__).resolve().parents[1] / "deploy" / "lingang.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "lingang.toml"
    path.write_text(text, encoding="utf-8")
    return path


def refused(path: Path, env: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        Settings.load(path, env=env or {})
    return caught.value


# --------------------------------------------------------------------------- the file's mistakes


def test_a_misspelt_table_is_refused_with_file_line_and_suggestion(tmp_path: Path) -> None:
    path = write(tmp_path, '# gateway\nlog_level = "INFO"\n\n[sever]\nport = 9999\n')
    error = refused(path)
    assert error.field == "sever" and error.rule == "config.unknown-key"
    assert f"{path}, line 4:" in error.message
    assert "unknown table `sever` (did you mean `server`?)" in error.message


def test_a_misspelt_key_is_refused_with_file_line_and_suggestion(tmp_path: Path) -> None:
    path = write(tmp_path, '[server]\nhost = "0.0.0.0"\n\n# the port\nprot = 9999\n')
    error = refused(path)
    assert error.field == "server.prot"
    assert f"{path}, line 5:" in error.message
    assert "unknown key `server.prot` (did you mean `server.port`?)" in error.message


def test_an_unknown_key_without_a_close_match_gets_no_suggestion(tmp_path: Path) -> None:
    error = refused(write(tmp_path, "[worker]\ncolour = 3\n"))
    assert "unknown key `worker.colour`" in error.message and "did you mean" not in error.message
    assert "line 2" in error.message


def test_a_string_where_a_number_belongs_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, '[server]\nhost = "::1"\nport = "8080"\n')
    error = refused(path)
    assert error.field == "server.port" and error.rule == "config.type"
    assert f"{path}, line 3:" in error.message
    assert "`server.port` must be an integer, got the string '8080'" in error.message


@pytest.mark.parametrize(
    ("text", "key", "line", "words"),
    [
        ("[worker]\ncount = true\n", "worker.count", 2, "must be an integer, got the boolean"),
        ('[pipeline]\nvalidate = "yes"\n', "pipeline.validate", 2, "must be true or false"),
        ('[signing]\nchain = "ca.pem"\n', "signing.chain", 2, "must be a list of paths"),
        ("[worker]\nlease_seconds = -1\n", "worker.lease_seconds", 2, "must not be negative"),
        ("[worker]\nlease_seconds = nan\n", "worker.lease_seconds", 2, "must be a finite number"),
        (
            "[retention]\ndocuments_days = inf\n",
            "retention.documents_days",
            2,
            "must be a finite number, got inf",
        ),
        ("[worker]\nconcurrency = 0\n", "worker.concurrency", 2, "must be at least 1, got 0"),
        ("[server]\nport = 70000\n", "server.port", 2, "must be a port number"),
        ('\nlog_level = "LOUD"\n', "log_level", 2, "must be one of DEBUG, INFO"),
        ('[validation]\nengine = "fast"\n', "validation.engine", 2, "must be one of auto, jvm"),
        (
            '[pipeline]\ndefault_profile = "pint-gs"\n',
            "pipeline.default_profile",
            2,
            "must be one of pint-sg, bis3, pint, cii, bis3-cii, got 'pint-gs'",
        ),
        ("[validation]\njvm_options = [1]\n", "validation.jvm_options", 2, "list of strings"),
        ("server = 5\n", "server", 1, "must be a table"),
        ('[adapters.hk]\nurl = "https://x"\n', "adapters.hk.type", 1, "is required"),
        ('[adapters.a]\ntype = "folder"\n[routing]\ndefault = "b"\n', "routing.default", 4, "'b'"),
        (
            '[adapters.a]\ntype = "folder"\n[routing.profiles]\n"pint-sg" = "b"\n',
            "routing.profiles.pint-sg",
            4,
            "not configured",
        ),
        ("[routing]\nprofile = {}\n", "routing.profile", 2, "did you mean `routing.profiles`?"),
        (
            '[adapters.a]\ntype = "folder"\n[routing.inbound_tenants]\nacme = "acme-erp"\n',
            "routing.inbound_tenants.acme",
            4,
            "not configured",
        ),
        ("data_dir = 7\n", "data_dir", 1, "must be a path"),
        ("colour = 1\n", "colour", 1, "unknown key `colour`"),
    ],
)
def test_each_mistake_names_its_key_and_line(
    tmp_path: Path, text: str, key: str, line: int, words: str
) -> None:
    error = refused(write(tmp_path, text))
    assert error.field == key
    assert f", line {line}: " in error.message
    assert words in error.message


def test_broken_toml_and_missing_file_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        Settings.load(write(tmp_path, "[worker\n"), env={})
    with pytest.raises(ConfigError, match="cannot read configuration file"):
        Settings.load(tmp_path / "absent.toml", env={})


def test_a_configuration_file_that_is_not_utf_8_is_a_config_error(tmp_path: Path) -> None:
    """TOML 1.0: a TOML file must be UTF-8. A GBK comment in the file raised
    UnicodeDecodeError out of ``lingang serve`` (a traceback, not a configuration error)."""
    path = tmp_path / "lingang.toml"
    path.write_bytes('# 网关\nlog_level = "INFO"\n'.encode("gbk"))
    error = refused(path)
    assert "not UTF-8" in error.message and str(path) in error.message
    assert "offset 2" in error.message


def test_a_mistake_in_parsed_data_names_the_key_without_a_file() -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_dict({"worker": {"count": "many"}}, env={})
    assert caught.value.field == "worker.count"
    assert caught.value.message.startswith("`worker.count` must be an integer")


def test_a_route_to_a_missing_adapter_is_still_refused_by_the_router() -> None:
    with pytest.raises(ConfigError, match="not configured"):
        Router(Routing(default="nowhere"), ["hk"])


# --------------------------------------------------------------------------- the environment


def test_each_tenant_may_get_its_own_hand_on_adapter(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """``[routing.inbound_tenants]`` names, per tenant id, the adapter that hands that
    tenant's received documents on; one ``inbound`` for several receiving tenants is said at
    start, naming those who share it."""
    from gateway.delivery.peppol_recording import LocalParticipants
    from gateway.service import receiving_tenants, warn_shared_hand_on

    text = (
        '[peppol]\nlocal_participants = ["acme=0088:1", "globex=0088:2", "initech=0088:3"]\n'
        '[adapters.shared]\ntype = "folder"\n[adapters.acme-erp]\ntype = "folder"\n'
        '[routing]\ninbound = "shared"\n[routing.inbound_tenants]\nacme = "acme-erp"\n'
    )
    settings = Settings.load(write(tmp_path, text), env={})
    assert settings.routing.inbound_tenants == {"acme": "acme-erp"}
    participants = LocalParticipants.parse(settings.peppol.local_participants)
    receiving = receiving_tenants(settings, participants)
    assert receiving == {"acme", "globex", "initech"}
    with caplog.at_level("WARNING", logger="lingang.service"):
        assert warn_shared_hand_on(settings, receiving) == ["globex", "initech"]
    assert "globex, initech all go to the adapter 'shared'" in caplog.text
    assert warn_shared_hand_on(settings, {"acme", "globex"}) == []


async def test_a_tenant_named_by_name_in_inbound_tenants_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from gateway.service import warn_unknown_hand_on_tenants
    from gateway.store import open_store

    text = '[adapters.erp]\ntype = "folder"\n[routing.inbound_tenants]\n"Acme Exports" = "erp"\n'
    settings = Settings.load(write(tmp_path, text), env={})
    store = await open_store(f"sqlite:///{tmp_path / 'gateway.db'}")
    try:
        with caplog.at_level("WARNING", logger="lingang.service"):
            assert await warn_unknown_hand_on_tenants(store, settings) == ["Acme Exports"]
        assert "names 'Acme Exports', which is no tenant's id" in caplog.text
        await store.create_tenant("Acme Exports", tenant_id="Acme Exports")
        assert await warn_unknown_hand_on_tenants(store, settings) == []
    finally:
        await store.close()


def test_the_environment_wins_over_the_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'data_dir = "data"\n[server]\nport = 9000\n[worker]\ncount = 3\n'
        '[adapters.hk]\ntype = "https"\nurl = "https://a.example"\n[routing]\ndefault = "hk"\n',
    )
    env = {
        "LINGANG_WORKERS": "5",
        "LINGANG_PORT": "",  # empty: unset, the file's value stands
        "LINGANG_ADAPTER_HK_TIMEOUT": "7",
        "LINGANG_HOME": str(tmp_path / "home"),
        "LINGANG_LOG_LEVEL": "debug",
    }
    settings = Settings.load(path, env=env)
    assert settings.worker.count == 5
    assert settings.server.port == 9000
    assert settings.data_dir == tmp_path / "home"
    assert settings.store.url == f"sqlite:///{tmp_path / 'home' / 'gateway.db'}"
    assert dict(settings.adapters["hk"].options) == {"url": "https://a.example", "timeout": "7"}
    assert settings.routing.default == "hk"
    assert settings.log_level == "DEBUG"
    assert settings.source == path
    assert Settings.load(path, env={}).worker.count == 3


def test_the_configuration_file_can_come_from_the_environment(tmp_path: Path) -> None:
    path = write(tmp_path, "[limits]\nmax_body_bytes = 1024\n")
    settings = Settings.load(env={"LINGANG_CONFIG": str(path)})
    assert settings.limits.max_body_bytes == 1024 and settings.source == path


def sample_text(hint: object, dotted: str = "") -> str:
    """An environment value for a field of type ``hint`` that differs from its default."""
    if dotted in CHOICES:
        return CHOICES[dotted][-1]
    base = unwrap(hint)
    if typing.get_origin(base) is tuple:
        return "a b"
    return {int: "7", float: "2.5", bool: "no", str: "saxonche", Path: "p"}[base]


def test_every_documented_variable_overrides_its_key(tmp_path: Path) -> None:
    home = {"LINGANG_HOME": str(tmp_path)}
    defaults = Settings.load(env=home)
    for dotted, variable in ENVIRONMENT.items():
        section, _, key = dotted.rpartition(".")
        if section:
            default = getattr(getattr(defaults, section), key)
            text = sample_text(typing.get_type_hints(SECTIONS[section])[key], dotted)
            if dotted in CHOICES:
                text = next(c for c in reversed(CHOICES[dotted]) if c != default)
            if text == "no" and default is False:
                text = "yes"
            if dotted == "ops.listen":
                text = "0.0.0.0:9464"
            loaded = Settings.load(env={**home, variable: text})
            assert getattr(getattr(loaded, section), key) != getattr(
                getattr(defaults, section), key
            ), dotted


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("LINGANG_PORT", "eighty", "must be an integer, got 'eighty'"),
        ("LINGANG_PORT", "-1", "must not be negative"),
        ("LINGANG_CONCURRENCY", "0", "must be at least 1, got 0"),
        ("LINGANG_LEASE_SECONDS", "soon", "must be a number"),
        ("LINGANG_IDEMPOTENCY_HOURS", "inf", "must be a finite number, got inf"),
        ("LINGANG_RETENTION_JOBS_DAYS", "NaN", "must be a finite number, got nan"),
        ("LINGANG_VALIDATE", "maybe", "1/true/yes/on or 0/false/no/off"),
        ("LINGANG_JVM_THREADS", "4x", "must be an integer"),
        ("LINGANG_SCHEMATRON_ENGINE", "turbo", "must be one of auto, jvm, saxonche"),
        ("LINGANG_DEFAULT_PROFILE", "en16931-ubl", "must be one of pint-sg, bis3, pint"),
        ("LINGANG_OPS_LISTEN", "9464", "must be HOST:PORT (e.g. 0.0.0.0:9464"),
        ("LINGANG_OPS_LISTEN", "0.0.0.0:http", "must end in a port number (0 to 65535)"),
        ("LINGANG_ROUTE_DEFAULT", "nowhere", "not configured"),
        ("LINGANG_ADAPTER_HK_URL", "https://x", "is required"),
    ],
)
def test_a_malformed_variable_is_named(variable: str, value: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.load(env={variable: value})
    message = caught.value.message
    named = variable if variable != "LINGANG_ADAPTER_HK_URL" else "LINGANG_ADAPTER_HK_TYPE"
    assert message.startswith(f"environment variable {named} ")
    assert words in message


def test_an_adapter_may_come_from_the_environment_alone() -> None:
    env = {"LINGANG_ADAPTER_DROP_TYPE": "folder", "LINGANG_ADAPTER_DROP_PATH": "out"}
    settings = Settings.load(env={**env, "LINGANG_ROUTE_DEFAULT": "drop"})
    assert settings.adapters["drop"].type == "folder"
    assert dict(settings.adapters["drop"].options) == {"path": "out"}
    assert settings.routing.default == "drop"


def test_data_home_follows_lingang_home(tmp_path: Path) -> None:
    assert data_home({"LINGANG_HOME": str(tmp_path)}) == tmp_path
    assert data_home({}) == Path.home() / ".lingang"
    assert Settings.load(env={}).data_dir == Path.home() / ".lingang"


# --------------------------------------------------------------------------- values


def test_relative_paths_are_resolved(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    path = tmp_path / "conf" / "lingang.toml"
    path.write_text(
        'data_dir = "../var"\n[signing]\nkey = "keys/k.pem"\nchain = ["ca.pem", "/etc/root.pem"]\n'
        '[pipeline]\nartefacts = "~/artefacts"\n[validation]\nsaxon_jar = "java/saxon.jar"\n',
        encoding="utf-8",
    )
    settings = Settings.load(path, env={"LINGANG_PARTNERS": "dir/partners.toml"})
    data_dir = tmp_path / "conf" / ".." / "var"
    assert settings.data_dir == data_dir
    assert settings.signing.key == data_dir / "keys" / "k.pem"
    assert settings.signing.chain == (data_dir / "ca.pem", Path("/etc/root.pem"))
    assert settings.pipeline.artefacts == Path.home() / "artefacts"
    assert settings.pipeline.partners == data_dir / "dir" / "partners.toml"
    assert settings.validation.saxon_jar == data_dir / "java" / "saxon.jar"
    assert settings.artefacts_home == Path.home() / "artefacts"


def test_validation_options_come_from_the_table_and_the_environment(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[validation]\nengine = "JVM"\njvm_threads = 3\njvm_options = ["-Xss4m", "-Xmx1g"]\n',
    )
    env = {"LINGANG_HOME": str(tmp_path), "LINGANG_JVM_OPTIONS": "-XX:+UseSerialGC  -Xmx2g"}
    options = Settings.load(path, env=env).validation
    assert options.engine == "jvm" and options.explicit
    assert options.jvm_threads == 3
    assert options.jvm_options == ("-XX:+UseSerialGC", "-Xmx2g")
    assert options.work_dir == tmp_path
    assert options.jvm_warm_runs is None
    unset = Settings.load(env={"LINGANG_HOME": str(tmp_path), "JAVA_HOME": "/opt/jdk"})
    assert not unset.validation.explicit and unset.validation.engine == "auto"
    assert unset.validation.java_home == Path("/opt/jdk")
    chosen = Settings.load(env={"LINGANG_SCHEMATRON_ENGINE": "saxonche"}).validation
    assert chosen.explicit and chosen.engine == "saxonche"
    elsewhere = Settings.load(env={"LINGANG_HOME": str(tmp_path), "LINGANG_ARTEFACTS": "/a"})
    assert elsewhere.validation.work_dir == Path("/a")


def test_stage_processes_default_follows_the_cpus() -> None:
    assert Settings.from_dict({}, env={}).pipeline.stage_processes == default_stage_processes()
    cpus = os.cpu_count() or 1
    assert default_stage_processes() == (min(cpus, 4) if cpus > 1 else 0)
    env = {"LINGANG_STAGE_PROCESSES": "0"}
    assert Settings.from_dict({}, env=env).pipeline.stage_processes == 0
    loaded = Settings.from_dict({"pipeline": {"stage_processes": 2}}, env={})
    assert loaded.pipeline.stage_processes == 2


def test_with_section_replaces_keys_and_leaves_the_original(tmp_path: Path) -> None:
    settings = Settings.for_data_dir(tmp_path)
    assert settings.store.url == f"sqlite:///{tmp_path / 'gateway.db'}"
    changed = settings.with_section("server", port=0, tls_cert=tmp_path / "c.pem")
    assert changed.server.port == 0 and changed.server.tls_cert == tmp_path / "c.pem"
    assert not changed.server.tls_enabled
    assert settings.server == ServerSettings()
    with pytest.raises(ValueError, match="no settings section 'sever'"):
        settings.with_section("sever", port=1)
    with pytest.raises(TypeError):
        settings.with_section("server", prot=1)


def test_settings_cross_to_stage_processes(tmp_path: Path) -> None:
    settings = Settings.load(DEPLOY, env={})
    assert pickle.loads(pickle.dumps(settings)) == settings


# --------------------------------------------------------------------------- the example file


def test_the_example_file_documents_every_key() -> None:
    text = DEPLOY.read_text(encoding="utf-8")
    for name, cls in SECTIONS.items():
        assert re.search(rf"^#?\s*\[{name}\]", text, re.M), name
        for item in fields(cls):
            if item.name not in NOT_IN_FILE.get(name, ()):
                key = rf"^#?\s*{item.name}\s*="
                assert re.search(key, text, re.M), f"{name}.{item.name}"
    for variable in ENVIRONMENT.values():
        assert variable in text, variable


# --------------------------------------------------------------------------- finding lines


def test_line_of_follows_headers_dotted_and_quoted_keys() -> None:
    text = (
        "# comment\n"
        'top = 1\nserver.port = 2\n\n[routing.profiles]\n"pint-sg" = "hk"\n'
        "[[exporters]]\nseller_id = 'x'\n[adapters . hk] # the HK partner\ntype = 'https'\n"
    )
    assert line_of(text, ["top"]) == 2
    assert line_of(text, ["server", "port"]) == 3
    assert line_of(text, ["server"]) == 3
    assert line_of(text, ["routing"]) == 5
    assert line_of(text, ["routing", "profiles", "pint-sg"]) == 6
    assert line_of(text, ["exporters", "seller_id"]) == 8
    assert line_of(text, ["adapters", "hk", "type"]) == 10
    assert line_of(text, ["absent"]) is None
    assert split_key("a.\"b.c\".'d'") == ("a", "b.c", "d")

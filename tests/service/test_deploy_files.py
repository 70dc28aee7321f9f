"""deploy/ is runnable as written: every `lingang` command in it parses with the real CLI, and
the example configurations load and route to configured adapters."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from adapters.base import AdapterContext
from gateway.cli import build_parser
from gateway.delivery import AdapterRegistry, Router
from gateway.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
FILES = sorted(p for p in DEPLOY.rglob("*") if p.is_file())
INLINE = re.compile(r"lingang ((?:[a-z-]+)(?:[ \t]+[^\s&|;)\\`'\"<>]+)*)")
ARRAY = re.compile(r"^\s*(?:args:|command:|CMD)\s*(\[.*\])\s*$", re.MULTILINE)


def commands(path: Path) -> list[list[str]]:
    text = path.read_text(encoding="utf-8")
    found = [shlex.split(match) for match in INLINE.findall(text)]
    for array in ARRAY.findall(text):
        argv = json.loads(array)
        if argv and argv[0] not in ("sh", "pg_isready", "CMD", "python"):
            found.append([a for a in argv if a != "lingang"])
    return [argv for argv in found if argv and argv[0] not in {"gateway", "demo"} | _NOT_CLI]


_NOT_CLI = {"configuration", "keys-for", "to", "owning", "system", "Gateway"}


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(DEPLOY)))
def test_every_lingang_command_parses(path: Path) -> None:
    parser = build_parser()
    subcommands = set(parser._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    for argv in commands(path):
        if argv[0] not in subcommands or "--help" in argv:
            continue
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:
            raise AssertionError(f"{path.name}: `lingang {' '.join(argv)}` does not parse") from exc
        assert getattr(args, "handler", None) is not None, argv


def test_the_files_name_real_commands() -> None:
    seen = {argv[0] for path in FILES for argv in commands(path)}
    assert {"serve", "worker", "migrate", "artefacts", "keys"} <= seen


@pytest.mark.parametrize("name", ["lingang.toml", "kubernetes/lingang.toml"])
def test_example_configuration_loads_and_routes(name: str, tmp_path: Path) -> None:
    settings = Settings.load(DEPLOY / name, env={})
    assert settings.store.url.startswith("sqlite:")
    assert settings.signing.key is not None and settings.signing.key.name == "signer-ec.key.pem"
    registry = AdapterRegistry.build(settings.adapters, AdapterContext(data_dir=tmp_path))
    Router(settings.routing, registry.names())
    assert registry.names() == ["archive"]


def test_environment_overrides_the_file() -> None:
    env = {"LINGANG_STORE_URL": "postgresql://u@db/lingang", "LINGANG_PORT": "9000"}
    settings = Settings.load(DEPLOY / "lingang.toml", env=env)
    assert settings.store.url == "postgresql://u@db/lingang"
    assert settings.server.port == 9000


def probe_paths() -> dict[str, str]:
    """``<file>:<probe>`` → the path each HTTP health check of deploy/ asks the API for."""
    import yaml

    found: dict[str, str] = {}
    for path in sorted((DEPLOY / "kubernetes").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            spec = (doc or {}).get("spec", {}).get("template", {}).get("spec", {})
            for container in spec.get("containers", []):
                for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
                    if "httpGet" in container.get(probe, {}):
                        found[f"{path.name}:{probe}"] = container[probe]["httpGet"]["path"]
    healthcheck = re.search(
        r"HEALTHCHECK.*?127\.0\.0\.1:\d+(/[a-z]+)", (DEPLOY / "Dockerfile").read_text(), re.S
    )
    assert healthcheck is not None, "the Dockerfile has no HEALTHCHECK of the API"
    found["Dockerfile:HEALTHCHECK"] = healthcheck.group(1)
    return found


def test_health_checks_ask_served_routes_and_no_partner() -> None:
    """Each probe asks a route the API serves without a key. Readiness asks the store only
    and liveness nothing (/healthz also asks every partner's endpoint: one partner down
    made every API pod unready and restarted them in a loop)."""
    from gateway.api.openapi import openapi_document

    paths = openapi_document()["paths"]
    probes = probe_paths()
    assert probes["gateway.yaml:readinessProbe"] == "/readyz"
    assert probes["gateway.yaml:livenessProbe"] == "/livez"
    assert probes["Dockerfile:HEALTHCHECK"] == "/readyz"
    for where, path in probes.items():
        assert paths.get(path, {}).get("get", {}).get("security") == [], (where, path)


def test_compose_checks_the_health_only_of_what_serves_http() -> None:
    """The image's HEALTHCHECK asks the API on port 8080. A worker container serves no HTTP:
    it inherited the check and stayed "unhealthy" for ever (Swarm replaces unhealthy tasks)."""
    import yaml

    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    for name, service in compose["services"].items():
        if service.get("image") != "lingang-gateway:latest":
            continue
        command = service.get("command", ["serve", "--no-worker"])
        serves = command[:1] == ["serve"]
        check = service.get("healthcheck", {})
        disabled = check.get("disable", False)
        if service.get("entrypoint") is None and not serves:
            own = ops_port(command)
            asked = re.search(r"127\.0\.0\.1:(\d+)/readyz", " ".join(check.get("test", [])))
            assert disabled or (own is not None and asked and int(asked.group(1)) == own), (
                f"compose service {name} ({command[0]}) keeps the API's HEALTHCHECK"
            )
        if serves:
            assert not disabled, name


def ops_port(args: list[str]) -> int | None:
    """The port a command's ``--ops-listen HOST:PORT`` opens, if any."""
    for flag in ("--ops-listen", "--metrics"):
        if flag in args:
            return int(args[args.index(flag) + 1].rpartition(":")[2])
    return None


def test_kubernetes_probes_and_scrapes_ask_the_operations_listener() -> None:
    """With mutual TLS on the API port ([server] client_ca) the kubelet's httpGet probes,
    which carry no client certificate, are refused there; and a worker pod served nothing
    at all, so neither its probes nor Prometheus could reach it. Every pod now probes and is
    scraped on the port its own ``--ops-listen`` opens. A start waits for a schema migration
    as long as it takes (the lock): a startup probe keeps liveness (5 x 30 s) from killing it
    meanwhile."""
    import yaml

    for name in ("gateway.yaml", "worker.yaml"):
        text = (DEPLOY / "kubernetes" / name).read_text(encoding="utf-8")
        (deployment, *_) = yaml.safe_load_all(text)
        template = deployment["spec"]["template"]
        (container,) = template["spec"]["containers"]
        port = ops_port(container["args"])
        assert port is not None, name
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert ports[container[probe]["httpGet"]["port"]] == port, (name, probe)
        startup = container["startupProbe"]
        assert startup["periodSeconds"] * startup["failureThreshold"] >= 30 * 60, name
        annotations = template["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true"
        assert int(annotations["prometheus.io/port"]) == port

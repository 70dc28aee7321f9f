"""The entry-point registry: built-ins load like plug-ins; configured adapters must load."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.base import AdapterContext
from gateway.delivery import AdapterConfig
from gateway.delivery.registry import AdapterRegistry, discover
from gateway.errors import ConfigError, PermanentDeliveryError


def test_builtins_are_entry_points() -> None:
    found = discover()
    assert {"folder", "https"} <= set(found)


async def test_configured_adapters_are_built(tmp_path: Path) -> None:
    registry = AdapterRegistry.build(
        {"drop": AdapterConfig("drop", "folder", {"path": "out"})},
        AdapterContext(data_dir=tmp_path),
    )
    assert registry.names() == ["drop"]
    assert await registry.ping_all() == {"drop": True}
    with pytest.raises(PermanentDeliveryError):
        registry.get("nope")
    await registry.aclose()


def test_unknown_type_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not installed"):
        AdapterRegistry.build(
            {"x": AdapterConfig("x", "carrier-pigeon", {})}, AdapterContext(data_dir=tmp_path)
        )


def test_bad_options_refuse_to_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="url"):
        AdapterRegistry.build(
            {"hk": AdapterConfig("hk", "https", {"url": "ftp://x"})},
            AdapterContext(data_dir=tmp_path),
        )


def test_broken_optional_plugin_is_skipped_but_refuses_when_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from importlib.metadata import EntryPoint

    import gateway.delivery.registry as registry

    real = registry._entry_points()
    broken = EntryPoint(name="broken", value="adapters.no_such_module:Nope", group=registry.GROUP)
    monkeypatch.setattr(registry, "_entry_points", lambda: {**real, "broken": broken})
    found = discover()
    assert "broken" not in found and {"folder", "https"} <= set(found)
    assert any("skipped" in r.getMessage() for r in caplog.records)
    with pytest.raises(ConfigError, match="failed to load"):
        AdapterRegistry.build(
            {"b": AdapterConfig("b", "broken", {})}, AdapterContext(data_dir=tmp_path)
        )

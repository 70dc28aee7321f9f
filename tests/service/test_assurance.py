"""No silent unsigned or unvalidated output.

Signing on (the default) without a key and certificate stops start-up with a
:class:`~gateway.errors.ConfigError` naming the setting (in code, and as ``lingang serve`` /
``lingang worker`` exiting 1). Validation or signing off is the operator's explicit choice: a
warning at start-up, and every document it affects says so in its history (``validated:
false`` / ``signed: false`` with the reason); an API client cannot ask for it (422).
"""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.errors import ConfigError
from gateway.flows.common import VALIDATION_OFF
from gateway.flows.invoice_out import SIGNING_OFF
from gateway.service import open_services
from gateway.settings import (
    AdapterConfig,
    PipelineSettings,
    Routing,
    Settings,
    SigningSettings,
    WorkerSettings,
)
from gateway.signing.testpki import make_test_pki
from tests.service.test_real_flow import PARTNERS, SAMPLES, settle

FOLDER = {"drop": AdapterConfig("drop", "folder", {"path": "out"})}


def settings_for(tmp_path: Path, **sections: object) -> Settings:
    return Settings.for_data_dir(
        tmp_path,
        worker=WorkerSettings(poll_seconds=0.05),
        adapters=FOLDER,
        routing=Routing(default="drop"),
        **sections,  # type: ignore[arg-type]
    )


async def test_signing_on_without_a_key_refuses_to_start(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, pipeline=PipelineSettings(validate=False))
    assert settings.pipeline.sign  # the default
    with pytest.raises(ConfigError) as caught:
        await open_services(settings)
    assert caught.value.field == "signing.key"
    assert "LINGANG_SIGNING_KEY" in caught.value.message
    assert "[pipeline] sign = false" in caught.value.message


async def test_a_key_without_its_certificate_refuses_to_start(tmp_path: Path) -> None:
    pki = make_test_pki(tmp_path / "pki")
    settings = settings_for(
        tmp_path,
        signing=SigningSettings(key=pki.path("signer-ec.key.pem")),
        pipeline=PipelineSettings(validate=False),
    )
    with pytest.raises(ConfigError) as caught:
        await open_services(settings)
    assert caught.value.field == "signing.cert"


async def test_a_key_file_that_is_not_there_refuses_to_start_naming_the_setting(
    tmp_path: Path,
) -> None:
    """``deploy/local.toml`` names ``pki/signer-ec.key.pem`` in the data home; before the
    README's ``lingang keys test-pki`` made it, start-up said only 'cannot read PATH'."""
    pki = make_test_pki(tmp_path / "pki")
    settings = settings_for(
        tmp_path,
        signing=SigningSettings(key=tmp_path / "none" / "key.pem", cert=pki.path("signer-ec.pem")),
        pipeline=PipelineSettings(validate=False),
    )
    with pytest.raises(ConfigError) as caught:
        await open_services(settings)
    assert caught.value.field == "signing.key" and caught.value.rule == "signing.key-missing"
    assert f"names {tmp_path / 'none' / 'key.pem'}, which does not exist" in caught.value.message
    assert "lingang keys test-pki" in caught.value.message


@pytest.mark.parametrize("command", [["worker"], ["serve", "--no-worker"]])
def test_serve_and_worker_without_a_key_exit_1_naming_the_setting(
    tmp_path: Path, command: list[str]
) -> None:
    config = tmp_path / "lingang.toml"
    config.write_text(
        f'data_dir = "{tmp_path}"\n[server]\nport = 0\n[pipeline]\nvalidate = false\n'
        '[adapters.drop]\ntype = "folder"\npath = "out"\n',
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "gateway", *command, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "[signing] key is not set (LINGANG_SIGNING_KEY)" in done.stderr
    assert "Traceback" not in done.stderr


async def test_validation_and_signing_off_are_logged_and_marked_on_each_document(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_for(
        tmp_path, pipeline=PipelineSettings(partners=PARTNERS, validate=False, sign=False)
    )
    with caplog.at_level(logging.WARNING, logger="lingang.service"):
        services = await open_services(settings)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("validation is OFF" in w for w in warnings), warnings
    assert any("signing is OFF" in w for w in warnings), warnings
    pool = services.worker_pool(1)
    pool.start()
    try:
        tenant = await services.store.create_tenant("off")
        sample = sorted(SAMPLES.glob("*.xml"))[0]
        submission, _ = await services.submissions.submit(
            tenant.id, sample.read_bytes(), content_type="application/xml"
        )
        states = await settle(services, [submission.id])
    finally:
        await pool.stop()
    try:
        assert states[submission.id] == "delivered"
        (queued,) = [
            e for e in await services.store.list_events(submission.id) if e.state == "queued"
        ]
        assert queued.detail is not None
        assert queued.detail["validated"] is False
        assert queued.detail["signed"] is False
        stages = {s["stage"]: s for s in queued.detail["stages"]}
        assert stages["validate"]["skipped"] is True
        assert stages["validate"]["reason"] == VALIDATION_OFF
        assert stages["sign"]["reason"] == SIGNING_OFF
        assert await services.store.get_output(submission.id, "report") is None
    finally:
        await services.close()

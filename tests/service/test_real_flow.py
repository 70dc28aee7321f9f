"""The invoice-out flow through the service on real samples: converted, validated, signed, delivered to a
folder; an unknown buyer is rejected with the reason; a fatal finding keeps the report."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gateway.flows import RecipientMismatch
from gateway.jobs import Submissions
from gateway.service import Services, open_services
from gateway.settings import (
    AdapterConfig,
    PipelineSettings,
    Routing,
    Settings,
    SigningSettings,
    StoreSettings,
    WorkerSettings,
    default_store_url,
)
from gateway.signing import Verifier
from gateway.signing.testpki import make_test_pki
from gateway.store import JobState
from gateway.validation import Validator

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "gateway" / "samples"
PARTNERS = REPO / "tests" / "data" / "partners.toml"


async def _delivered_documents_are_valid_and_signed(
    services: Services, ids: list[str], *, pki_root: Path, artefacts: Path
) -> None:
    """What was delivered passes the full official validation as it stands (no enveloped
    signature to trip R008 / ibr-079), and the detached XAdES signature kept beside it
    verifies over exactly those bytes."""
    verifier = Verifier(
        trust=[pki_root / "root.pem"], crls=sorted(pki_root.glob("*.crl.pem")), ocsp=False
    )
    validator = Validator.default(artefacts)
    for submission_id in ids:
        delivered = await services.store.get_output(submission_id, "signed")
        signature = await services.store.get_output(submission_id, "signature")
        assert delivered is not None and signature is not None
        assert b"<ds:Signature" not in delivered.data
        report = validator.validate(delivered.data)
        assert not report.fatal, report.to_text()
        verified = verifier.verify_detached(signature.data, delivered.data)
        assert verified.signed_xml == delivered.data


async def open_real(
    tmp_path: Path, artefacts: Path, stage_processes: int = 0, store_url: str | None = None
) -> Services:
    """The real service on the test artefacts; its store at ``store_url`` (default: SQLite
    in ``tmp_path``)."""
    pki = make_test_pki(tmp_path / "pki")
    store = StoreSettings(store_url or default_store_url(tmp_path))
    settings = Settings.for_data_dir(
        tmp_path,
        store=store,
        signing=SigningSettings(
            key=pki.path("signer-ec.key.pem"),
            cert=pki.path("signer-ec.pem"),
            chain=(pki.path("chain.pem"),),
        ),
        pipeline=PipelineSettings(
            artefacts=artefacts, partners=PARTNERS, stage_processes=stage_processes
        ),
        worker=WorkerSettings(poll_seconds=0.05),
        adapters={"drop": AdapterConfig("drop", "folder", {"path": "out"})},
        routing=Routing(default="drop"),
    )
    return await open_services(settings)


async def settle(services: Services, ids: list[str]) -> dict[str, str]:
    """Wait until every document is final (the bound only stops a hung test; the first
    documents wait behind the rules' warm-up on a loaded machine)."""
    for _ in range(3600):
        states = {}
        for submission_id in ids:
            found = await services.store.get_submission_any_tenant(submission_id)
            assert found is not None
            states[submission_id] = found.state
        if all(s in {"delivered", "rejected", "dead", "refused"} for s in states.values()):
            return states
        await asyncio.sleep(0.05)
    raise AssertionError(f"not settled: {states}")


@pytest.mark.parametrize("stage_processes", [0, 1], ids=["thread", "process"])
async def test_samples_delivered_and_unknown_buyer_rejected(
    tmp_path: Path, artefacts_home: Path, stage_processes: int
) -> None:
    services = await open_real(tmp_path, artefacts_home, stage_processes)
    pool = services.worker_pool(1)
    pool.start()
    try:
        tenant = await services.store.create_tenant("real")
        good = sorted(SAMPLES.glob("*.xml"))[:2]
        ids = []
        for path in good:
            submission, _ = await services.submissions.submit(
                tenant.id, path.read_bytes(), content_type="application/xml", filename=path.name
            )
            ids.append(submission.id)
        with pytest.raises(RecipientMismatch, match="not this document's receiver"):
            await services.submissions.submit(
                tenant.id,
                good[0].read_bytes(),
                content_type="application/xml",
                metadata={"receiver": "0195:SGUEN999999999X"},
            )  # refused at the door: nothing stored
        elsewhere, _ = await Submissions(services.store).submit(
            tenant.id,
            good[0].read_bytes(),
            content_type="application/xml",
            metadata={"receiver": "0195:SGUEN999999999X"},
        )  # a submission that got past the door (no tools there) is rejected by the flow
        # the samples are sent first, so that the first one below is the deliberate resend
        sent = await settle(services, ids)
        agreed, _ = await services.submissions.submit(  # the first sample again, on purpose
            tenant.id,
            good[0].read_bytes(),
            content_type="application/xml",
            metadata={"receiver": "0195:SGUEN199912345A", "resend": "true"},
        )
        ids.append(agreed.id)
        stranger = good[0].read_bytes().replace(b"Merlion Research", b"Unknown Research")
        unknown, _ = await services.submissions.submit(
            tenant.id, stranger, content_type="application/xml"
        )
        states = {**sent, **await settle(services, [agreed.id, unknown.id, elsewhere.id])}
    finally:
        await pool.stop()
    try:
        assert [states[i] for i in ids] == ["delivered", "delivered", "delivered"]
        assert states[unknown.id] == "rejected"
        assert states[elsewhere.id] == "rejected"  # a recipient that is not the receiver
        (refused,) = [e for e in await services.store.list_events(elsewhere.id) if e.detail]
        assert refused.detail is not None
        assert refused.detail["error"]["code"] == "recipient-mismatch"
        assert refused.detail["error"]["field"] == "recipient"
        assert not await services.store.list_jobs(
            submission_id=elsewhere.id, state=JobState.PENDING
        )
        events = await services.store.list_events(unknown.id)
        assert events[-1].reason is not None and "partners" in events[-1].reason
        files = sorted((tmp_path / "out").iterdir())
        assert len(files) == 3
        await _delivered_documents_are_valid_and_signed(
            services, ids, pki_root=tmp_path / "pki", artefacts=artefacts_home
        )
        queued = [e for e in await services.store.list_events(ids[0]) if e.state == "queued"]
        assert queued[0].detail is not None
        stages = [s["stage"] for s in queued[0].detail["stages"]]
        assert stages == [
            "ingest", "detect", "parse", "map", "policy", "render", "validate", "sign", "envelope",
        ]  # fmt: skip
        report = await services.store.get_output(ids[0], "report")
        assert report is not None and b'"valid": true' in report.data
    finally:
        await services.close()

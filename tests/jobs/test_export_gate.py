"""The export gate through the production job kinds and services, on SQLite and PostgreSQL:
an exporter's yearly count of individuals crosses its thresholds across documents (warning,
then hold), an individual already counted is not counted again, and each decision is in the
document's history and the ledger."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.samples.writers import SELLER_USCC, einvoice_xml
from gateway.service import Services, open_services
from gateway.settings import AdapterConfig, PipelineSettings, Settings, StoreSettings
from gateway.store import NotFoundError
from gateway.store.ledger import LedgerStore
from tests.policy.support import with_contact

PARTNERS = f"""[[partners]]
buyer_name = "Lion City Trading Pte. Ltd."
endpoint = "0195:SGUEN201612345D"
country = "SG"

[[exporters]]
seller_id = "{SELLER_USCC}"
endpoint = "0199:5493001KJTIIGC8Y1R12"

[exporters.data_export]
exempt_below = 3
assessment_from = 10
warn_ratio = 0.5
"""


@pytest.fixture
async def services(store_url: str, tmp_path: Path) -> AsyncIterator[Services]:
    (tmp_path / "partners.toml").write_text(PARTNERS, encoding="utf-8")
    settings = Settings(
        data_dir=tmp_path / "home",
        store=StoreSettings(store_url),
        pipeline=PipelineSettings(validate=False, sign=False, partners=tmp_path / "partners.toml"),
        adapters={"local": AdapterConfig(name="local", type="folder", options={"path": "out"})},
    )
    opened = await open_services(settings)
    await opened.store.create_tenant("T", tenant_id="t")
    yield opened
    await opened.close()


async def process(services: Services, contact: str, number: str) -> str:
    """Submit a fapiao naming ``contact`` and run its process job; the submission's state."""
    body = einvoice_xml(with_contact(contact, number=number))
    sub, _ = await services.submissions.submit("t", body, content_type="application/xml")
    (job,) = [j for j in await services.store.claim_jobs("w", kinds={"process"})]
    kind = services.kinds.get("process")
    assert kind is not None
    await kind.run(job, "w")
    found = await services.store.get_submission("t", sub.id)
    assert found is not None
    return found.state


async def test_counts_cross_the_thresholds_across_documents(services: Services) -> None:
    assert await process(services, "Tan", "26312000000000100001") == "queued"
    assert await process(services, "Lim", "26312000000000100002") == "queued"
    assert await process(services, "Tan", "26312000000000100003") == "queued"  # counted once
    assert await process(services, "Ong", "26312000000000100004") == "held"
    ledger = LedgerStore(services.store.connector)
    entries = await ledger.entries()
    assert [e["article"] for e in entries] == ["art-5-4"] * 3
    assert all(e["decided_by"] == "policy default-2024-provisions" for e in entries)
    assert all(e["subjects"] == 1 for e in entries)
    (counts,) = await ledger.counts(int(entries[0]["at"][:4]))
    assert (counts["personal"], counts["documents"]) == (2, 3)
    (hold,) = await ledger.list_holds()
    assert "3 individuals" in hold.reason and "Art. 8" in hold.reason
    second = (await services.store.list_submissions("t", state="queued"))[1]
    queued = [e for e in await services.store.list_events(second.id) if e.state == "queued"]
    assert queued and queued[0].detail is not None
    warnings = queued[0].detail["warnings"]
    assert any("2 of 3" in w for w in warnings)
    assert any("buyer reference (BT-10)" in w for w in warnings)  # the mapping's, kept
    first = (await services.store.list_submissions("t", state="queued"))[0]
    (event,) = [e for e in await services.store.list_events(first.id) if e.state == "queued"]
    assert event.detail is not None and event.detail["warnings"][0].startswith("no buyer")
    assert "subjects" not in queued[0].detail["policy"]  # keyed hashes stay out of history


async def test_the_console_releases_only_its_own_tenants_held_documents(
    services: Services,
) -> None:
    """``Services.holds`` is what the console's release form calls: the tenant's own hold is
    released on the recorded basis; another tenant's id is not found, and nothing changes."""
    states = [
        await process(services, contact, f"2631200000000020000{n}")
        for n, contact in enumerate(("Tan", "Lim", "Ong", "Koh"), start=1)
    ]
    assert "held" in states
    ledger = LedgerStore(services.store.connector)
    hold = (await ledger.list_holds())[0]
    assert services.holds is not None
    await services.store.create_tenant("U", tenant_id="u")
    with pytest.raises(NotFoundError):
        await services.holds.release(
            "u", hold.submission_id, officer="U", basis="contract", principal="api-key:u1"
        )
    with pytest.raises(NotFoundError):
        await services.holds.refuse(
            "u", hold.submission_id, officer="U", reason="no", principal="api-key:u1"
        )
    still = await ledger.get_hold(hold.submission_id)
    assert still is not None and still.state == "held"
    await services.holds.release(
        "t", hold.submission_id, officer="Officer Li", basis="SC-2026-01", principal="api-key:t1"
    )
    after = await ledger.get_hold(hold.submission_id)
    assert after is not None and after.state != "held" and after.principal == "api-key:t1"

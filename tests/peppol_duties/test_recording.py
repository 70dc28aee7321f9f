"""Reporting records of sent transmissions: a delivery whose receipt carries Peppol facts (as
the AS4 adapter's does; here a stand-in at the far edge) is recorded once, with the end user
as a keyed hash; a delivery without them (folder, https) is not Peppol traffic."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.base import Envelope, Receipt
from gateway.delivery import AdapterRegistry, DeliverKind, StoredEnvelope
from gateway.delivery.peppol_recording import LocalParticipants, PeppolRecorder
from gateway.errors import ConfigError, InputError
from gateway.flows import TransportFacts
from gateway.jobs import JobKinds, Worker
from gateway.signing.reporting_key import end_user_hash, load_reporting_key
from gateway.store import JobSpec, Store, open_store
from gateway.store.peppol_reporting import PeppolReportingStore

DOCTYPE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##x::2.1"
SENDER = "0199:5493001KJTIIGC8Y1R12"


class StandInAs4:
    """Answers like the AS4 adapter: a receipt whose details carry the Peppol facts."""

    name = "as4"

    def __init__(self, facts: Mapping[str, Any] | None) -> None:
        self.facts = facts

    async def deliver(self, envelope: Envelope) -> Receipt:
        details = {} if self.facts is None else {"peppol": dict(self.facts)}
        return Receipt(envelope.message_id, self.name, details=details)

    async def ping(self) -> bool:
        return True

    async def aclose(self) -> None:
        return None


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await open_store(f"sqlite:///{tmp_path}/s.db")
    yield opened
    await opened.close()


async def deliver_once(store: Store, facts: Mapping[str, Any] | None, key: bytes) -> str:
    tenant = await store.create_tenant("exporter")
    submission, _ = await store.create_submission(
        tenant.id, b"<Invoice/>", content_type="application/xml", state="queued"
    )
    envelope = StoredEnvelope(
        f"{submission.id}.as4@lingang",
        submission.id,
        tenant.id,
        "as4",
        "as4",
        "default",
        TransportFacts(body="signed", content_type="application/xml", document_kind="invoice"),
    )
    await store.put_output(submission.id, "signed", "application/xml", b"<Invoice/>")
    await store.put_output(submission.id, "envelope", "application/json", envelope.to_bytes())
    await store.enqueue_job(
        submission.id,
        JobSpec(
            "deliver",
            adapter="as4",
            endpoint="as4",
            payload_ref="envelope",
            message_id=envelope.message_id,
        ),
    )
    recorder = PeppolRecorder(store, key=key, seat_id="POP000360")
    registry = AdapterRegistry({"as4": StandInAs4(facts)})
    kinds = JobKinds([DeliverKind(store, registry, recorder=recorder)])
    assert await Worker(store, kinds, worker_id="w").run_once() == 1
    return submission.id


async def test_a_peppol_delivery_is_recorded(store: Store, tmp_path: Path) -> None:
    key = load_reporting_key(tmp_path / "keys" / "reporting.key")
    facts = {
        "instance_id": "inst-1",
        "c3_seat": "PSG000123",
        "doctype": DOCTYPE,
        "process": "urn:peppol:bis:billing",
        "sender": SENDER,
    }
    submission_id = await deliver_once(store, facts, key)
    (sent,) = await PeppolReportingStore(store.connector).between(
        datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
    )
    assert (sent.direction, sent.c2_seat, sent.c3_seat) == ("out", "POP000360", "PSG000123")
    assert sent.c1_country == "ZZ"  # the SBDH named none
    assert sent.submission_id == submission_id and sent.instance_id == "inst-1"
    assert sent.end_user_hash == end_user_hash(key, SENDER.upper())
    assert SENDER not in sent.end_user_hash


async def test_non_peppol_and_incomplete_facts_are_not_recorded(
    store: Store, tmp_path: Path
) -> None:
    key = load_reporting_key(tmp_path / "k")
    await deliver_once(store, None, key)
    reporting = PeppolReportingStore(store.connector)
    bounds = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
    assert await reporting.between(*bounds) == []
    recorder = PeppolRecorder(store, key=key, seat_id="POP000360")
    with pytest.raises(InputError, match="c3_seat"):
        await recorder.sent(
            {"instance_id": "x"}, message_id="m", at=bounds[0], tenant_id=None, submission_id=None
        )


def test_the_reporting_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "reporting.key"
    first = load_reporting_key(path)
    assert load_reporting_key(path) == first and len(first) == 32
    assert path.stat().st_mode & 0o077 == 0
    path.write_text("not hex")
    with pytest.raises(ConfigError, match="not hex"):
        load_reporting_key(path)
    path.write_text("00ff")
    with pytest.raises(ConfigError, match="shorter"):
        load_reporting_key(path)


def test_a_process_starting_beside_the_one_making_the_reporting_key_reads_that_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``lingang serve`` and ``lingang worker`` start together on a new data directory; the
    second looks while the first is writing the new key. It must get the same key, not an
    empty file ('shorter than 16 bytes', and the process does not start)."""
    import os

    path = tmp_path / "keys" / "reporting.key"
    fdopen = os.fdopen
    other: list[bytes] = []

    def the_other_process_starts(fd: int, *args: Any, **kwargs: Any) -> Any:
        if not other:
            other.append(b"")
            other[0] = load_reporting_key(path)
        return fdopen(fd, *args, **kwargs)

    monkeypatch.setattr(os, "fdopen", the_other_process_starts)
    mine = load_reporting_key(path)
    assert other and mine == other[0] and len(mine) == 32
    assert [p.name for p in path.parent.iterdir()] == ["reporting.key"]


def test_local_participants() -> None:
    local = LocalParticipants.parse(["importer=0195:SGUEN200254321Z", " other = 0088:123 "])
    assert local.tenant_for("0195:sguen200254321z") == "importer"
    assert local.tenant_for("0088:123") == "other"
    with pytest.raises(InputError) as refused:
        local.tenant_for("0088:999")
    assert refused.value.rule == "peppol.not-serviced"
    for bad in (["no-equals"], ["=0088:1"], ["t=novalue"]):
        with pytest.raises(ConfigError, match="local participant"):
            LocalParticipants.parse(bad)


@pytest.mark.parametrize("seat_id", ["", "POP000360"])
async def test_local_participants_name_tenants_by_id_or_the_start_stops(
    tmp_path: Path, seat_id: str
) -> None:
    """``[peppol] local_participants`` names tenants by id, as ``[routing.inbound_tenants]``
    and ``inbound_tenant`` do. A tenant's name written instead (or an id no tenant has) stops
    the start with the entry and, for a name, the tenant's id, and makes no tenant: before,
    an empty tenant with that id was made and received that participant's documents."""
    from gateway.service import open_services
    from gateway.settings import Settings
    from gateway.store import open_store

    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    store = await open_store(url)
    acme = await store.create_tenant("Acme Exports")
    await store.close()

    def settings(entry: str) -> Settings:
        return Settings.from_dict(
            {
                "data_dir": str(tmp_path),
                "store": {"url": url},
                "pipeline": {"validate": False, "sign": False, "stage_processes": 0},
                "peppol": {"seat_id": seat_id, "local_participants": [entry]},
            }
        )

    with pytest.raises(ConfigError) as by_name:
        await open_services(settings("Acme Exports=0088:1"))
    assert by_name.value.field == "peppol.local_participants"
    assert "'Acme Exports' is the name of the tenant with id" in str(by_name.value)
    assert f"write '{acme.id}=0088:1'" in str(by_name.value)
    with pytest.raises(ConfigError, match="'ghost', which is no tenant's id"):
        await open_services(settings("ghost=0088:2"))
    store = await open_store(url)
    try:
        assert [tenant.id for tenant in await store.list_tenants()] == [acme.id]
    finally:
        await store.close()
    services = await open_services(settings(f"{acme.id}=0088:1"))
    try:
        assert services.inbound.participants is not None
        assert services.inbound.participants.tenant_for("0088:1") == acme.id
    finally:
        await services.close()


async def test_an_inbox_for_no_tenants_id_stops_the_start(tmp_path: Path) -> None:
    """An https inbox's ``inbound_tenant`` names a tenant by id too. One no tenant has made
    every document sent to the inbox fail to be stored (the sender got a 409 "FOREIGN KEY
    constraint failed" blaming its body); now the start stops, naming the option."""
    from gateway.service import open_services
    from gateway.settings import Settings
    from gateway.store import open_store

    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    store = await open_store(url)
    acme = await store.create_tenant("Acme Exports")
    await store.close()

    def settings(tenant: str) -> Settings:
        inbox = {
            "type": "https",
            "url": "https://sender.invalid/inbox",
            "inbound_path": "/inbound/acme",
            "inbound_tenant": tenant,
        }
        return Settings.from_dict(
            {
                "data_dir": str(tmp_path),
                "store": {"url": url},
                "pipeline": {"validate": False, "sign": False, "stage_processes": 0},
                "adapters": {"inbox": inbox},
            }
        )

    with pytest.raises(ConfigError) as by_name:
        await open_services(settings("Acme Exports"))
    assert by_name.value.field == "adapters.inbox.inbound_tenant"
    assert f"write '{acme.id}'" in str(by_name.value)
    with pytest.raises(ConfigError, match="'ghost', which is no tenant's id"):
        await open_services(settings("ghost"))
    services = await open_services(settings(acme.id))
    await services.close()


async def test_a_malformed_seat_id_stops_the_start(tmp_path: Path) -> None:
    from gateway.service import open_services
    from gateway.settings import Settings

    settings = Settings.from_dict(
        {
            "data_dir": str(tmp_path),
            "pipeline": {"validate": False, "sign": False, "stage_processes": 0},
            "peppol": {"seat_id": "POP36"},
        }
    )
    with pytest.raises(ConfigError, match="seat id"):
        await open_services(settings)


@pytest.mark.parametrize("country", ["China", "C", "ZZ", "QQ"])
async def test_a_local_country_the_reports_cannot_take_stops_the_start(
    tmp_path: Path, country: str
) -> None:
    """The C4 country of every received transmission is ``[peppol] local_country``: one that
    is no ISO 3166-1 alpha-2 code (nor ``ZZ``, which EUSR does not allow) would make every
    month's reports break SCH-TSR-20 / SCH-EUSR-30 and never be sent, so the start stops."""
    from gateway.service import open_services
    from gateway.settings import Settings

    settings = Settings.from_dict(
        {
            "data_dir": str(tmp_path),
            "pipeline": {"validate": False, "sign": False, "stage_processes": 0},
            "peppol": {"seat_id": "POP000360", "local_country": country},
        }
    )
    with pytest.raises(ConfigError, match="local_country"):
        await open_services(settings)


async def test_country_codes_are_recorded_in_upper_case(store: Store, tmp_path: Path) -> None:
    """A country code in lower case is recorded as the code the reports take (SCH-TSR-20)."""
    key = load_reporting_key(tmp_path / "k")
    recorder = PeppolRecorder(store, key=key, seat_id="POP000360", local_country="sg")
    at = datetime(2026, 11, 3, tzinfo=UTC)
    facts = {
        "instance_id": "i",
        "c2_seat": "PDE000777",
        "doctype": DOCTYPE,
        "process": "urn:peppol:bis:billing",
        "c1_country": "de ",
        "receiver": SENDER,
    }
    assert await recorder.received(facts, message_id="m1", at=at, tenant_id=None)
    assert await recorder.received(
        {**facts, "c4_country": "nl"}, message_id="m2", at=at, tenant_id=None
    )
    records = await PeppolReportingStore(store.connector).between(
        at, datetime(2027, 1, 1, tzinfo=UTC)
    )
    assert sorted((r.c1_country, r.c4_country) for r in records) == [("DE", "NL"), ("DE", "SG")]

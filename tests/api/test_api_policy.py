"""The export gate end to end through the real services: a document the policy holds is
visible in the API and the CLI with its reason, released by a compliance officer (the
``release`` job writes the ledger entry and queues the delivery) or refused for good; the
ledger verifies and reports."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import json
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import psycopg
import pytest
from aiohttp import web
from lxml import etree

from gateway.api import api_runner, create_app
from gateway.cli import main
from gateway.cli._gatestore import cli_principal
from gateway.jobs import JobKinds, JobResult, RetryPolicy, Worker
from gateway.samples.writers import SELLER_USCC, SampleInvoice, einvoice_xml
from gateway.service import Services, open_services
from gateway.store import open_store
from gateway.store.base import Job, StateChange, StoreError
from gateway.store.ledger import RELEASE, LedgerStore
from tests.api.conftest import ApiClient, gateway_settings
from tests.mapping.fidelity import fapiao, machine_line
from tests.policy.support import personal, with_contact

POLICY = """version = "ftz-2026-1"

[[negative]]
id = "sg-contacts-need-approval"
effect = "approval"
destinations = ["SG"]
categories = ["personal"]
kinds = ["invoice"]
reason = "contact persons' data to Singapore needs the zone's approval"
source = "FTZ negative list 2026, item 7"
"""
PARTNERS = f"""[[partners]]
buyer_name = "Lion City Trading Pte. Ltd."
endpoint = "0195:SGUEN201612345D"
country = "SG"
city = "Singapore"

[[partners]]
buyer_name = "张三（个人）"
endpoint = "0088:4035811991021"
country = "HK"
city = "Hong Kong"

[[exporters]]
seller_id = "{SELLER_USCC}"
endpoint = "0199:5493001KJTIIGC8Y1R12"
"""


class Gate:
    """Tenants a and b, each with a submitting key (``a``, ``b``) and a compliance officer's
    key (``officer_a`` with id ``officer_a_id``, ``officer_b``)."""

    def __init__(self, services: Services, url: str, clients: dict[str, ApiClient]) -> None:
        self.services, self.url = services, url
        self.a, self.b = clients["a"], clients["b"]
        self.officer_a, self.officer_b = clients["officer_a"], clients["officer_b"]
        self.officer_a_id = ""

    async def drain(self) -> None:
        """Run every due job (process, release, deliver) with the production claim loop."""
        worker = Worker(self.services.store, self.services.kinds, worker_id="w", concurrency=50)
        while await worker.run_once():
            pass

    async def submit(self, body: bytes) -> str:
        status, _, raw = await self.a.request(
            "POST", "/v1/documents", data=body, headers={"Content-Type": "application/xml"}
        )
        assert status == 202, raw
        return str(json.loads(raw)["id"])

    async def state(self, ident: str) -> str:
        status, _, raw = await self.a.request("GET", f"/v1/documents/{ident}")
        assert status == 200
        return str(json.loads(raw)["status"])


@asynccontextmanager
async def open_gate(
    tmp_path: Path, url: str, *, submitter_decisions: bool = False, partners: str = PARTNERS
) -> AsyncIterator[Gate]:
    (tmp_path / "policy.toml").write_text(POLICY, encoding="utf-8")
    (tmp_path / "partners.toml").write_text(partners, encoding="utf-8")
    settings = gateway_settings(tmp_path, url).with_section(
        "policy", file=tmp_path / "policy.toml", submitter_decisions=submitter_decisions
    )
    settings = settings.with_section("pipeline", partners=tmp_path / "partners.toml")
    store = await open_store(url)
    services = await open_services(settings, store=store)
    runner = api_runner(create_app(services))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    keys: dict[str, str] = {}
    officer_a_id = ""
    for name in ("a", "b"):
        tenant = await store.create_tenant(name)
        keys[name], _ = await store.issue_api_key(tenant.id)
        keys[f"officer_{name}"], record = await store.issue_api_key(
            tenant.id, label=f"officer of {name}", role="officer"
        )
        officer_a_id = officer_a_id or record.id
    async with aiohttp.ClientSession() as session:
        clients = {name: ApiClient(session, base, key) for name, key in keys.items()}
        made = Gate(services, url, clients)
        made.officer_a_id = officer_a_id
        yield made
    await runner.cleanup()
    await services.close()


@pytest.fixture
async def gate(tmp_path: Path, store_url: str) -> AsyncIterator[Gate]:
    async with open_gate(tmp_path, store_url) as made:
        yield made


def cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(argv))
    return code, out.getvalue()


async def test_held_then_released_by_an_officer_then_delivered(gate: Gate) -> None:
    ident = await gate.submit(einvoice_xml(with_contact()))
    await gate.drain()
    assert await gate.state(ident) == "held"
    status, _, raw = await gate.a.request("GET", "/v1/holds")
    (hold,) = json.loads(raw)["items"]
    assert hold["id"] == ident and hold["policy_version"] == "ftz-2026-1"
    assert "sg-contacts-need-approval" in hold["reason"] and hold["subjects"] == 1
    assert json.loads((await gate.b.request("GET", "/v1/holds"))[2])["items"] == []
    code, text = await asyncio.to_thread(cli, "policy", "holds", "--database", gate.url)
    assert code == 0 and ident in text and "FTZ negative list 2026, item 7" in text
    decision = {"officer": "Officer Wang", "basis": "zone approval LG-2026-0042"}
    status, _, _ = await gate.officer_b.request("POST", f"/v1/holds/{ident}/release", json=decision)
    assert status == 404
    status, _, raw = await gate.officer_a.request("POST", f"/v1/holds/{ident}/release", json={})
    assert status == 422 and b"officer" in raw
    assert json.loads(raw)["errors"][0]["pointer"] == "/officer"  # RFC 6901, into the body
    path = f"/v1/holds/{ident}/release"
    status, _, raw = await gate.officer_a.request("POST", path, json=decision)
    assert status == 202 and json.loads(raw)["state"] == "releasing"
    principal = f"api-key:{gate.officer_a_id}"
    assert json.loads(raw)["principal"] == principal
    status, _, raw = await gate.officer_a.request("POST", path, json=decision)  # a retry
    assert status == 202 and json.loads(raw)["decided_by"] == "Officer Wang"
    await gate.drain()
    assert await gate.state(ident) == "delivered"
    ledger = LedgerStore(gate.services.store.connector)
    (entry,) = await ledger.entries()
    assert entry["decided_by"] == "Officer Wang" and entry["basis"] == decision["basis"]
    assert entry["principal"] == principal
    assert entry["policy_version"] == "ftz-2026-1" and entry["subjects"] == 1
    code, text = await asyncio.to_thread(cli, "ledger", "verify", "--database", gate.url)
    assert code == 0 and "ledger ok: 1 entries" in text
    year = entry["at"][:4]
    code, text = await asyncio.to_thread(
        cli, "ledger", "report", "--year", year, "--format", "csv", "--database", gate.url
    )
    assert code == 0 and f"{SELLER_USCC},by_basis,zone approval LG-2026-0042,1" in text
    assert f"{SELLER_USCC},total,individuals,1" in text


async def test_held_then_refused_for_good(gate: Gate) -> None:
    ident = await gate.submit(einvoice_xml(with_contact()))
    await gate.drain()
    typo = {"officer": "Officer Li", "reson": "no approval will be sought"}
    for action in ("refuse", "release"):
        path = f"/v1/holds/{ident}/{action}"
        status, _, raw = await gate.officer_a.request("POST", path, json=typo)
        assert status == 422, raw
        assert [(e["field"], e["rule"]) for e in json.loads(raw)["errors"]] == [
            ("reson", "unknown-field")
        ]
    assert await gate.state(ident) == "held"
    refusal = {"officer": "Officer Li", "reason": "no approval will be sought"}
    status, _, raw = await gate.officer_a.request("POST", f"/v1/holds/{ident}/refuse", json=refusal)
    assert status == 200 and json.loads(raw)["state"] == "refused"
    assert await gate.state(ident) == "refused"
    await gate.drain()
    assert await gate.state(ident) == "refused"
    status, _, raw = await gate.officer_a.request("POST", f"/v1/holds/{ident}/release",
                                                  json={"officer": "x", "basis": "y"})  # fmt: skip
    assert status == 409
    assert await LedgerStore(gate.services.store.connector).entries() == []


async def test_a_personal_buyers_invoice_leaves_under_art_5_1(gate: Gate) -> None:
    ident = await gate.submit(einvoice_xml(personal()))
    await gate.drain()
    assert await gate.state(ident) == "delivered"
    (entry,) = await LedgerStore(gate.services.store.connector).entries()
    assert entry["basis"].startswith("Art. 5(1)") and entry["decided_by"] == "policy ftz-2026-1"
    status, _, raw = await gate.a.request("GET", "/v1/policy")
    assert status == 200 and json.loads(raw)["version"] == "ftz-2026-1"


async def test_the_policy_answer_names_its_file_without_the_servers_path(
    gate: Gate, tmp_path: Path
) -> None:
    """API clients see the policy file's name and digest, not where it lies on the server;
    ``lingang policy check`` shows the operator the path."""
    status, _, raw = await gate.a.request("GET", "/v1/policy")
    assert status == 200
    answer = json.loads(raw)
    digest = hashlib.sha256((tmp_path / "policy.toml").read_bytes()).hexdigest()
    assert answer["source"] == "policy.toml"
    assert answer["files"] == [{"name": "policy.toml", "sha256": digest}]
    assert str(tmp_path).encode() not in raw and tmp_path.name.encode() not in raw
    code, text = await asyncio.to_thread(cli, "policy", "check", str(tmp_path / "policy.toml"))
    assert code == 0 and json.loads(text)["path"] == str(tmp_path / "policy.toml")


async def test_bad_decisions_are_refused_naming_the_problem(gate: Gate) -> None:
    ident = await gate.submit(einvoice_xml(with_contact()))
    await gate.drain()
    path = f"/v1/holds/{ident}/release"
    status, _, _ = await gate.officer_a.request("POST", path, data=b"basis=x",
                                        headers={"Content-Type": "text/plain"})  # fmt: skip
    assert status == 415
    status, _, _ = await gate.officer_a.request(
        "POST", path, data=b"{" * 20_000, headers={"Content-Type": "application/json"}
    )
    assert status == 413
    status, _, raw = await gate.officer_a.request(
        "POST", path, data=b"[1, 2", headers={"Content-Type": "application/json"}
    )
    assert status == 422 and b"not valid JSON" in raw
    status, _, raw = await gate.officer_a.request(
        "POST", path, json={"officer": "Wang", "basis": " "}
    )
    assert status == 422 and b"basis" in raw
    status, _, _ = await gate.officer_a.request("POST", "/v1/holds/no-such-id/refuse", json={})
    assert status == 404
    status, _, raw = await gate.officer_a.request("GET", "/v1/holds?state=lost")
    assert status == 422 and b"state" in raw
    status, _, raw = await gate.officer_a.request("GET", "/v1/holds?state=held&state=refused")
    assert status == 422 and b'"rule": "conflict"' in raw
    status, _, raw = await gate.officer_a.request("POST", path, data=b'{"officer": "' + b"x" * 20_000 + b'"}',
                                          headers={"Content-Type": "application/json"})  # fmt: skip
    assert status == 413 and b'"field": "body"' in raw
    # what the append-only ledger should never keep: once a 500 (a lone surrogate cannot be
    # stored) or kept for good (a NUL, a forged log line, a direction override)
    for body, field in [
        (b'{"officer": "\\ud800", "basis": "x"}', "officer"),
        (b'{"officer": "Wang", "basis": "a\\udfffb"}', "basis"),
        (b'{"officer": "a\\u0000b", "basis": "x"}', "officer"),
        (b'{"officer": "a\\r\\nFAKE LOG LINE", "basis": "x"}', "officer"),
        (b'{"officer": "\\u202eevil", "basis": "x"}', "officer"),
        (b'{"officer": "Wang", "basis": "a\\u001b[31m"}', "basis"),
        # two officers or two bases: the last was recorded without a word (I-JSON 2.3)
        (b'{"officer": "Wang", "basis": "x", "officer": "Li"}', "officer"),
        (b'{"officer": "Wang", "basis": "x", "basis": "y"}', "basis"),
    ]:
        status, _, raw = await gate.officer_a.request(
            "POST", path, data=body, headers={"Content-Type": "application/json"}
        )
        assert status == 422, (body, raw)
        assert f'"field": "{field}"'.encode() in raw, raw
    assert await gate.state(ident) == "held"


async def test_release_and_refuse_from_the_command_line(gate: Gate) -> None:
    first = await gate.submit(einvoice_xml(with_contact("Tan", number="26312000000000100011")))
    second = await gate.submit(einvoice_xml(with_contact("Lim", number="26312000000000100012")))
    await gate.drain()
    code, text = await asyncio.to_thread(
        cli, "policy", "release", first, "--basis", "approval LG-7", "--officer", "Officer Wang",
        "--database", gate.url,
    )  # fmt: skip
    assert code == 0 and "releasing" in text and "Officer Wang" in text
    code, text = await asyncio.to_thread(
        cli, "policy", "refuse", second, "--reason", "no approval", "--officer", "Officer Li",
        "--database", gate.url,
    )  # fmt: skip
    assert code == 0 and "refused by Officer Li" in text
    code, _ = await asyncio.to_thread(
        cli, "policy", "refuse", second, "--reason", "again", "--officer", "Officer Li",
        "--database", gate.url,
    )  # fmt: skip
    assert code == 1
    code, _ = await asyncio.to_thread(
        cli, "policy", "refuse", second, "--reason", "x", "--officer", "Li\udc80",
        "--database", gate.url,
    )  # fmt: skip
    assert code == 1  # refused with a message, not a traceback (once UnicodeEncodeError)
    await gate.drain()
    assert (await gate.state(first), await gate.state(second)) == ("delivered", "refused")
    code, text = await asyncio.to_thread(
        cli, "policy", "holds", "--state", "released", "--json", "--database", gate.url
    )
    (line,) = text.splitlines()
    assert json.loads(line)["decided_by"] == "Officer Wang"
    assert json.loads(line)["principal"] == cli_principal()  # the system account that ran it
    entries = await LedgerStore(gate.services.store.connector).entries()
    assert [e["principal"] for e in entries] == [cli_principal()]


async def test_a_submitting_key_cannot_decide_its_own_tenants_holds(gate: Gate) -> None:
    """The key that submits a document (every tenant's ordinary key) may read its holds but
    not release or refuse them: 403, naming the role, and nothing changes; an officer's key
    of the same tenant may. Another officer's key sending the same words is another
    decision (409), not a repeat."""
    ident = await gate.submit(einvoice_xml(with_contact()))
    await gate.drain()
    status, _, raw = await gate.a.request("GET", "/v1/holds")
    assert status == 200 and json.loads(raw)["items"][0]["id"] == ident
    decision = {"officer": "Officer Wang", "basis": "zone approval LG-2026-0042"}
    for action, body in (("release", decision), ("refuse", {"officer": "W", "reason": "no"})):
        status, _, raw = await gate.a.request("POST", f"/v1/holds/{ident}/{action}", json=body)
        assert status == 403, raw
        problem = json.loads(raw)
        assert problem["errors"][0]["rule"] == "role.officer" and "officer" in problem["detail"]
    assert await gate.state(ident) == "held"
    status, _, _ = await gate.officer_a.request("POST", f"/v1/holds/{ident}/release", json=decision)
    assert status == 202
    second = gate.services.store
    tenant = next(t for t in await second.list_tenants() if t.name == "a")
    other_key, _ = await second.issue_api_key(tenant.id, role="officer")
    other = ApiClient(gate.a.session, gate.a.base, other_key)
    status, _, raw = await other.request("POST", f"/v1/holds/{ident}/release", json=decision)
    assert status == 409 and b"releasing" in raw


async def test_submitter_decisions_lets_every_key_decide_as_before(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An existing deployment that keeps its tenants deciding with their own keys sets
    ``[policy] submitter_decisions = true``: said at start-up, and the key is recorded."""
    with caplog.at_level(logging.WARNING, logger="lingang.service"):
        async with open_gate(
            tmp_path, f"sqlite:///{tmp_path}/legacy.db", submitter_decisions=True
        ) as legacy:
            ident = await legacy.submit(einvoice_xml(with_contact()))
            await legacy.drain()
            decision = {"officer": "Finance lead", "basis": "zone approval LG-2026-0042"}
            path = f"/v1/holds/{ident}/release"
            status, _, raw = await legacy.a.request("POST", path, json=decision)
            assert status == 202 and json.loads(raw)["principal"].startswith("api-key:")
    assert "submitter_decisions = true" in caplog.text


async def test_the_start_says_when_no_officer_is_configured(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path}/fresh.db"
    settings = gateway_settings(tmp_path, url)
    with caplog.at_level(logging.WARNING, logger="lingang.service"):
        services = await open_services(settings)
        await services.close()
    assert "no compliance officer is configured" in caplog.text
    assert "lingang tenants add-key NAME --role officer" in caplog.text
    caplog.clear()
    store = await open_store(url)
    tenant = await store.create_tenant("a")
    await store.issue_api_key(tenant.id, role="officer")
    with caplog.at_level(logging.WARNING, logger="lingang.service"):
        services = await open_services(settings, store=store)
        await services.close()
    assert "no compliance officer" not in caplog.text


class FailingRelease:
    """The ``release`` kind of a gateway whose release attempts all fail (its store away each
    time): dead-lettered with the production kind's event, nothing written."""

    name = RELEASE

    def __init__(self, kinds: JobKinds) -> None:
        real = kinds.get(RELEASE)
        assert real is not None
        self.real = real

    async def run(self, job: Job, worker_id: str) -> JobResult:
        raise StoreError("the store went away")

    def dead_event(self, job: Job, reason: str, *, retryable: bool) -> StateChange | None:
        return self.real.dead_event(job, reason, retryable=retryable)


async def test_a_hold_whose_release_job_died_is_listed_for_a_new_decision(gate: Gate) -> None:
    """An officer sees a hold whose release job failed for good in the default listing, as
    ``release_failed``, and decides again; before, it was listed nowhere by default."""
    ident = await gate.submit(einvoice_xml(with_contact()))
    await gate.drain()
    decision = {"officer": "Officer Wang", "basis": "zone approval LG-2026-0042"}
    status, _, _ = await gate.officer_a.request("POST", f"/v1/holds/{ident}/release", json=decision)
    assert status == 202
    listed = json.loads((await gate.a.request("GET", "/v1/holds?state=releasing"))[2])["items"]
    assert [h["id"] for h in listed] == [ident]
    failing = JobKinds([FailingRelease(gate.services.kinds)])
    worker = Worker(gate.services.store, failing, worker_id="w", policy=RetryPolicy(max_attempts=1))
    assert await worker.run_once() == 1
    assert await gate.state(ident) == "held"

    status, _, raw = await gate.a.request("GET", "/v1/holds")
    (hold,) = json.loads(raw)["items"]
    assert status == 200 and hold["id"] == ident and hold["state"] == "release_failed"
    assert hold["decided_by"] == "Officer Wang"
    status, _, raw = await gate.a.request("GET", "/v1/holds?state=release_failed")
    assert [h["id"] for h in json.loads(raw)["items"]] == [ident]
    status, _, raw = await gate.a.request("GET", "/v1/holds?state=releasing")
    assert json.loads(raw)["items"] == []
    assert json.loads((await gate.b.request("GET", "/v1/holds"))[2])["items"] == []
    code, text = await asyncio.to_thread(cli, "policy", "holds", "--database", gate.url)
    assert code == 0 and f"{ident} release_failed" in text

    again = {"officer": "Officer Li", "basis": "zone approval LG-2026-0043"}
    status, _, raw = await gate.officer_a.request("POST", f"/v1/holds/{ident}/release", json=again)
    assert status == 202 and json.loads(raw)["state"] == "releasing"
    assert json.loads((await gate.a.request("GET", "/v1/holds"))[2])["items"] == []
    await gate.drain()
    assert await gate.state(ident) == "delivered"
    (entry,) = await LedgerStore(gate.services.store.connector).entries()
    assert entry["decided_by"] == "Officer Li"


async def test_a_submitting_key_cannot_retry_a_failed_release_past_the_officer(
    gate: Gate,
) -> None:
    """A hold whose release job failed for good waits for a compliance officer's new
    decision. ``POST /v1/documents/{id}/retry`` with the tenant's submitting key requeued
    that dead release job, so the document left on the earlier decision without any officer
    deciding again: it is now a 409 saying who decides, the hold stays ``release_failed``, and
    an officer's new release sends it."""
    ident = await gate.submit(einvoice_xml(with_contact()))
    await gate.drain()
    decision = {"officer": "Officer Wang", "basis": "zone approval LG-2026-0042"}
    status, _, _ = await gate.officer_a.request("POST", f"/v1/holds/{ident}/release", json=decision)
    assert status == 202
    failing = JobKinds([FailingRelease(gate.services.kinds)])
    worker = Worker(gate.services.store, failing, worker_id="w", policy=RetryPolicy(max_attempts=1))
    assert await worker.run_once() == 1
    status, _, raw = await gate.a.request("POST", f"/v1/documents/{ident}/retry")
    assert status == 409, raw
    problem = json.loads(raw)
    assert problem["type"].endswith("not-retryable") and "officer" in problem["detail"]
    await gate.drain()
    assert await gate.state(ident) == "held"
    (hold,) = json.loads((await gate.a.request("GET", "/v1/holds"))[2])["items"]
    assert hold["state"] == "release_failed"
    again = {"officer": "Officer Li", "basis": "zone approval LG-2026-0043"}
    status, _, _ = await gate.officer_a.request("POST", f"/v1/holds/{ident}/release", json=again)
    assert status == 202
    await gate.drain()
    assert await gate.state(ident) == "delivered"


async def test_a_release_is_rechecked_against_the_thresholds(
    tmp_path: Path, store_url: str
) -> None:
    """Held by the negative list, the document is released by an officer; but its individual
    brings the exporter to the Art. 8 threshold (here 1) and it has no filing: the release
    job sends nothing and holds it again, saying why; released again on a filing, it
    leaves, and the ledger records that release."""
    partners = PARTNERS + "\n[exporters.data_export]\nexempt_below = 1\nassessment_from = 5\n"
    async with open_gate(tmp_path, store_url, partners=partners) as gate:
        ident = await gate.submit(einvoice_xml(with_contact()))
        await gate.drain()
        assert await gate.state(ident) == "held"
        path = f"/v1/holds/{ident}/release"
        first = {"officer": "Officer Wang", "basis": "zone approval LG-2026-0042"}
        status, _, _ = await gate.officer_a.request("POST", path, json=first)
        assert status == 202
        await gate.drain()
        assert await gate.state(ident) == "held"
        status, _, raw = await gate.a.request("GET", "/v1/holds")
        (hold,) = json.loads(raw)["items"]
        assert hold["state"] == "held" and "re-checked at release" in hold["reason"]
        assert "Art. 8" in hold["reason"] and hold["decided_by"] is None
        ledger = LedgerStore(gate.services.store.connector)
        assert await ledger.entries() == []
        second = {"officer": "Officer Li", "basis": "standard contract filed SH-SCC-2026-7"}
        status, _, _ = await gate.officer_a.request("POST", path, json=second)
        assert status == 202
        await gate.drain()
        assert await gate.state(ident) == "delivered"
        (entry,) = await ledger.entries()
        assert (entry["decided_by"], entry["basis"]) == ("Officer Li", second["basis"])


async def test_a_release_is_rechecked_against_the_policy_in_force(
    gate: Gate, tmp_path: Path
) -> None:
    """The policy changes while the document waits: a new negative-list rule forbids contacts'
    data to Singapore. The officer's release (answering the old rule) is stopped and the
    document held again on the new rule, under the new version; released again, it leaves."""
    import os

    ident = await gate.submit(einvoice_xml(with_contact()))
    await gate.drain()
    assert await gate.state(ident) == "held"
    policy_file = tmp_path / "policy.toml"
    forbid = (
        'version = "ftz-2026-2"\n\n[[negative]]\nid = "sg-contacts-forbidden"\neffect = "forbid"\n'
        'destinations = ["SG"]\ncategories = ["personal"]\nsource = "FTZ negative list 2026-2"\n'
    )
    policy_file.write_text(forbid + POLICY.split("\n", 1)[1], encoding="utf-8")
    os.utime(policy_file, (1, 1))
    gate.services.tools.policy.check_seconds = 0  # type: ignore[attr-defined]
    path = f"/v1/holds/{ident}/release"
    first = {"officer": "Officer Wang", "basis": "zone approval LG-2026-0042"}
    assert (await gate.officer_a.request("POST", path, json=first))[0] == 202
    await gate.drain()
    assert await gate.state(ident) == "held"
    (hold,) = json.loads((await gate.a.request("GET", "/v1/holds"))[2])["items"]
    assert hold["policy_version"] == "ftz-2026-2" and hold["state"] == "held"
    assert "re-checked at release under policy ftz-2026-2" in hold["reason"]
    assert "sg-contacts-forbidden: forbidden [FTZ negative list 2026-2]" in hold["reason"]
    assert await LedgerStore(gate.services.store.connector).entries() == []
    second = {"officer": "Officer Li", "basis": "CAC approval of the exception 2026-11"}
    assert (await gate.officer_a.request("POST", path, json=second))[0] == 202
    await gate.drain()
    assert await gate.state(ident) == "delivered"
    (entry,) = await LedgerStore(gate.services.store.connector).entries()
    assert (entry["decided_by"], entry["policy_version"]) == ("Officer Li", "ftz-2026-2")


async def test_a_release_under_an_unchanged_rule_stands(gate: Gate, tmp_path: Path) -> None:
    """A new policy version whose first matching rule is still the one that held the
    document does not stop the officer's release."""
    import os

    ident = await gate.submit(einvoice_xml(with_contact()))
    await gate.drain()
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(POLICY.replace("ftz-2026-1", "ftz-2026-3"), encoding="utf-8")
    os.utime(policy_file, (1, 1))
    gate.services.tools.policy.check_seconds = 0  # type: ignore[attr-defined]
    decision = {"officer": "Officer Wang", "basis": "zone approval LG-2026-0042"}
    assert (await gate.officer_a.request("POST", f"/v1/holds/{ident}/release", json=decision))[
        0
    ] == 202
    await gate.drain()
    assert await gate.state(ident) == "delivered"


async def test_the_ledger_report_of_a_year_through_the_api(gate: Gate) -> None:
    """``GET /v1/ledger/report``: the tenant's figures of a calendar year in Beijing time
    (another tenant sees none of them); a bad or missing year is a 422 naming it."""
    import datetime as dt

    ident = await gate.submit(einvoice_xml(with_contact()))
    await gate.drain()
    decision = {"officer": "Officer Wang", "basis": "zone approval LG-2026-0042"}
    await gate.officer_a.request("POST", f"/v1/holds/{ident}/release", json=decision)
    await gate.drain()
    (entry,) = await LedgerStore(gate.services.store.connector).entries()
    at = dt.datetime.fromisoformat(entry["at"])
    year = at.astimezone(dt.timezone(dt.timedelta(hours=8))).year
    status, _, raw = await gate.a.request("GET", f"/v1/ledger/report?year={year}")
    assert status == 200, raw
    report = json.loads(raw)
    figures = report["exporters"][SELLER_USCC]
    assert report["year"] == year and list(report["exporters"]) == [SELLER_USCC]
    assert (figures["documents"], figures["individuals"], figures["subjects_carried"]) == (1, 1, 1)
    assert figures["by_basis"] == {decision["basis"]: 1}
    assert figures["by_destination"] == {"SG": 1}
    assert figures["by_category"] == {"business": 1, "personal": 1}
    query = f"/v1/ledger/report?year={year}&exporter={SELLER_USCC}"
    assert json.loads((await gate.a.request("GET", query))[2]) == report
    other = json.loads((await gate.b.request("GET", f"/v1/ledger/report?year={year}"))[2])
    assert other == {"year": year, "exporters": {}}
    assert (
        json.loads((await gate.a.request("GET", f"/v1/ledger/report?year={year + 1}"))[2])[
            "exporters"
        ]
        == {}
    )
    for bad, field in (("year=26", "year"), ("year=２０２６", "year"), ("", "year"),
                       (f"year={year}&exporter=", "exporter"), (f"year={year}&exporter=a%00b", "exporter"), (f"year={year}&y=1", "y")):  # fmt: skip
        status, _, raw = await gate.a.request("GET", f"/v1/ledger/report?{bad}")
        assert status == 422, bad
        assert [e["field"] for e in json.loads(raw)["errors"]] == [field], bad
    assert (await gate.a.request("GET", "/v1/ledger/report?year=2026", headers={
        "Authorization": "Bearer nope"}))[0] == 401  # fmt: skip


async def test_a_released_invoice_dates_its_credit_note_and_a_refused_one_does_not(
    gate: Gate,
) -> None:
    """Two blue invoices the gate holds: the one an officer releases counts as sent, so its
    red-letter credit note is dated from it (BT-26, which the red-letter fapiao does not
    print); the one the officer refuses never left, so its credit note carries BT-25 only."""
    released_number, refused_number = "26312000000000100011", "26312000000000100012"
    issued = "2026-11-02 09:00:00"
    released = await gate.submit(einvoice_xml(with_contact(number=released_number, issued=issued)))
    refused = await gate.submit(einvoice_xml(with_contact(number=refused_number, issued=issued)))
    await gate.drain()
    assert [await gate.state(i) for i in (released, refused)] == ["held", "held"]
    decision = {"officer": "Officer Wang", "basis": "zone approval LG-2026-0042"}
    path = f"/v1/holds/{released}/release"
    assert (await gate.officer_a.request("POST", path, json=decision))[0] == 202
    refusal = {"officer": "Officer Li", "reason": "no approval will be sought"}
    path = f"/v1/holds/{refused}/refuse"
    assert (await gate.officer_a.request("POST", path, json=refusal))[0] == 200
    await gate.drain()
    assert await gate.state(released) == "delivered"
    credit_notes = {}
    for n, blue in enumerate((released_number, refused_number), start=1):
        red = _red_letter(f"2631200000000020000{n}", blue, f"3101202611200000001{n}")
        credit_notes[blue] = await gate.submit(einvoice_xml(red))
    await gate.drain()
    dates = {}
    for blue, ident in credit_notes.items():
        assert await gate.state(ident) == "delivered"
        signed = await gate.services.store.get_output(ident, "signed")
        assert signed is not None
        ref = "//*[local-name()='BillingReference']/*[local-name()='InvoiceDocumentReference']"
        (found,) = etree.fromstring(signed.data).xpath(ref)
        assert found.xpath("string(*[local-name()='ID'])") == blue
        dates[blue] = found.xpath("string(*[local-name()='IssueDate'])")
    assert dates == {released_number: "2026-11-02", refused_number: ""}


def _red_letter(number: str, blue: str, confirmation: str) -> SampleInvoice:
    """A red-letter fapiao to the SG company buyer (no contact person: not held) reversing
    part of the blue invoice ``blue``."""
    line = machine_line(amount="-1000.00", tax="-130.00", gross="-1130.00", quantity="-2")
    return fapiao(
        [line],
        number=number,
        issued="2026-11-20 10:15:00",
        blue="N",
        red_original=blue,
        red_confirmation=confirmation,
    )


def _forget_document_facts(url: str, submission_id: str, states: tuple[str, ...]) -> None:
    """Make the ``states`` events of ``submission_id`` as a gateway that did not yet record a
    document's kind and issue date (``document_type``, ``issue_date``) left them."""
    marks = ", ".join("?" for _ in states)
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            conn.execute(
                "UPDATE events SET detail = json_remove(detail, '$.document_type', "
                f"'$.issue_date') WHERE submission_id = ? AND state IN ({marks})",
                (submission_id, *states),
            )
        return
    with psycopg.connect(url, autocommit=True) as pg:
        pg.execute(
            "UPDATE events SET detail = detail - 'document_type' - 'issue_date' "
            f"WHERE submission_id = %s AND state IN ({marks.replace('?', '%s')})".encode(),
            (submission_id, *states),
        )


async def test_invoices_held_before_their_facts_were_recorded_still_date_credit_notes(
    gate: Gate,
) -> None:
    """Two blue invoices held by a gateway that did not yet keep a held document's kind and
    issue date: one is released now, the other was released then (its ``queued`` event
    lacks them too). The release reads them from the stored document and records them;
    both red-letter credit notes are dated from their blue invoice (BT-26)."""
    now_number, then_number = "26312000000000100021", "26312000000000100022"
    issued = "2026-11-03 09:00:00"
    released_now = await gate.submit(einvoice_xml(with_contact(number=now_number, issued=issued)))
    released_then = await gate.submit(einvoice_xml(with_contact(number=then_number, issued=issued)))
    await gate.drain()
    assert [await gate.state(i) for i in (released_now, released_then)] == ["held", "held"]
    _forget_document_facts(gate.url, released_now, ("held",))
    decision = {"officer": "Officer Wang", "basis": "zone approval LG-2026-0043"}
    for ident in (released_now, released_then):
        path = f"/v1/holds/{ident}/release"
        assert (await gate.officer_a.request("POST", path, json=decision))[0] == 202
    await gate.drain()
    _forget_document_facts(gate.url, released_then, ("held", "queued"))
    (queued,) = [
        e for e in await gate.services.store.list_events(released_now) if e.state == "queued"
    ]
    assert queued.detail is not None
    assert (queued.detail["document_type"], queued.detail["issue_date"]) == (
        "invoice",
        "2026-11-03",
    )
    credit_notes = {}
    for n, blue in enumerate((now_number, then_number), start=1):
        red = _red_letter(f"2631200000000020001{n}", blue, f"3101202611200000002{n}")
        credit_notes[blue] = await gate.submit(einvoice_xml(red))
    await gate.drain()
    ref = "//*[local-name()='BillingReference']/*[local-name()='InvoiceDocumentReference']"
    for blue, ident in credit_notes.items():
        assert await gate.state(ident) == "delivered"
        signed = await gate.services.store.get_output(ident, "signed")
        assert signed is not None
        (found,) = etree.fromstring(signed.data).xpath(ref)
        assert found.xpath("string(*[local-name()='ID'])") == blue
        assert found.xpath("string(*[local-name()='IssueDate'])") == "2026-11-03", blue

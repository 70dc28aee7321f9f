"""``Idempotency-Key`` on the eBL actions, over TLS on both stores: a retry after a lost
response is given the first answer (also by another replica, also after a restart) instead
of a 409 or a second action; the key reused for another request is a 409 naming what
differs; two replicas racing with one key make one action."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from gateway.store.ebl import EblRegistry
from gateway.store.idempotency import IdempotencyExpiry
from gateway.testing.pint import transport_document
from tests.api.ebl_live import EblPlatforms, ebl_platforms


async def _issue_here(live: EblPlatforms, reference: Path, number: str) -> None:
    async with live.replica() as api:
        document = transport_document(reference, number)
        status, _, body = await live.call(
            api, "POST", "/v1/ebls", json={"transportDocument": document, "to": "AEOT:SHIPPER"}
        )
        assert status == 201, body


async def test_a_retried_issue_and_transfer_get_the_first_answer(
    tmp_path: Path, reference: Path, store_url: str
) -> None:
    async with ebl_platforms(tmp_path, reference, store_url) as live:
        document = transport_document(reference, "IDEM0001")
        issue = {"transportDocument": document, "to": "AEOT:SHIPPER"}
        transfer = {"to": "IQAX:BUYER"}
        path = "/v1/ebls/IDEM0001/transfers"
        async with live.replica() as api:
            status, headers, first = await live.call(
                api, "POST", "/v1/ebls", json=issue, headers={"Idempotency-Key": "issue-1"}
            )
            assert status == 201, first
            assert "Idempotent-Replayed" not in headers
            status, headers, again = await live.call(
                api, "POST", "/v1/ebls", json=issue, headers={"Idempotency-Key": "issue-1"}
            )
            assert (status, again, headers.get("Idempotent-Replayed")) == (201, first, "true")
            status, _, sent = await live.call(
                api, "POST", path, json=transfer, headers={"Idempotency-Key": "move-1"}
            )
            assert status == 202, sent
        async with live.replica() as restarted:  # another process, after a restart
            status, headers, resent = await live.call(
                restarted, "POST", path, json=transfer, headers={"Idempotency-Key": "move-1"}
            )
            assert (status, resent, headers.get("Idempotent-Replayed")) == (202, sent, "true")
            status, _, unkeyed = await live.call(restarted, "POST", path, json=transfer)
            assert status == 409 and "no control" in unkeyed["detail"]
            outbound = await EblRegistry.of(restarted.services.store).outbound_of(sent["checksum"])
            assert [o.id for o in outbound] == [sent["transfer"]]


async def test_a_key_reused_for_another_request_is_a_conflict_naming_what_differs(
    tmp_path: Path, reference: Path, store_url: str
) -> None:
    async with ebl_platforms(tmp_path, reference, store_url) as live:
        await _issue_here(live, reference, "IDEM0002")
        path = "/v1/ebls/IDEM0002/transfers"
        key = {"Idempotency-Key": "move-2"}
        async with live.replica() as api:
            status, _, body = await live.call(
                api, "POST", path, json={"to": "IQAX:BUYER"}, headers=key
            )
            assert status == 202, body
            status, _, problem = await live.call(
                api, "POST", path, json={"to": "IQAX:OTHER", "forwardDocuments": True}, headers=key
            )
            assert status == 409, problem
            assert problem["type"].endswith("idempotency-conflict")
            assert [(e["field"], e["rule"]) for e in problem["errors"]] == [
                ("Idempotency-Key", "idempotency-key-reuse"),
                ("forwardDocuments", "differs"),
                ("to", "differs"),
            ]
            document = transport_document(reference, "IDEM0003")
            status, _, problem = await live.call(
                api,
                "POST",
                "/v1/ebls",
                json={"transportDocument": document, "to": "AEOT:SHIPPER"},
                headers=key,
            )
            assert status == 409, problem
            assert "used for POST /v1/ebls/IDEM0002/transfers" in problem["detail"]
            status, _, problem = await live.call(
                api, "POST", path, json={"to": "IQAX:BUYER"}, headers={"Idempotency-Key": "a b"}
            )
            assert status == 422 and problem["errors"][0]["field"] == "Idempotency-Key"


async def test_a_failed_action_leaves_the_key_free(
    tmp_path: Path, reference: Path, store_url: str
) -> None:
    """A refused request changed nothing: corrected, it runs under the same key."""
    async with ebl_platforms(tmp_path, reference, store_url) as live:
        await _issue_here(live, reference, "IDEM0004")
        path = "/v1/ebls/IDEM0004/transfers"
        key = {"Idempotency-Key": "move-4"}
        async with live.replica() as api:
            status, _, problem = await live.call(
                api, "POST", path, json={"to": "ZZZZ:NOBODY"}, headers=key
            )
            assert status == 422, problem
            status, _, body = await live.call(
                api, "POST", path, json={"to": "IQAX:BUYER"}, headers=key
            )
            assert status == 202, body


async def test_two_replicas_racing_with_one_key_make_one_transfer(
    tmp_path: Path, reference: Path, store_url: str
) -> None:
    async with ebl_platforms(tmp_path, reference, store_url) as live:
        await _issue_here(live, reference, "IDEM0005")
        path = "/v1/ebls/IDEM0005/transfers"
        key = {"Idempotency-Key": "move-5"}
        async with live.replica() as one, live.replica() as two:
            answers = await asyncio.gather(
                *(
                    live.call(api, "POST", path, json={"to": "IQAX:BUYER"}, headers=key)
                    for api in (one, two, one, two)
                )
            )
            assert {status for status, _, _ in answers} == {202}, answers
            assert len({body["transfer"] for _, _, body in answers}) == 1
            assert sum(h.get("Idempotent-Replayed") == "true" for _, h, _ in answers) == 3
            outbound = await EblRegistry.of(one.services.store).outbound_of(
                answers[0][2]["checksum"]
            )
            assert len(outbound) == 1


async def test_conflicts_name_a_stable_rule_and_a_forgotten_key_is_a_new_request(
    tmp_path: Path, reference: Path, store_url: str
) -> None:
    """A 409 names its field and rule as every other problem does; once the key's answer
    is forgotten ([limits] idempotency_hours), the same request with it is a new request."""
    async with ebl_platforms(tmp_path, reference, store_url) as live:
        document = transport_document(reference, "IDEM0006")
        issue = {"transportDocument": document, "to": "AEOT:SHIPPER"}
        path = "/v1/ebls/IDEM0006/transfers"
        async with live.replica() as api:
            status, _, body = await live.call(
                api, "POST", "/v1/ebls", json=issue, headers={"Idempotency-Key": "issue-6"}
            )
            assert status == 201, body
            status, _, problem = await live.call(
                api, "POST", "/v1/ebls", json=issue, headers={"Idempotency-Key": "issue-6b"}
            )
            assert status == 409, problem
            assert [(e["field"], e["rule"]) for e in problem["errors"]] == [
                ("transportDocument", "ebl.already-issued")
            ]
            key = {"Idempotency-Key": "move-6"}
            status, _, sent = await live.call(
                api, "POST", path, json={"to": "IQAX:BUYER"}, headers=key
            )
            assert status == 202, sent
            status, _, problem = await live.call(api, "POST", path, json={"to": "IQAX:BUYER"})
            assert status == 409, problem
            assert [(e["field"], e["rule"]) for e in problem["errors"]] == [
                ("reference", "ebl.not-held")
            ]
            ahead = api.services.store.clock() + timedelta(hours=200)
            expiry = IdempotencyExpiry(api.services.store.connector, clock=lambda: ahead)
            assert (await expiry.expire(168)).ebl_answers == 2
            status, headers, again = await live.call(
                api, "POST", path, json={"to": "IQAX:BUYER"}, headers=key
            )
            assert (status, "Idempotent-Replayed" in headers) == (409, False), again
            assert again["errors"][0]["rule"] == "ebl.not-held"

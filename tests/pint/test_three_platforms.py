"""Three gateway processes on loopback TLS — a Chinese carrier platform (AEOT), Hong Kong (IQAX)
and Singapore (SGTD) — pass one eBL A → B → C with a supporting document, and C refuses every
bad envelope with the right signed code without any change to its registry."""

from __future__ import annotations

import base64
import json
import sqlite3
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway.pint.checksums import bytes_checksum, jws_checksum
from gateway.pint.codes import ResponseCode
from gateway.pint.responses import read_response
from gateway.testing.cluster import GatewayProcess, free_port
from gateway.testing.pint import (
    DemoPlatform,
    PlatformHome,
    key_sets,
    transport_document,
    write_platform_homes,
)
from gateway.testing.tls import make_tls

from .chains import envelope, issue_entry, next_entry, transfer

INVOICE = b"%PDF-1.7 commercial invoice for LG-E2E"


def lingang(home: PlatformHome, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args, "--config", str(home.config)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def history(home: PlatformHome, reference: str) -> dict[str, Any]:
    done = lingang(home, "ebl", "history", reference, "--json")
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def wait_for_state(
    home: PlatformHome, reference: str, state: str, timeout: float = 60
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        done = lingang(home, "ebl", "history", reference, "--json")
        if done.returncode == 0 and json.loads(done.stdout)["state"] == state:
            return dict(json.loads(done.stdout))
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{home.platform.code}: {reference} never became {state}: {done.stdout}{done.stderr}"
            )
        time.sleep(0.3)


def registry_rows(home: PlatformHome) -> list[tuple[Any, ...]]:
    with sqlite3.connect(home.store) as db:
        return db.execute(
            "SELECT td_checksum, state, head, chain, version FROM ebl_titles ORDER BY 1"
        ).fetchall()


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory, reference: Path
) -> Iterator[list[PlatformHome]]:
    from gateway.testing.pint import platform

    root = tmp_path_factory.mktemp("pint3")
    tls = make_tls(root / "tls")
    platforms = [
        platform("AEOT", "ed25519", "SHANGHAI-EXPORTER", carrier=True),
        platform("IQAX", "p256", "HK-TRADER"),
        platform("SGTD", "rsa", "SG-IMPORTER"),
    ]
    homes = write_platform_homes(
        root, platforms, reference_root=reference, tls=tls, ports=[free_port() for _ in platforms]
    )
    processes = [GatewayProcess(["serve"], h.config, h.home / "serve.log") for h in homes]
    for process in processes:
        process.start()
    try:
        deadline = time.monotonic() + 90
        while not all(p.ready() for p in processes):
            assert all(p.alive for p in processes), [
                p.log_path.read_text()[-2000:] for p in processes
            ]
            assert time.monotonic() < deadline, "gateways did not start"
            time.sleep(0.2)
        yield homes
    finally:
        for process in processes:
            process.terminate()


class Client:
    """Raw PINT calls to a platform, answers verified like a sender verifies them."""

    def __init__(self, home: PlatformHome, platforms: list[DemoPlatform], ca: Path) -> None:
        self.home = home
        self.keys, _ = key_sets(platforms)
        self.ssl = ssl.create_default_context(cafile=str(ca))

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        async with aiohttp.ClientSession() as session:
            data = b"" if body is None else json.dumps(body).encode()
            async with session.request(method, self.home.url + path, data=data, ssl=self.ssl,
                                       headers={"Content-Type": "application/json"}) as response:  # fmt: skip
                return response.status, await response.read()

    def signed(
        self, status_body: tuple[int, bytes], last: str
    ) -> tuple[int, ResponseCode, dict[str, Any]]:
        status, body = status_body
        answer = read_response(
            json.loads(body), self.keys, platform=self.home.platform.code, last_checksum=last
        )
        assert status == answer.code.http_status
        return status, answer.code, answer.payload


async def test_a_to_b_to_c_and_every_refusal(
    cluster: list[PlatformHome], reference: Path, tmp_path: Path
) -> None:
    a, b, c = cluster
    document = transport_document(reference, "LGE2E00001")
    td_file = tmp_path / "td.json"
    td_file.write_text(json.dumps(document))
    invoice = tmp_path / "invoice.pdf"
    invoice.write_bytes(INVOICE)

    issued = lingang(
        a,
        "ebl",
        "issue",
        str(td_file),
        "--to",
        "IQAX:HK-TRADER",
        "--document",
        str(invoice),
        "--json",
    )
    assert issued.returncode == 0, issued.stderr
    wait_for_state(a, "LGE2E00001", "transferred")
    at_b = wait_for_state(b, "LGE2E00001", "held")
    assert at_b["possessor"] == "IQAX:IQAX/HK-TRADER"

    sent = lingang(
        b, "ebl", "transfer", "LGE2E00001", "--to", "SGTD:SG-IMPORTER", "--document", str(invoice)
    )
    assert sent.returncode == 0, sent.stderr
    wait_for_state(b, "LGE2E00001", "transferred")
    at_c = wait_for_state(c, "LGE2E00001", "held")
    assert [e["platform"] for e in at_c["chain"]] == ["AEOT", "IQAX"]
    assert [t["actionCode"] for e in at_c["chain"] for t in e["transactions"]] == [
        "ISSUE",
        "TRANSFER",
    ]
    assert at_c["possessor"] == "SGTD:SGTD/SG-IMPORTER"
    with sqlite3.connect(c.store) as db:
        assert db.execute("SELECT data FROM ebl_documents").fetchall() == [(INVOICE,)]

    again = lingang(a, "ebl", "transfer", "LGE2E00001", "--to", "SGTD:SG-IMPORTER")
    assert again.returncode == 1 and "no control" in again.stderr

    platforms = [h.platform for h in cluster]
    client = Client(c, platforms, c.home.parent / "tls" / "tls-ca.pem")
    before = registry_rows(c)
    with sqlite3.connect(b.store) as db:
        (sent_envelope,) = db.execute("SELECT envelope FROM ebl_outbound").fetchone()
    replay = json.loads(sent_envelope)
    last = jws_checksum(replay["envelopeTransferChain"][-1])
    _, code, payload = client.signed(await client.call("POST", "/v3/envelopes", replay), last)
    assert code is ResponseCode.DUPE
    assert (
        payload["duplicateOfAcceptedEnvelopeTransferChainEntrySignedContent"]
        == replay["envelopeTransferChain"][-1]
    )
    assert payload["receivedAdditionalDocumentChecksums"] == [bytes_checksum(INVOICE)]

    pa, pb, pc = platforms
    stale_chain = [replay["envelopeTransferChain"][0]]
    second = next_entry(pb, document, stale_chain[0], [transfer(pb.party, pc.party)])
    stale = envelope(pb, document, [*stale_chain, second], with_document=False)
    _, code, _ = client.signed(
        await client.call("POST", "/v3/envelopes", stale), jws_checksum(second)
    )
    assert code is ResponseCode.DISE

    tampered = json.loads(sent_envelope)
    head, body, signature = tampered["envelopeManifestSignedContent"].split(".")
    tampered["envelopeManifestSignedContent"] = f"{head}.{body}.{signature[:-6]}AAAAAA"
    _, code, _ = client.signed(await client.call("POST", "/v3/envelopes", tampered), last)
    assert code is ResponseCode.BSIG

    fresh = transport_document(reference, "LGE2E00002")
    first = issue_entry(pa, fresh, pa.party, transfer(pa.party, pc.party))
    with_doc = envelope(pa, fresh, [first])
    fresh_last = jws_checksum(first)
    status, started = await client.call("POST", "/v3/envelopes", with_doc)
    assert status == 201, started
    reference_id = json.loads(started)["envelopeReference"]
    assert json.loads(started)["missingAdditionalDocumentChecksums"] == [
        bytes_checksum(b"%PDF-1.7 commercial invoice")
    ]
    _, code, payload = client.signed(
        await client.call("PUT", f"/v3/envelopes/{reference_id}/finish-transfer"), fresh_last
    )
    assert code is ResponseCode.MDOC
    assert payload["missingAdditionalDocumentChecksums"] == [
        bytes_checksum(b"%PDF-1.7 commercial invoice")
    ]
    wrong = base64.b64encode(b"%PDF-1.7 another invoice").decode()
    path = f"/v3/envelopes/{reference_id}/additional-documents/{bytes_checksum(b'%PDF-1.7 commercial invoice')}"
    _, code, _ = client.signed(await client.call("PUT", path, wrong), fresh_last)
    assert code is ResponseCode.INCD
    assert registry_rows(c) == before

    right = base64.b64encode(b"%PDF-1.7 commercial invoice").decode()
    assert (await client.call("PUT", path, right))[0] == 204
    _, code, payload = client.signed(
        await client.call("PUT", f"/v3/envelopes/{reference_id}/finish-transfer"), fresh_last
    )
    assert code is ResponseCode.RECE
    assert len(registry_rows(c)) == len(before) + 1
    status, body = await client.call(
        "POST", "/v3/receiver-validation", {"codeListProvider": "SGTD", "partyCode": "SG-IMPORTER"}
    )
    assert (status, json.loads(body)) == (200, {"partyName": "SG-IMPORTER Ltd"})
    status, _ = await client.call(
        "POST", "/v3/receiver-validation", {"codeListProvider": "SGTD", "partyCode": "NOBODY"}
    )
    assert status == 404

"""``lingang peppol lookup`` and ``lingang peppol send`` as processes against the loopback
Peppol network (SML over DNS, SMP and AP over TLS)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from adapters.peppol.testing import As4TestReceiver, DnsTestServer, SmpTestServer
from gateway.signing.peppol_pki import PeppolTestPki
from gateway.testing.tls import TlsFiles
from tests.peppol.as4_gateway import INVOICE as AP_INVOICE
from tests.peppol.as4_gateway import GatewayAp
from tests.peppol.conftest import RECEIVER, UNKNOWN, ZONE

INVOICE = (
    "openpeppol-pint-sg-1.4.1/trn-invoice/example/PINT-SG INV example 02 - full valid invoice 1.xml"
)


async def lingang(*args: str, cwd: Path | None = None) -> tuple[int, str, str]:
    env = {**os.environ}
    env.pop("LINGANG_CONFIG", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=cwd,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def peppol_flags(pki: PeppolTestPki, tls: TlsFiles, dns_server: DnsTestServer) -> list[str]:
    return [
        "--key", str(pki.path("ap-sender.key.pem")),
        "--cert", str(pki.path("ap-sender.pem")),
        "--trust", str(pki.path("ap-ca.pem")),
        "--smp-trust", str(pki.path("smp-ca.pem")),
        "--sml-zone", ZONE,
        "--nameserver", dns_server.nameserver,
        "--tls-ca", str(tls.ca),
    ]  # fmt: skip


async def test_lookup_prints_the_endpoint(
    pki: PeppolTestPki,
    tls: TlsFiles,
    dns_server: DnsTestServer,
    smp: SmpTestServer,
    receiver: As4TestReceiver,
) -> None:
    code, out, err = await lingang(
        "peppol", "lookup", RECEIVER.value, "--json", *peppol_flags(pki, tls, dns_server)
    )
    assert code == 0, err
    found = json.loads(out)
    assert found["smp_url"] == smp.url and found["endpoint"]["url"] == receiver.url
    assert "PSG000002" in found["endpoint"]["certificate_subject"]
    code, out, err = await lingang(
        "peppol", "lookup", UNKNOWN.value, *peppol_flags(pki, tls, dns_server)
    )
    assert code == 1 and "peppol-not-registered (final)" in err
    bis3 = (
        "busdox-docid-qns::urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice"
        "##urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1"
    )
    code, out, err = await lingang(
        "peppol", "lookup", RECEIVER.value, "--doctype", bis3,
        "--process", "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0", *peppol_flags(pki, tls, dns_server),
    )  # fmt: skip
    assert code == 1 and "peppol-doctype-unsupported (final)" in err
    code, out, err = await lingang(
        "peppol", "lookup", "not-an-id", *peppol_flags(pki, tls, dns_server)
    )
    assert code == 2 and "ICD:VALUE" in err
    dns_server.down = True
    code, out, err = await lingang(
        "peppol", "lookup", RECEIVER.value, *peppol_flags(pki, tls, dns_server)
    )
    assert code == 3 and "peppol-dns (retry later)" in err


async def test_lookup_reads_relative_paths_from_the_current_folder(
    pki: PeppolTestPki,
    tls: TlsFiles,
    dns_server: DnsTestServer,
    smp: SmpTestServer,
    receiver: As4TestReceiver,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As the README writes it (``--key pki/ap-sender.key.pem`` after ``lingang keys test-pki
    --peppol pki/``): a relative path on the command line is from where the user types it,
    not from the data home, where a configuration table's relative paths are read."""
    folder = pki.path("ap-sender.pem").parent
    home = tmp_path / "home"
    home.mkdir()
    flags = [
        "--key", "ap-sender.key.pem", "--cert", "ap-sender.pem", "--trust", "ap-ca.pem",
        "--smp-trust", "smp-ca.pem", "--sml-zone", ZONE, "--nameserver", dns_server.nameserver,
        "--tls-ca", str(tls.ca),
    ]  # fmt: skip
    monkeypatch.setenv("LINGANG_HOME", str(home))
    code, out, err = await lingang("peppol", "lookup", RECEIVER.value, *flags, cwd=folder)
    assert code == 0, err
    assert "PSG000002" in out


async def test_send_through_discovery_prints_the_report(
    reference: Path,
    artefacts_home: Path,
    pki: PeppolTestPki,
    tls: TlsFiles,
    dns_server: DnsTestServer,
    receiver: As4TestReceiver,
    tmp_path: Path,
) -> None:
    report_path = tmp_path / "report.json"
    code, out, err = await lingang(
        "peppol", "send", str(reference / INVOICE), "--receiver", RECEIVER.value, "--json",
        "--report", str(report_path), *peppol_flags(pki, tls, dns_server),
    )  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    assert report == json.loads(report_path.read_text())
    assert report["outcome"] == "delivered" and report["receipt"]["verified"]
    assert report["lookup"]["source"] == "smp" and report["timings"]["total"] > 0
    assert list(receiver.received) == [report["message_id"]]


async def test_send_to_a_given_endpoint(
    reference: Path,
    artefacts_home: Path,
    pki: PeppolTestPki,
    tls: TlsFiles,
    dns_server: DnsTestServer,
    receiver: As4TestReceiver,
) -> None:
    flags = peppol_flags(pki, tls, dns_server)
    code, out, err = await lingang(
        "peppol", "send", str(reference / INVOICE), "--receiver", RECEIVER.value, "--endpoint", receiver.url,
        "--receiver-cert", str(pki.path("ap-receiver.pem")), "--message-id", "cli-1@lingang", *flags,
    )  # fmt: skip
    assert code == 0, err
    assert "delivered cli-1@lingang" in out and "(verified)" in out
    code, out, err = await lingang(
        "peppol", "send", str(reference / INVOICE), "--receiver", RECEIVER.value, "--endpoint", receiver.url,
        "--receiver-cert", str(pki.path("ap-rogue.pem")), *flags,
    )  # fmt: skip
    assert code == 1 and "not from a trusted CA" in err
    receiver.fault = "not-serviced"
    code, out, err = await lingang(
        "peppol", "send", str(reference / INVOICE), "--receiver", RECEIVER.value, "--endpoint", receiver.url,
        "--receiver-cert", str(pki.path("ap-receiver.pem")), *flags,
    )  # fmt: skip
    assert code == 1 and "EBMS:0004 (final)" in err


async def test_send_refuses_a_receiver_that_is_not_the_documents_buyer(
    reference: Path,
    pki: PeppolTestPki,
    tls: TlsFiles,
    dns_server: DnsTestServer,
    receiver: As4TestReceiver,
) -> None:
    """``--receiver`` must be the invoice's buyer (its SBDH Receiver, PINT's enveloping
    rule): another one is a final error before anything is looked up or sent."""
    code, out, err = await lingang(
        "peppol", "send", str(reference / INVOICE), "--receiver", UNKNOWN.value, "--json",
        "--no-validate", *peppol_flags(pki, tls, dns_server),
    )  # fmt: skip
    assert code == 1, err
    report = json.loads(out)
    assert report["error"]["rule"] == "peppol.sbdh.receiver-endpoint" and not report["lookup"]
    assert "cac:AccountingCustomerParty" in report["error"]["field"]
    assert receiver.deliveries == 0


@pytest.mark.parametrize(
    ("extra", "code", "text"),
    [
        (["--receiver", "SGUEN1"], 2, "ICD:VALUE"),
        (["--receiver", "0195:SGUEN1", "--endpoint", "https://x"], 2, "go together"),
    ],
)
async def test_send_usage_errors(
    reference: Path, pki: PeppolTestPki, tls: TlsFiles, extra: list[str], code: int, text: str
) -> None:
    dns = DnsTestServer()
    got, _out, err = await lingang(
        "peppol", "send", str(reference / INVOICE), *extra, *peppol_flags(pki, tls, dns)
    )
    assert got == code and text in err


async def test_send_refuses_what_is_not_a_document(
    pki: PeppolTestPki, tls: TlsFiles, tmp_path: Path
) -> None:
    junk = tmp_path / "junk.xml"
    junk.write_bytes(b"<not-an-invoice/>")
    code, _out, err = await lingang(
        "peppol",
        "send",
        str(junk),
        "--receiver",
        RECEIVER.value,
        *peppol_flags(pki, tls, DnsTestServer()),
    )
    assert code == 1 and "--partners" in err


async def test_send_a_fapiao_converts_and_validates_it_first(
    artefacts_home: Path,
    pki: PeppolTestPki,
    tls: TlsFiles,
    dns_server: DnsTestServer,
    smp: SmpTestServer,
    receiver: As4TestReceiver,
) -> None:
    from adapters.peppol.identifiers import PINT_PROCESS, PINT_SG_INVOICE, ParticipantId
    from adapters.peppol.sbdh import parse_sbdh
    from adapters.peppol.testing import SmpEntry
    from tests.service.test_real_flow import PARTNERS, SAMPLES

    buyer = ParticipantId("0195:SGUEN199912345A")
    smp.register(buyer, SmpEntry(PINT_SG_INVOICE, PINT_PROCESS, receiver.url, pki.receiver.cert))
    dns_server.register(buyer, smp.url)
    code, out, err = await lingang(
        "peppol", "send", str(SAMPLES / "exempt-services.xml"), "--receiver", buyer.value,
        "--partners", str(PARTNERS), "--json", *peppol_flags(pki, tls, dns_server),
    )  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    assert report["sbdh"]["document_type"] == PINT_SG_INVOICE.uri()
    received = parse_sbdh(receiver.received[report["message_id"]])
    assert (
        received.header.receiver == buyer
        and received.payload.count(b"urn:peppol:pint:billing-1@sg-1") == 1
    )


@pytest.mark.parametrize(
    ("fault", "code", "outcome"),
    [("not-serviced", 1, "failed"), ("smp-down", 3, "retry")],
)
async def test_a_failed_send_prints_its_whole_report(
    reference: Path,
    artefacts_home: Path,
    pki: PeppolTestPki,
    tls: TlsFiles,
    dns_server: DnsTestServer,
    smp: SmpTestServer,
    receiver: As4TestReceiver,
    fault: str,
    code: int,
    outcome: str,
) -> None:
    """``--json`` prints the report of a failed send too: lookup, timings, the ebMS answer
    or the discovery failure, and the typed error saying whether a retry can help."""
    if fault == "smp-down":
        smp.fault = "down"
    else:
        receiver.fault = fault
    got, out, err = await lingang(
        "peppol", "send", str(reference / INVOICE), "--receiver", RECEIVER.value, "--json",
        *peppol_flags(pki, tls, dns_server),
    )  # fmt: skip
    assert got == code, err
    report = json.loads(out)
    assert report["outcome"] == outcome and report["lookup"]["participant"] == RECEIVER.value
    assert report["error"]["retryable"] is (outcome == "retry") and report["timings"]["total"] > 0
    if fault == "smp-down":
        assert report["error"]["rule"] == "peppol-smp-unavailable" and report["lookup"]["error"]
        assert receiver.deliveries == 0
    else:
        (ebms,) = report["receipt"]["errors"]
        assert ebms["code"] == "EBMS:0004" and "PEPPOL:NOT_SERVICED" in ebms["detail"]
        assert {"lookup", "build", "exchange"} <= set(report["timings"])


async def test_send_bis3_cii_a_converted_fapiao_and_a_cii_file(
    artefacts_home: Path,
    pki: PeppolTestPki,
    tls: TlsFiles,
    dns_server: DnsTestServer,
    smp: SmpTestServer,
    receiver: As4TestReceiver,
    tmp_path: Path,
) -> None:
    """``--to bis3-cii`` converts a fapiao to Peppol BIS 3 CII, validates and sends it under
    the BIS 3 CII document type; a BIS 3 CII file is sent as it is; a plain EN 16931 CII
    invoice, which Peppol has no document type for, is refused before anything is sent."""
    from adapters.peppol.identifiers import BIS3_CII_INVOICE, BIS3_PROCESS, ParticipantId
    from adapters.peppol.sbdh import parse_sbdh
    from adapters.peppol.testing import SmpEntry
    from gateway.convert import convert
    from gateway.partners import PartnerDirectory
    from tests.service.test_real_flow import PARTNERS, SAMPLES

    buyer = ParticipantId("0195:SGUEN199912345A")
    smp.register(buyer, SmpEntry(BIS3_CII_INVOICE, BIS3_PROCESS, receiver.url, pki.receiver.cert))
    dns_server.register(buyer, smp.url)
    flags = peppol_flags(pki, tls, dns_server)
    code, out, err = await lingang(
        "peppol", "send", str(SAMPLES / "exempt-services.xml"), "--receiver", buyer.value,
        "--partners", str(PARTNERS), "--to", "bis3-cii", "--json", *flags,
    )  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    assert report["sbdh"]["document_type"] == BIS3_CII_INVOICE.uri()
    assert report["sbdh"]["sender"] == "0199:5493001KJTIIGC8Y1S09"
    received = parse_sbdh(receiver.received[report["message_id"]])
    assert received.header.type_version == "D16B"
    assert received.header.type_name == "CrossIndustryInvoice"
    cii = tmp_path / "invoice-cii.xml"
    cii.write_bytes(received.payload)
    code, out, err = await lingang(
        "peppol", "send", str(cii), "--receiver", buyer.value, "--json", *flags
    )
    assert code == 0, err
    again = json.loads(out)
    assert again["sbdh"]["document_type"] == BIS3_CII_INVOICE.uri()
    assert again["message_id"] in receiver.received
    plain = tmp_path / "invoice-en16931-cii.xml"
    fapiao = (SAMPLES / "exempt-services.xml").read_bytes()
    plain.write_bytes(convert(fapiao, "cii", PartnerDirectory.load(PARTNERS)).xml)
    deliveries = receiver.deliveries
    code, out, err = await lingang(
        "peppol", "send", str(plain), "--receiver", buyer.value, "--no-validate", *flags
    )
    assert code == 1 and "not Peppol BIS 3 CII" in err
    assert receiver.deliveries == deliveries


async def test_lookup_does_not_trust_the_ap_ca_for_smp_answers(pki: PeppolTestPki) -> None:
    """``--trust`` (the AP CA) alone does not become the SMP trust: an AP certificate must not be
    accepted as the signer of SMP answers, so the SMP CA is required (``--smp-trust`` or
    ``smp_trust`` in the configuration)."""
    code, out, err = await lingang(
        "peppol", "lookup", RECEIVER.value,
        "--key", str(pki.path("ap-sender.key.pem")),
        "--cert", str(pki.path("ap-sender.pem")),
        "--trust", str(pki.path("ap-ca.pem")),
        "--nameserver", "127.0.0.1:9",
    )  # fmt: skip
    assert code == 2 and "smp_trust" in err, (code, out, err)


class AnswerLosingProxy:
    """An HTTPS proxy on 127.0.0.1 in front of an AP that, for its first request, hands the
    request on, waits for the AP's whole answer (the AP stored the message) and drops the
    connection instead of answering: the sender never hears so."""

    def __init__(self, target: str, tls: TlsFiles) -> None:
        self.target = target
        self.tls = tls
        self.requests = 0
        self.runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        body = await request.read()
        connector = aiohttp.TCPConnector(ssl=self.tls.client_context())
        async with (
            aiohttp.ClientSession(connector=connector) as session,
            session.post(self.target, data=body, headers=dict(request.headers)) as answer,
        ):
            data = await answer.read()
            if self.requests == 1:
                assert request.transport is not None
                request.transport.abort()
                return web.Response(status=500)
            return web.Response(status=answer.status, body=data, headers=answer.headers)

    async def __aenter__(self) -> str:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/as4", self._handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(
            self.runner,
            "127.0.0.1",
            0,
            ssl_context=self.tls.server_context(require_client_cert=False),
        )
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"https://127.0.0.1:{port}/as4"

    async def __aexit__(self, *exc: object) -> None:
        assert self.runner is not None
        await self.runner.cleanup()


async def test_a_send_retried_with_its_message_id_after_a_lost_answer_is_delivered_once(
    reference: Path,
    pki: PeppolTestPki,
    tls: TlsFiles,
    dns_server: DnsTestServer,
    ap: GatewayAp,
    tmp_path: Path,
) -> None:
    """``exit 3: retry later with --message-id``: the AP stored the first try, whose answer was
    lost; the retry sends the same message again (kept under the data folder), and the AP's
    original receipt for it verifies (a rebuilt message would sign other digests)."""
    config = tmp_path / "lingang.toml"
    config.write_text(f'data_dir = "{tmp_path / "home"}"\n', "utf-8")
    flags = [*peppol_flags(pki, tls, dns_server), "--config", str(config), "--no-validate"]
    async with AnswerLosingProxy(ap.url, tls) as url:
        send = (
            "peppol", "send", str(reference / AP_INVOICE), "--receiver", RECEIVER.value,
            "--endpoint", url, "--receiver-cert", str(pki.path("ap-receiver.pem")),
            "--message-id", "cli-lost-answer@lingang", *flags,
        )  # fmt: skip
        code, out, err = await lingang(*send)
        assert code == 3, (out, err)
        code, out, err = await lingang(*send)
    assert code == 0, err
    assert "delivered cli-lost-answer@lingang" in out and "(verified)" in out
    (stored,) = await ap.services.store.list_inbound()
    assert stored.message_id == "cli-lost-answer@lingang"
    assert not list((tmp_path / "home" / "peppol" / "built").glob("*"))  # forgotten once receipted

"""Readable pages of every document kind besides invoices: eBLs (parties, cargo, equipment
with seals, the title chain from an envelope or from the eBL registry, the TradeTrust title
token with its history from the title-token registry, both on both stores), Peppol
MLS (status and reason codes with their meaning, the referenced message) and TSR / EUSR
reports; hostile text is escaped; the eBL flow's ``html`` output is the same renderer's page;
``lingang render`` renders each kind."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.api.readable import render_source
from gateway.flows import EBL_OUT, Source, Tools
from gateway.pint.build import chain_entry, transaction
from gateway.pint.checksums import document_checksum
from gateway.pint.codes import ActionCode
from gateway.read.dcsa import read_dcsa
from gateway.readable import RenderSource, registered_kinds, render_html, renderer_for
from gateway.render.tradetrust_oa import LOCAL_ISSUER, render_tradetrust_raw
from gateway.render.ubl_bill_of_lading import render_bill_of_lading
from gateway.signing.openattestation import wrap_document
from gateway.store import open_store
from gateway.store.ebl import EblRegistry
from gateway.store.title_tokens import StoredTokenRegistry
from gateway.testing.pint import issue_and_transfer, platform, transport_document
from gateway.validation import Validator
from tests.readable.page_text import page_text

DCSA = Path("ebl/dcsa/examples")
TD = "EBL_v3.0.3.transport-document.GET.200.reefer.json"
DG = "EBL_v3.0.3.transport-document.GET.200.dangerous-goods.json"
ENVELOPE = "EBL_PINT_v3.0.0.pint-envelope.POST.request.regular.json"
MLS = Path("openpeppol-mls-1.1.0/trn-mls/example")
REPORTS = Path("phax-peppol-reporting/testfiles")
HOSTILE = "<script>alert(1)</script>"


def _example(reference: Path, name: str) -> bytes:
    return (reference / DCSA / name).read_bytes()


def test_every_kind_is_registered() -> None:
    assert set(registered_kinds()) >= {"ebl", "invoice", "mls", "peppol-report"}


@pytest.mark.parametrize(
    "name",
    [
        TD,
        DG,
        ENVELOPE,
        "EBL_v3.0.3.transport-document.GET.200.regular.json",
        "EBL_v3.0.3.shipping-instructions.POST.request.regular.json",
        "EBL_v3.0.3.transport-document-notification.issued.full-state.json",
        "EBL_ISS_v3.0.3.ebl-issuance-request.PUT.request.regular.json",
    ],
)
def test_every_dcsa_ebl_renders(reference: Path, name: str) -> None:
    data = _example(reference, name)
    source = RenderSource(data=data)
    assert renderer_for(source).kind == "ebl"
    page = render_html(source)
    for label in ("托运人 / Shipper", "货物 / Cargo", "集装箱 / Equipment", "铅封 / Seals"):
        assert label in page_text(page), label
    assert "权利转让链 / Title chain" in page_text(page) and "<script" not in page


def test_an_ebl_shows_parties_cargo_equipment_and_seals(reference: Path) -> None:
    raw = json.loads(_example(reference, TD))
    page = render_html(RenderSource(data=_example(reference, TD)))
    equipment = raw["utilizedTransportEquipments"][0]
    assert equipment["equipment"]["equipmentReference"] in page
    for seal in equipment["seals"]:
        assert seal["number"] in page
    assert raw["documentParties"]["shipper"]["partyName"] in page
    assert raw["transportDocumentReference"] in page
    item = raw["consignmentItems"][0]
    assert item["descriptionOfGoods"][0] in page
    assert "无权利转让记录 / No title transfer recorded" in page_text(page)


def test_a_ubl_bill_of_lading_renders_as_an_ebl(reference: Path) -> None:
    raw = json.loads(_example(reference, TD))
    ubl = render_bill_of_lading(read_dcsa(raw).document).xml
    source = RenderSource(data=ubl)
    assert renderer_for(source).kind == "ebl"
    page = render_html(source)
    assert raw["transportDocumentReference"] in page and "输入格式 / Input format" in page_text(
        page
    )
    assert "BillOfLading" in page
    for seal in raw["utilizedTransportEquipments"][0]["seals"]:
        assert seal["number"] in page


def test_an_envelope_shows_its_own_chain_said_unverified(reference: Path) -> None:
    envelope = json.loads(_example(reference, ENVELOPE))
    page = render_html(RenderSource(data=_example(reference, ENVELOPE)))
    assert "signatures not verified here" in page
    assert len(envelope["envelopeTransferChain"]) >= 1
    assert "<code>TRNS</code>" in page and "IKEA Denmark" in page and "CVR (DK): 33991282" in page


def test_ebl_text_is_escaped(reference: Path) -> None:
    raw = json.loads(_example(reference, TD))
    raw["documentParties"]["shipper"]["partyName"] = HOSTILE
    raw["consignmentItems"][0]["descriptionOfGoods"] = [f"<img src=x onerror=alert(2)>{HOSTILE}"]
    raw["utilizedTransportEquipments"][0]["seals"][0]["number"] = "<b>S1</b>"
    carrier = platform("WAVE", "p256", "<i>x</i>", carrier=True)
    actor = carrier.party
    entry = chain_entry(
        carrier.signer,
        "WAVE",
        document_checksum(raw),
        [transaction(ActionCode.ISSUE, actor, actor, comments=HOSTILE)],
    )
    page = render_html(
        RenderSource(data=json.dumps(raw).encode(), title_chain=[entry, "not.a.jws"])
    )
    assert "<script" not in page and "<img" not in page and "<b>S1" not in page
    assert "<i>x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;S1&lt;/b&gt;" in page
    assert "无法读取的条目 / Unreadable entry" in page_text(page)


def test_the_ebl_flow_keeps_the_same_page(artefacts_home: Path, reference: Path) -> None:
    data = _example(reference, DG)
    outcome = EBL_OUT.run(
        Source(data, metadata={"targets": "dcsa"}), Tools(Validator(artefacts_home))
    )
    html = outcome.output("html")
    assert outcome.ok and html is not None
    page = html.data.decode()
    assert page == render_html(RenderSource(data=data, kind="ebl"))
    assert "提单 / Bill of lading" in page_text(page) and "危险品 / Dangerous goods" in page_text(
        page
    )


async def test_the_registry_chain_and_title_token_are_shown_on_both_stores(
    reference: Path, store_url: str
) -> None:
    document = transport_document(reference, "LGCHAIN01")
    store = await open_store(store_url)
    try:
        tenant = await store.create_tenant("carrier")
        await EblRegistry.of(store).issue(issue_and_transfer(document))
        submission, _ = await store.create_submission(
            tenant.id,
            json.dumps(document).encode(),
            content_type="application/json",
            metadata={"kind": "ebl"},
        )
        await store.record_event(
            submission.id,
            "converted",
            detail={"document_number": "LGCHAIN01", "bill_kind": "to-order"},
        )
        wrapped = wrap_document(
            render_tradetrust_raw(read_dcsa(document).document, LOCAL_ISSUER).data
        )
        await store.put_output(
            submission.id, "tradetrust-oa", "application/json", json.dumps(wrapped).encode()
        )
        tokens = StoredTokenRegistry(store.connector, store.clock, LOCAL_ISSUER.token_registry)
        root = wrapped["signature"]["merkleRoot"]
        await tokens.mint(root, "SHIPPER-1", "SHIPPER-1", remark="<b>issued</b>")
        await tokens.transfer_holder(root, "SHIPPER-1", "FORWARDER-9")
        source = await render_source(store, submission, registry=lambda _record: True)
        hidden = await render_source(store, submission)
    finally:
        await store.close()
    # only a tenant operating the eBL platform sees its registry: anyone can upload a
    # document naming another's reference
    assert hidden.title_chain == [] and "possessor" not in hidden.facts
    assert "BUYER-1 Ltd" not in render_html(hidden)
    assert source.kind == "ebl" and len(source.title_chain) == 2
    page = render_html(source)
    assert "本平台 eBL 登记簿" in page and "signatures verified when accepted" in page
    assert "<code>ISSUE</code>" in page and "<code>TRANSFER</code>" in page
    assert "BUYER-1 Ltd" in page and "transferred" in page
    assert source.title_token is not None and len(source.token_history) == 2
    assert "TradeTrust 权利凭证 / TradeTrust title token" in page_text(page)
    assert "<code>transfer-holder</code>" in page and "FORWARDER-9" in page
    assert "&lt;b&gt;issued&lt;/b&gt;" in page


@pytest.mark.parametrize("code", ["AP", "AB", "RE"])
def test_mls_shows_status_reasons_and_the_referenced_message(reference: Path, code: str) -> None:
    data = (reference / MLS / f"MessageLevelStatus_Example_{code}.xml").read_bytes()
    source = RenderSource(data=data)
    assert renderer_for(source).kind == "mls"
    page = render_html(source)
    meanings = {"AP": "Accepted", "AB": "Acknowledged", "RE": "Rejected"}
    assert f"<code>{code}</code>" in page and meanings[code] in page
    assert "所指报文 (SBDH InstanceIdentifier)" in page
    if code == "RE":
        assert "Business rule violation (fatal)" in page


def test_mls_text_is_escaped(reference: Path) -> None:
    data = (reference / MLS / "MessageLevelStatus_Example_RE.xml").read_text("utf-8")
    hostile = data.replace(
        "Rejected due to validation errors", "&lt;script&gt;alert(1)&lt;/script&gt;", 1
    )
    assert hostile != data
    page = render_html(RenderSource(data=hostile.encode()))
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.parametrize("kind", ["tsr", "eusr"])
def test_peppol_reports_render_as_a_table(reference: Path, kind: str) -> None:
    for path in sorted((reference / REPORTS / kind / "good").glob("*.xml")):
        source = RenderSource(data=path.read_bytes())
        assert renderer_for(source).kind == "peppol-report", path.name
        page = render_html(source)
        title = "交易统计报告 (TSR)" if kind == "tsr" else "终端用户统计报告 (EUSR)"
        assert title in page and "总计 / Total" in page_text(page), path.name
        assert "<script" not in page


def test_lingang_render_renders_each_kind(reference: Path, tmp_path: Path) -> None:
    files = {
        "ebl": reference / DCSA / ENVELOPE,
        "mls": reference / MLS / "MessageLevelStatus_Example_AB.xml",
        "report": next(iter(sorted((reference / REPORTS / "tsr" / "good").glob("*.xml")))),
    }
    for name, path in files.items():
        out = tmp_path / f"{name}.html"
        done = subprocess.run(
            [sys.executable, "-m", "gateway", "render", str(path), "-o", str(out)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert "<!DOCTYPE html>" in out.read_text("utf-8")

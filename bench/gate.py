"""The export gate's cost: per-document time with the gate on and off, measured in one run.

    .venv/bin/python -m bench.gate [--docs 60] [--rounds 3] [--no-validate] [--no-sign]

Per document, in one process, what a worker does for an outbound invoice: store the
submission with its process job, claim it, run the stage table (parse, map, [policy],
render, full validation with the official artefacts, XAdES signing), and record the result
in one transaction. **Off**: the table without the ``policy`` stage, finished with
``Store.finish_processing``. **On**: the production table, finished through the export
ledger (``LedgerStore.finish_export``: yearly counts, hash-chained entry, delivery job).
The documents: the bundled samples plus a personal buyer's and a contact person's invoice
(counted individuals). After a warm-up, each round runs every document off and on in turn (alternating which goes
first); per round the median per-document time of each mode; printed: the median of the
rounds, their spread, the policy stage's own time, the recording transaction's extra time,
and the gate's added share.
No HTTP or delivery (the same in both, so left out: the share is of what remains).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from gateway.cli.demo import DEMO_DIRECTORY, default_samples
from gateway.flows import INVOICE_OUT, Flow, InvoiceOut, Source, ToolsSpec, load_tools
from gateway.jobs.gate import ExportGate
from gateway.settings import Settings, data_home
from gateway.store import JobSpec, OutputSpec, StateChange
from gateway.store.ledger import LedgerStore
from gateway.store.sqlite import SqliteStore

NO_GATE: Flow[InvoiceOut] = Flow(
    name="invoice-out-no-gate",
    direction="out",
    state_type=InvoiceOut,
    stages=tuple(s for s in INVOICE_OUT.stages if s.name != "policy"),
)


ZERO_RATE = Path(__file__).resolve().parents[1] / "gateway" / "samples" / "export-zero-rate.xml"
LION_CITY = "<BuyerName>Lion City Trading Pte. Ltd.</BuyerName>"
PERSON = "张三（个人）"
PERSON_ID = "110101199003071233"
"""A fictitious ID-card number with a valid check digit."""


def bodies() -> list[bytes]:
    """The bundled samples, a personal buyer's invoice and one naming a contact person."""
    found = [p.read_bytes() for p in default_samples()]
    text = ZERO_RATE.read_text(encoding="utf-8")
    personal = text.replace(LION_CITY, f"<BuyerName>{PERSON}</BuyerName>").replace(
        "<BuyerIdNum></BuyerIdNum>", f"<BuyerIdNum>{PERSON_ID}</BuyerIdNum>"
    )
    contact = text.replace(
        "<BuyerTelNum>", "<BuyerHandlingName>Tan Mei Ling</BuyerHandlingName><BuyerTelNum>"
    )
    return [*found, personal.encode(), contact.encode()]


PERSON_PARTNER = f"""
[[partners]]
buyer_name = "{PERSON}"
endpoint = "0088:4035811991021"
country = "HK"
city = "Hong Kong"
"""


async def run(args: argparse.Namespace, folder: Path) -> dict[str, list[float]]:
    partners = folder / "partners.toml"
    partners.write_text(DEMO_DIRECTORY + PERSON_PARTNER, encoding="utf-8")
    keys = folder / "pki"
    signing: dict[str, object] = {}
    if not args.no_sign:
        from gateway.signing.testpki import make_test_pki

        make_test_pki(keys)
        signing = {
            "signing_key": keys / "signer-ec.key.pem",
            "signing_cert": keys / "signer-ec.pem",
            "signing_chain": (keys / "chain.pem",),
        }
    tools = load_tools(
        ToolsSpec(
            artefacts_dir=None if args.no_validate else data_home(),
            engine=Settings.load().validation,
            partners_file=partners,
            subject_key_file=folder / "subject.key",
            **signing,  # type: ignore[arg-type]
        ),
        compile_rules=False,
    )
    store = await SqliteStore.open(f"sqlite:///{folder}/bench.db")
    await store.migrate()
    await store.create_tenant("T", tenant_id="t")
    ledger = LedgerStore(store.connector, clock=store.clock)
    gate = ExportGate(ledger)
    docs = bodies()

    async def one(body: bytes, gated: bool) -> dict[str, float]:
        """Process one document; milliseconds in total, in the policy stage and in the
        recording transaction."""
        started = time.perf_counter()
        sub, _ = await store.create_submission(
            "t", body, content_type="application/xml", enqueue=JobSpec("process")
        )
        (job,) = await store.claim_jobs("w", limit=1)
        flow = INVOICE_OUT if gated else NO_GATE
        outcome = flow.run(Source(body, "application/xml", document_id=sub.id), tools)
        assert outcome.ok, outcome.error
        outputs = [OutputSpec(o.kind, o.media_type, o.data) for o in outcome.outputs]
        deliver = JobSpec("deliver", "folder", "out", payload_ref="signed")
        recording = time.perf_counter()
        if gated:
            await gate.finish(job, "w", sub, outcome, outputs, deliver, "processed", {})
        else:
            event = StateChange("queued", "processed", {"stages": outcome.timings})
            await store.finish_processing(
                job.id, "w", outputs=outputs, event=event, enqueue=deliver
            )
        done = time.perf_counter()
        stage = sum(t["ms"] for t in outcome.timings if t["stage"] == "policy")
        return {
            "total": (done - started) * 1000,
            "stages": sum(t["ms"] for t in outcome.timings) - stage,
            "policy": stage,
            "record": (done - recording) * 1000,
        }

    for n in range(max(args.warm, len(docs))):
        await one(docs[n % len(docs)], n % 2 == 0)
    results: dict[str, list[dict[str, float]]] = {"off": [], "on": []}
    for _ in range(args.rounds):
        times: dict[str, list[dict[str, float]]] = {"off": [], "on": []}
        for n in range(args.docs):  # off and on alternate document by document
            body = docs[n % len(docs)]
            first, second = ("off", "on") if n % 2 == 0 else ("on", "off")
            times[first].append(await one(body, first == "on"))
            times[second].append(await one(body, second == "on"))
        for mode, found in times.items():
            results[mode].append(
                {key: statistics.median(t[key] for t in found) for key in found[0]}
            )
    entries, head, marks = await ledger.chain_state()
    from gateway.store.ledger_chain import verify_chain

    assert verify_chain(entries, head, marks).ok
    await store.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.gate", description=__doc__)
    parser.add_argument("--docs", type=int, default=60, help="documents per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warm", type=int, default=40, help="untimed documents first")
    parser.add_argument("--no-validate", action="store_true")
    parser.add_argument("--no-sign", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="lingang-bench-gate-") as tmp:
        results = asyncio.run(run(args, Path(tmp)))

    def median(mode: str, key: str) -> float:
        return statistics.median(r[key] for r in results[mode])

    for mode in ("off", "on"):
        totals = [r["total"] for r in results[mode]]
        print(f"gate {mode:3}: median {median(mode, 'total'):8.3f} ms/doc  "
              f"spread {max(totals) - min(totals):6.3f} ms over {len(totals)} rounds "
              f"{[round(t, 3) for t in totals]}  other stages {median(mode, 'stages'):6.3f} ms  "
              f"recording {median(mode, 'record'):6.3f} ms")  # fmt: skip
    off, on = median("off", "total"), median("on", "total")
    print(f"policy stage {median('on', 'policy'):.3f} ms/doc; recording through the ledger "
          f"{median('on', 'record') - median('off', 'record'):+.3f} ms/doc")  # fmt: skip
    own = median("on", "policy") + median("on", "record") - median("off", "record")
    print(
        f"gate adds {on - off:+.3f} ms/doc = {(on - off) / off:+.1%} end to end; its own "
        f"time (stage + extra recording) {own:+.3f} ms = {own / off:+.1%} (goal < 10%)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

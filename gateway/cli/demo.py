"""``lingang demo``: the whole flow on one machine, with real sockets on 127.0.0.1.

1. reads the sample fapiao (XML, OFD, platform JSON) and shows what the parser finds;
2. makes a temporary data directory with an SQLite store, a test PKI (XAdES signing key), a
   throw-away TLS PKI and a Peppol-like test PKI (access points and SMP);
3. starts the counterparts: a loopback Peppol network (an SML answering DNS U-NAPTR, an SMP
   serving signed metadata over HTTPS, a receiving AS4 access point) in which the partner
   directory's Singapore buyers (scheme 0195) are registered, and a local HTTPS receiving
   endpoint (the "Hong Kong counterpart") that checks the client certificate and the detached
   body signature and answers with a receipt;
4. creates a tenant with a submitting API key and a compliance officer's key, and starts the
   gateway (HTTP API + workers) with a ``peppol`` adapter (AS4, found through the
   loopback SML and SMP only: the machine's own DNS is never asked) for the 0195 buyers and an
   ``https`` adapter to the Hong Kong counterpart for everyone else;
5. uploads the partner directory and submits every sample
   through the HTTP API (with an Idempotency-Key, then once more to show the replay);
6. follows each document to ``delivered`` and prints its history, stage timings and receipt;
   for a Peppol delivery also the SMP lookup (endpoint, transport profile), the AS4 MessageId,
   the verified signed receipt and what the receiving access point got (the SBDH's document
   type and process; the payload byte for byte the one validated, checked again with the
   official rules).

Exit code 0 when every document was delivered exactly once on its route (``peppol`` for a
receiver registered in the loopback network, ``hk`` otherwise); a document still under way
after ``--timeout`` is named. The official
artefacts must be installed in the data directory (``$LINGANG_HOME``, or ``[pipeline]
artefacts`` of ``$LINGANG_CONFIG``; ``lingang artefacts import ../shared/reference``, as
``deploy/demo.sh`` does).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import shutil
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from gateway.cli._demo_peppol import (
    PEPPOL_ADAPTER,
    PeppolLeg,
    PeppolNetwork,
    common_name,
    peppol_leg,
)
from gateway.cli._runtime import configure_logging
from gateway.errors import LingangError
from gateway.service import Services, open_services
from gateway.settings import (
    AdapterConfig,
    EngineOptions,
    PipelineSettings,
    Routing,
    ServerSettings,
    Settings,
    SigningSettings,
    WorkerSettings,
    default_stage_processes,
)
from gateway.store import open_store
from gateway.store.records import OFFICER
from gateway.testing.receiver import Receiver
from gateway.testing.tls import make_tls

REPO = Path(__file__).resolve().parents[2]

DEMO_DIRECTORY = """\
# The demo tenant's partner directory: the buyers of the sample fapiao and the exporters'
# Peppol identities. Endpoints are syntactically valid examples, not participants of the real
# Peppol network; the demo registers the 0195 (Singapore) ones in its loopback SML and SMP.

[[partners]]
buyer_name = "xxxxxx有限责任公司"
endpoint = "0195:SGUEN200212345Z"
country = "SG"
street = "1 Harbourfront Avenue"
city = "Singapore"
postcode = "098632"
profile = "pint-sg"

[[partners]]
buyer_name = "示例商贸有限公司"
endpoint = "0088:4035811991021"
country = "HK"
street = "1 Queen's Road Central"
city = "Hong Kong"
profile = "pint"

[[partners]]
buyer_name = "购买方名称"
endpoint = "0195:SGUEN201912345K"
country = "SG"
city = "Singapore"
profile = "bis3"
currency = "USD"
exchange_rate = "7.1012"

[[exporters]]
seller_id = "91320000000000000X"
endpoint = "0199:5493001KJTIIGC8Y1R12"
street = "示例市示例区示例路100号"
city = "Nanjing"
postcode = "210000"

[[exporters]]
seller_id = "91440000000000000X"
endpoint = "0088:4035811991014"
city = "Guangzhou"

[[exporters]]
seller_id = "销售方纳税人识别号"
endpoint = "0060:123456789"

# The buyers and exporters of the project's own samples (gateway/samples).

[[partners]]
buyer_name = "Lion City Trading Pte. Ltd."
endpoint = "0195:SGUEN201612345D"
country = "SG"
street = "8 Marina View, #20-01"
city = "Singapore"
postcode = "018960"
profile = "pint-sg"

[[partners]]
buyer_name = "Harbour Gate Logistics Limited"
endpoint = "0088:4035811991038"
country = "HK"
street = "25 Harbour Road, Wan Chai"
city = "Hong Kong"
profile = "pint"

[[partners]]
buyer_name = "Merlion Research Institute Ltd."
endpoint = "0195:SGUEN199912345A"
country = "SG"
street = "1 Fusionopolis Way, #08-10"
city = "Singapore"
postcode = "138632"
profile = "pint-sg"

[[partners]]
buyer_name = "Straits Marine Supplies Pte. Ltd."
endpoint = "0195:SGUEN200512345G"
country = "SG"
street = "21 Tuas South Avenue 7"
city = "Singapore"
postcode = "637480"
profile = "pint-sg"

[[exporters]]
seller_id = "91310115MA1FL8K22H"
endpoint = "0199:5493001KJTIIGC8Y1S09"
street = "Lingang Avenue 1"
city = "Shanghai"
postcode = "201306"

[[exporters]]
seller_id = "91310115MA7CX3Q041"
endpoint = "0195:SGUEN202312345H"
city = "Shanghai"
"""

DESCRIPTION = """\
Run the whole flow on this machine, on 127.0.0.1 only: submit the sample fapiao through the
HTTP API; convert, validate, sign; deliver the Singapore buyers' documents (scheme 0195,
PINT SG or BIS 3) over Peppol AS4 to a loopback Peppol network (SML lookup, signed SMP
metadata, a receiving access point answering signed receipts) and the others over HTTPS with
mutual TLS to a local Hong Kong counterpart; show each document's history, receipt and, for
Peppol, the lookup, the AS4 MessageId, the verified receipt and what the receiving access
point got. Exit code 0 when every document was delivered exactly once on its route."""

MEDIA_TYPES = {".xml": "application/xml", ".ofd": "application/ofd", ".json": "application/json"}
"""The sample files the demo sends by default, by suffix, with their Content-Type."""
FINAL_STATES = {"delivered", "rejected", "dead", "failed"}
_EXTENSIONS = {"application/xml": ".xml", "text/xml": ".xml", "application/json": ".json"}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "demo",
        help="run the whole flow locally: submit, convert, validate, sign, deliver (Peppol AS4, "
        "HTTPS), receipts",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "samples", nargs="*", type=Path, help="fapiao files to send (default: the bundled samples)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    parser.add_argument(
        "--timeout",
        type=float,
        default=180.0,
        help="seconds to wait for every document to be delivered (default: 180)",
    )
    parser.add_argument("--verbose", action="store_true", help="show the gateway's JSON logs")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    configure_logging("INFO" if args.verbose else "WARNING")
    environment = Settings.load()
    samples = list(args.samples) or default_samples()
    if not samples:
        print("lingang demo: no sample fapiao found (gateway/samples or ../shared/reference)")
        return 2
    show_parsed(samples)
    home = Path(tempfile.mkdtemp(prefix="lingang-demo-"))
    finished: int | None = None
    try:
        finished = asyncio.run(Demo(home, samples, args.timeout, environment, keep=args.keep).run())
        return finished
    finally:
        if args.keep:
            print(f"\ndata directory kept: {home}")
            print(f"  outputs of each document: {home / 'outputs'}/<sample>/<kind>.xml or .json")
            print(
                "  a Peppol document's folder also holds as4-receipt.xml (the signed receipt) "
                "and received-by-access-point.xml (the SBDH the receiving AP got)"
            )
            print(f"  store: {home / 'gateway.db'}   test PKI: {home / 'pki'}")
            print(f"  Peppol test PKI: {home / 'peppol-pki'}   TLS PKI: {home / 'tls'}")
        else:
            shutil.rmtree(home, ignore_errors=True)
        if finished is not None and not args.keep:
            print(
                "\nthe demo's data directory was removed; to look at what it produced "
                "(signed documents, reports, store), run it again with --keep "
                "(bash deploy/demo.sh --keep)"
            )


def default_samples() -> list[Path]:
    """The bundled samples (``gateway/samples``: fapiao XML, OFD and platform JSON), else the
    reference mirror's XML samples."""
    for folder in (
        REPO / "gateway" / "samples",
        REPO.parent / "shared" / "reference" / "fapiao" / "samples" / "xml",
    ):
        found = (
            sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in MEDIA_TYPES)
            if folder.is_dir()
            else []
        )
        if found:
            return found
    return []


def media_type(path: Path) -> str:
    """The Content-Type a sample is submitted with (by its suffix; XML otherwise)."""
    return MEDIA_TYPES.get(path.suffix.lower(), "application/xml")


def show_parsed(samples: list[Path]) -> None:
    """Step 1: what the parser reads from each sample."""
    from gateway.ingest import parse

    print("== 1. the sample fapiao, parsed ==")
    for path in samples:
        try:
            parsed = parse(path.read_bytes(), filename=path.name)
        except LingangError as exc:
            print(f"  {path.name}: not parsed: {exc}")
            continue
        inv = parsed.invoice
        print(
            f"  {path.name}: {parsed.source_format} no. {inv.number}, {inv.issue_date}, "
            f"seller {inv.seller.name!r} → buyer {inv.buyer.name!r}, "
            f"total {inv.totals.tax_inclusive} {inv.currency}, {len(inv.lines)} line(s), "
            f"{len(parsed.warnings)} warning(s)"
        )
        for warning in parsed.warnings:
            print(f"    warning [{warning.code}] {warning.message}")


@dataclass
class Sent:
    """One submitted sample and what became of it."""

    path: Path
    id: str = ""
    state: str = ""
    detail: dict[str, Any] | None = None
    peppol: PeppolLeg | None = None
    expected_route: str = ""
    """The adapter it should go by (its receiver registered in the Peppol network or not)."""
    """Its Peppol leg, when it was delivered over Peppol."""

    @property
    def route(self) -> str:
        """The adapter that delivered it (its last delivery job's)."""
        deliveries = (self.detail or {}).get("deliveries") or []
        return str(deliveries[-1].get("adapter", "")) if deliveries else ""


@dataclass(frozen=True, slots=True)
class Tenant:
    """The demo's tenant and its submitting API key (never printed)."""

    id: str
    key: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Counterparts:
    """What the demo delivers to: the Hong Kong HTTPS endpoint and the Peppol network."""

    receiver: Receiver
    network: PeppolNetwork


class Demo:
    """Steps 2–6 (see the module docstring)."""

    def __init__(
        self,
        home: Path,
        samples: list[Path],
        timeout: float,
        environment: Settings,
        *,
        keep: bool = False,
    ) -> None:
        self.home = home
        self.environment = environment
        """The settings of the environment the demo runs in (where the artefacts are, how the
        Schematron engine runs); the demo's own gateway lives in ``home``."""
        self.samples = samples
        self.timeout = timeout
        self.keep = keep

    def validation_options(self) -> EngineOptions:
        """The environment's engine options, with no JIT warm-up unless it asks for one: for
        a handful of documents, warming the JVM would cost more than it saves."""
        options = self.environment.validation
        if options.jvm_warm_runs is None:
            options = replace(options, jvm_warm_runs=0)
        return replace(options, work_dir=self.environment.artefacts_home)

    async def run(self) -> int:
        print(
            f"\n== 2. data directory {self.home} "
            "(SQLite store, test PKI, TLS PKI, Peppol test PKI) =="
        )
        from gateway.signing.testpki import make_test_pki

        pki = make_test_pki(self.home / "pki")
        tls = make_tls(self.home / "tls")
        (self.home / "partners.toml").write_text(DEMO_DIRECTORY, encoding="utf-8")
        print("  signing key: test PKI signer-ec (ECDSA P-256), chain: test intermediate")

        from cryptography import x509

        signer_public = x509.load_pem_x509_certificate(
            pki.path("signer-ec.pem").read_bytes()
        ).public_key()
        receiver = Receiver(ssl_context=tls.server_context(), verify_key=signer_public)
        await receiver.start()
        try:
            network = await PeppolNetwork.start(self.home / "peppol-pki", tls, DEMO_DIRECTORY)
        except BaseException:
            await receiver.stop()
            raise
        print("\n== 3. counterparts on 127.0.0.1 ==")
        for line in network.describe():
            print(f"  {line}")
        print(f"  Hong Kong counterpart (HTTPS): {receiver.url} (mutual TLS, checks signatures)")

        settings = Settings.for_data_dir(
            self.home,
            server=ServerSettings(port=0),
            signing=SigningSettings(
                key=pki.path("signer-ec.key.pem"),
                cert=pki.path("signer-ec.pem"),
                chain=(pki.path("chain.pem"),),
            ),
            worker=WorkerSettings(count=2, poll_seconds=0.2),
            pipeline=PipelineSettings(
                artefacts=self.environment.artefacts_home,
                stage_processes=default_stage_processes(),
            ),
            validation=self.validation_options(),
            adapters={
                "hk": AdapterConfig(
                    "hk",
                    "https",
                    {
                        "url": receiver.url,
                        "ca": str(tls.ca),
                        "client_cert": str(tls.client_cert),
                        "client_key": str(tls.client_key),
                        "timeout": 10,
                    },
                ),
                PEPPOL_ADAPTER: network.adapter(),
            },
            routing=Routing(default="hk"),
        )
        store = await open_store(settings.store.url)
        try:
            tenant = await store.create_tenant("Demo Exporter Co.")
            key, _ = await store.issue_api_key(tenant.id, label="demo")
            await store.issue_api_key(tenant.id, label="demo officer", role=OFFICER)
            services = await open_services(settings, store=store)
        except BaseException:
            await store.close()
            await network.stop()
            await receiver.stop()
            raise
        try:
            return await self._with_gateway(
                services, Counterparts(receiver, network), Tenant(tenant.id, key)
            )
        finally:
            await services.close()
            await network.stop()
            await receiver.stop()

    async def _with_gateway(
        self, services: Services, counterparts: Counterparts, tenant: Tenant
    ) -> int:
        from gateway.api import api_runner, create_app

        runner = api_runner(create_app(services))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        base = f"http://127.0.0.1:{port}"
        pool = services.worker_pool(services.settings.worker.count, prefix="demo-")
        pool.start()
        print(f"\n== 4. gateway API on {base}, {len(pool.workers)} workers ==")
        print(
            f"  adapter '{PEPPOL_ADAPTER}': Peppol AS4 as access point "
            f"{common_name(counterparts.network.pki.sender)} (test PKI); "
            "receivers under 0195 (Singapore: InvoiceNow is Peppol) go here"
        )
        print("  adapter 'hk': HTTPS with mutual TLS to the Hong Kong counterpart (the default)")
        try:
            print(
                f"  tenant {tenant.id}: an API key that submits and a compliance officer's key "
                "(releases documents the export gate holds); both made for this run, "
                "not printed or logged"
            )
            headers = {"Authorization": f"Bearer {tenant.key}"}
            async with aiohttp.ClientSession(base_url=base, headers=headers) as http:
                return await self._submit_and_follow(http, services, counterparts)
        finally:
            await pool.stop()
            await runner.cleanup()

    async def _submit_and_follow(
        self, http: aiohttp.ClientSession, services: Services, counterparts: Counterparts
    ) -> int:
        async with http.put(
            "/v1/partners",
            data=DEMO_DIRECTORY.encode(),
            headers={"Content-Type": "application/toml"},
        ) as response:
            answer = await response.json()
            print(f"  partner directory uploaded: {answer.get('entries')} entries")
        print("\n== 5. submitting through the HTTP API ==")
        sent = [Sent(path) for path in self.samples]
        started = time.perf_counter()
        for item in sent:
            item.id = await self._submit(http, item.path, replay=False)
        await self._submit(http, sent[0].path, replay=True)
        print("\n== 6. following each document ==")
        await self._follow(http, sent)
        elapsed = time.perf_counter() - started
        delivered = [item for item in sent if item.state == "delivered"]
        over_peppol = [item for item in delivered if item.route == PEPPOL_ADAPTER]
        legs = await asyncio.gather(
            *(
                peppol_leg(counterparts.network, services.store, services.runner, item.id)
                for item in over_peppol
            )
        )
        for item, leg in zip(over_peppol, legs, strict=True):
            item.peppol = leg
        for item in sent:
            if item.state == "delivered":
                item.expected_route = await self._expected_route(http, item, counterparts)
            self._report(item)
            if self.keep:
                await self._save_outputs(http, item)
        return self._verdict(sent, elapsed, counterparts)

    async def _expected_route(
        self, http: aiohttp.ClientSession, item: Sent, counterparts: Counterparts
    ) -> str:
        """The adapter a delivered document should have gone by: ``peppol`` when its receiver
        (in its stored envelope) is registered in the loopback Peppol network, else ``hk``."""
        params = {"kind": "envelope"}
        async with http.get(f"/v1/documents/{item.id}/output", params=params) as response:
            envelope = await response.json(content_type=None) if response.status == 200 else {}
        receiver = str((envelope.get("transport") or {}).get("receiver") or "")
        registered = counterparts.network.participants
        if receiver and any(p.value.lower() == receiver.lower() for p in registered):
            return PEPPOL_ADAPTER
        return "hk"

    def _verdict(self, sent: list[Sent], elapsed: float, counterparts: Counterparts) -> int:
        ap = counterparts.network.ap
        return verdict(
            sent,
            elapsed=elapsed,
            timeout=self.timeout,
            https=counterparts.receiver.stats(),
            ap_kept=len(ap.received),
            ap_posts=ap.deliveries,
            smp_answers=counterparts.network.smp.requests,
        )

    async def _submit(self, http: aiohttp.ClientSession, path: Path, *, replay: bool) -> str:
        body = path.read_bytes()
        headers = {"Content-Type": media_type(path), "Idempotency-Key": f"demo-{path.name}"}
        async with http.post(
            "/v1/documents", data=body, params={"filename": path.name}, headers=headers
        ) as response:
            answer = await response.json()
            if response.status not in (200, 202):
                raise LingangError(f"submission of {path.name} refused: {answer}")
        label = "replayed (same Idempotency-Key)" if replay else "accepted"
        print(f"  {path.name}: HTTP {response.status} {label}, id {answer['id']}")
        return str(answer["id"])

    async def _follow(self, http: aiohttp.ClientSession, sent: list[Sent]) -> None:
        deadline = time.monotonic() + self.timeout
        waiting = list(sent)
        while waiting and time.monotonic() < deadline:
            for item in list(waiting):
                async with http.get(f"/v1/documents/{item.id}") as response:
                    item.detail = await response.json()
                item.state = str(item.detail.get("status", item.detail.get("state", "")))
                if item.state in FINAL_STATES:
                    waiting.remove(item)
            if waiting:
                await asyncio.sleep(0.2)

    async def _save_outputs(self, http: aiohttp.ClientSession, item: Sent) -> None:
        """Write every output of a document (signed, report, signature, ...) to files."""
        folder = self.home / "outputs" / item.path.stem
        folder.mkdir(parents=True, exist_ok=True)
        for output in (item.detail or {}).get("outputs", []):
            kind = str(output.get("kind", ""))
            async with http.get(f"/v1/documents/{item.id}/output", params={"kind": kind}) as got:
                if got.status != 200:
                    continue
                extension = _EXTENSIONS.get(got.content_type, ".bin")
                (folder / f"{kind}{extension}").write_bytes(await got.read())
        for name, data in (item.peppol.files() if item.peppol else {}).items():
            (folder / name).write_bytes(data)

    def _report(self, item: Sent) -> None:
        detail = item.detail or {}
        print(f"\n  {item.path.name} → {item.state or 'unknown'}")
        for event in detail.get("history", []):
            stages = (event.get("detail") or {}).get("stages")
            line = f"    {event.get('at', '')[11:23]}  {event.get('state', ''):<10} {event.get('reason') or ''}"
            print(line.rstrip())
            if stages:
                timing = ", ".join(f"{s['stage']} {s['ms']:.1f}ms" for s in stages)
                print(f"                  stages: {timing}")
        validation = detail.get("validation") or {}
        if validation:
            print(f"    validation: {_validation_line(validation)}")
            applied = _artefacts_line(validation)
            if applied:
                print(f"      official rules applied: {applied}")
        if item.peppol is not None:
            for line in item.peppol.lines():
                print(f"    {line}")
            return
        for receipt in detail.get("receipts", []):
            info = receipt.get("detail") or {}
            print(
                f"    receipt: message {info.get('message_id')} remote id {info.get('remote_id')} "
                f"received {receipt.get('received_at', '')[:19]}"
            )


def verdict(
    sent: list[Sent],
    *,
    elapsed: float,
    timeout: float,
    https: dict[str, Any],
    ap_kept: int,
    ap_posts: int,
    smp_answers: int = 0,
) -> int:
    """The closing lines and the exit code: every document delivered exactly once on its
    route. ``https`` is the Hong Kong counterpart's counters; ``ap_kept`` and ``ap_posts`` the
    receiving access point's distinct messages and posts; ``smp_answers`` how often the SMP
    was asked (the sender caches its answers per participant and document type)."""
    delivered = [item for item in sent if item.state == "delivered"]
    over_peppol = [item for item in delivered if item.route == PEPPOL_ADAPTER]
    over_https = [item for item in delivered if item.route != PEPPOL_ADAPTER]
    work = sum(_stage_ms(item) for item in sent) / 1000
    print(
        f"\n{len(delivered)}/{len(sent)} delivered {elapsed:.2f}s after the first submission; "
        f"the stages took {work:.2f}s of it in all, the rest is mostly the stage processes "
        "starting (each loads the official rules once)"
    )
    print(
        f"  over Peppol AS4: {len(over_peppol)}; the SMP was asked {smp_answers} time(s) (the "
        f"sender caches its answers); the receiving access point kept {ap_kept} distinct "
        f"message(s) from {ap_posts} post(s)"
    )
    print(
        f"  over HTTPS: {len(over_https)}; the Hong Kong counterpart accepted "
        f"{https['accepted']} distinct message(s) from {https['posts']} post(s), "
        f"{https['duplicates']} duplicate(s) dropped"
    )
    ok = (
        len(delivered) == len(sent)
        and https["accepted"] == len(over_https)
        and ap_kept == len(over_peppol)
        and all(item.peppol is not None and item.peppol.ok for item in over_peppol)
        and all(item.route == item.expected_route for item in delivered)
    )
    for item in delivered:
        if item.route != item.expected_route:
            print(
                f"  {item.path.name}: went by {item.route or 'no adapter'}, "
                f"should have gone by {item.expected_route}"
            )
    for item in sent:
        if item.state not in FINAL_STATES:
            print(
                f"  {item.path.name}: still {item.state or 'unknown'} after "
                f"{timeout:g}s; on a busy machine give it longer (--timeout)"
            )
    print("demo: OK" if ok else "demo: NOT all documents were delivered exactly once")
    return 0 if ok else 1


def _stage_ms(item: Sent) -> float:
    """The milliseconds a document spent in the stages of its flow (its history's timings)."""
    return sum(
        float(stage.get("ms", 0))
        for event in (item.detail or {}).get("history", [])
        for stage in (event.get("detail") or {}).get("stages") or []
    )


def _artefacts_line(validation: dict[str, Any]) -> str:
    """The official artefacts a report names (``set/version:path``), by set and version."""
    grouped: dict[str, list[str]] = {}
    for artefact in validation.get("artefacts") or []:
        release, _, path = str(artefact).partition(":")
        grouped.setdefault(release.replace("/", " "), []).append(Path(path).name)
    return "; ".join(f"{release}: {', '.join(names)}" for release, names in grouped.items())


def _validation_line(validation: dict[str, Any]) -> str:
    counts = validation.get("counts") or {}
    summary = ", ".join(f"{n} {flag}" for flag, n in counts.items() if n) or "no findings"
    verdict = "valid" if validation.get("valid") else "NOT valid"
    return f"{verdict} against {validation.get('profile', '?')} ({summary})"


logging.getLogger("aiohttp.access").setLevel(logging.WARNING)

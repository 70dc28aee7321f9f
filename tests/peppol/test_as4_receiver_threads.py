"""The AS4 receiver checks messages on the event loop and in worker threads at once: the
official SBDH XSD it checks every header against is compiled once, when the receiver is
built, and that one copy serves every thread.

Each thread compiling a copy of its own (the earlier design) crashed ``lingang serve`` with
SIGSEGV in its first second now and then: the first messages of a fresh process are checked
in several worker threads, each compiling the XSD while the others compiled or validated
theirs, and the event loop's own compile then failed ("Document is not valid XML Schema")
and the next validation on the event loop segfaulted (the Python stacks are in the merge
note of this change). The reproducer is ``tests/reliability/serve_restarts.py``.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from adapters.peppol import as4
from adapters.peppol.receiver import As4Receiver, ReceiveOptions
from adapters.peppol.sbdh import build_sbdh
from adapters.peppol.wssec import Credentials
from gateway.signing.peppol_pki import PeppolTestPki
from gateway.signing.truststore import TrustStore
from gateway.validation.xsd import compile_schema
from tests.peppol.as4_gateway import INVOICE, LOCAL, document_message, sbdh_header, user_message

SBDH_XSD = "unece-sbdh-1.3/xsd/StandardBusinessDocumentHeader.xsd"
THREADS = 8
ROUNDS = 6


def messages(pki: PeppolTestPki, invoice: bytes, count: int) -> list[as4.OutgoingMessage]:
    """``count`` messages, each an invoice with its own number."""
    return [
        document_message(
            pki,
            re.sub(
                rb"<cbc:ID>[^<]*</cbc:ID>", f"<cbc:ID>T-{n}</cbc:ID>".encode(), invoice, count=1
            ),
            message_id=f"threads-{n}@sender",
        )
        for n in range(count)
    ]


def new_receiver(pki: PeppolTestPki, xsd: Path) -> As4Receiver:
    options = ReceiveOptions(
        "/as4",
        Credentials(pki.receiver.key, pki.receiver.cert),
        TrustStore((pki.ap_ca.cert,), what="access point certificate"),
        sbdh_schema=xsd,
    )
    no_sink: Any = None  # verify() never reaches the sink
    return As4Receiver("peppol", options, no_sink, max_bytes=16 * 1024 * 1024)


def test_one_compiled_sbdh_schema_serves_every_thread(
    pki: PeppolTestPki, reference: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fresh receivers, each hit by ``THREADS`` threads and the calling thread at once (as a
    fresh ``serve`` is): every message verifies, and no thread compiles an XSD of its own."""
    xsd = reference / SBDH_XSD
    batch = messages(pki, (reference / INVOICE).read_bytes(), THREADS + 1)
    for _ in range(ROUNDS):
        one_round(new_receiver(pki, xsd), xsd, batch, monkeypatch)


def one_round(
    receiver: As4Receiver,
    xsd: Path,
    batch: list[as4.OutgoingMessage],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One receiver hit by ``THREADS`` threads and the calling thread at once."""
    assert receiver.sbdh_schema is compile_schema(xsd)
    compiled: list[str] = []
    real = etree.XMLSchema

    def counting(*args: object, **kwargs: object) -> etree.XMLSchema:
        compiled.append(threading.current_thread().name)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(etree, "XMLSchema", counting)
    start = threading.Barrier(THREADS + 1)
    failures: list[BaseException] = []

    def check(message: as4.OutgoingMessage) -> None:
        start.wait()
        try:
            accepted = receiver.verify(message.content_type, message.body)
            assert accepted.sbdh.header.receiver == LOCAL
        except BaseException as exc:  # reported below, with the thread's message
            failures.append(exc)

    threads = [threading.Thread(target=check, args=(m,)) for m in batch[:THREADS]]
    for thread in threads:
        thread.start()
    check(batch[THREADS])
    for thread in threads:
        thread.join()
    monkeypatch.setattr(etree, "XMLSchema", real)
    assert failures == []
    assert compiled == []


def test_a_header_against_the_xsd_is_still_refused(pki: PeppolTestPki, reference: Path) -> None:
    """The shared schema still checks: a header the XSD refuses is an EBMS:0004 refusal."""
    from adapters.peppol.receiver import Refused

    receiver = new_receiver(pki, reference / SBDH_XSD)
    invoice = (reference / INVOICE).read_bytes()
    header = sbdh_header()
    sbdh = build_sbdh(invoice, header).replace(b"<HeaderVersion>1.0</HeaderVersion>", b"", 1)
    message = user_message(
        sbdh,
        header,
        signer=pki.sender,
        receiver_cert=pki.receiver.cert,
        message_id="bad-header@sender",
    )
    with pytest.raises(Refused) as refused:
        receiver.verify(message.content_type, message.body)
    assert refused.value.error.code == "EBMS:0004"
    assert refused.value.rule == "peppol.sbdh.xsd"

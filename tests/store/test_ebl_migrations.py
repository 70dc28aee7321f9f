"""eBL registry migrations over rows an older gateway wrote, on SQLite and PostgreSQL: the
database is built at the older schema version, filled as that version filled it, and opened
by this gateway (which migrates it)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from gateway.pint.checksums import document_checksum, jws_checksum
from gateway.pint.codes import ActionCode
from gateway.pint.stored import chain_title
from gateway.service import warn_left_rows
from gateway.store import open_store
from gateway.store.ebl import CarriedDocument, EblRegistry
from gateway.store.ebl_legacy import SURRENDER_REQUESTS
from gateway.store.migrations import current_version, load_migrations
from gateway.store.sql import split_statements
from gateway.testing.pint import platform, transport_document
from tests.pint.chains import issue_entry, next_entry, transfer

WHEN = "2026-11-20T08:00:00.000000+00:00"


@dataclass(frozen=True, slots=True)
class OldDatabase:
    """A database at an older schema version, written to with plain SQL (``?`` placeholders)."""

    backend: str
    url: str

    def create(self, version: int) -> None:
        """The schema of migrations 1..``version``, as a gateway of that version left it."""
        migrations = load_migrations(self.backend)[:version]
        if self.backend == "sqlite":
            with sqlite3.connect(self.path) as conn:
                conn.execute(
                    "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT "
                    "NULL, applied_at TEXT NOT NULL)"
                )
                for migration in migrations:
                    for statement in split_statements(migration.sql):
                        conn.execute(statement)
                    conn.execute(
                        "INSERT INTO schema_version VALUES (?, ?, ?)",
                        (migration.version, migration.name, WHEN),
                    )
            return
        with psycopg.connect(self.url, autocommit=True) as pg:
            pg.execute(
                "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                "applied_at TIMESTAMPTZ NOT NULL)"
            )
            for migration in migrations:
                pg.execute(migration.sql.encode())
                pg.execute(
                    "INSERT INTO schema_version VALUES (%s, %s, %s)",
                    (migration.version, migration.name, WHEN),
                )

    def execute(self, statements: Sequence[tuple[str, tuple[object, ...]]]) -> None:
        if self.backend == "sqlite":
            with sqlite3.connect(self.path) as conn:
                for statement, params in statements:
                    conn.execute(statement, params)
            return
        with psycopg.connect(self.url, autocommit=True) as pg:
            for statement, params in statements:
                pg.execute(statement.replace("?", "%s").encode(), params)

    def fetch(self, query: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        if self.backend == "sqlite":
            with sqlite3.connect(self.path) as conn:
                return list(conn.execute(query, params).fetchall())
        with psycopg.connect(self.url, autocommit=True) as pg:
            return list(pg.execute(query.replace("?", "%s").encode(), params).fetchall())

    @property
    def path(self) -> Path:
        return Path(self.url.removeprefix("sqlite:///"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def old(request: pytest.FixtureRequest, tmp_path: Path) -> OldDatabase:
    if request.param == "sqlite":
        return OldDatabase("sqlite", f"sqlite:///{tmp_path}/old.db")
    return OldDatabase("postgres", str(request.getfixturevalue("pg_empty_url")))


def _sum(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def test_documents_received_before_are_linked_to_their_ebls(old: OldDatabase) -> None:
    """Migration 15: the documents an accepted envelope's signed answer confirmed, and whose
    bytes are held, are carried by that eBL (named from the checksum: the manifest is gone);
    one confirmed but not held is not."""
    invoice, visual, absent = _sum("invoice"), _sum("visual"), _sum("absent")
    old.create(14)
    old.execute(
        [
            (
                "INSERT INTO ebl_accepted VALUES (?, ?, 'entry', ?, 'AEOT', ?)",
                (_sum("last-1"), _sum("td"), f'["{invoice}", "{visual}", "{absent}"]', WHEN),
            ),
            (  # the same eBL came back later with the invoice again
                "INSERT INTO ebl_accepted VALUES (?, ?, 'entry', ?, 'SGTD', ?)",
                (_sum("last-2"), _sum("td"), f'["{invoice}"]', WHEN),
            ),
            (
                "INSERT INTO ebl_documents VALUES (?, 'application/pdf', ?, ?)",
                (invoice, b"%PDF invoice", WHEN),
            ),
            ("INSERT INTO ebl_documents VALUES (?, 'image/png', ?, ?)", (visual, b"PNG", WHEN)),
        ]
    )
    store = await open_store(old.url)
    try:
        carried = await EblRegistry.of(store).documents_of(_sum("td"))
    finally:
        await store.close()
    assert sorted(carried, key=lambda d: d.checksum) == sorted(
        [
            CarriedDocument(invoice, f"document {invoice[:16]}", "application/pdf", 12, True),
            CarriedDocument(visual, f"document {visual[:16]}", "image/png", 3, True),
        ],
        key=lambda d: d.checksum,
    )


async def test_each_carried_document_knows_whether_it_was_received(old: OldDatabase) -> None:
    """Migration 17: a document an accepted envelope of the eBL confirmed was received with it
    (an onward transfer forwards it only when asked); any other was attached here (at issue,
    or to a transfer from here), also when another eBL received the same bytes."""
    invoice, packing, visual = _sum("invoice"), _sum("packing"), _sum("visual")
    td, other = _sum("td"), _sum("other td")
    old.create(16)
    link = "INSERT INTO ebl_title_documents VALUES (?, ?, ?, 'application/pdf', ?)"
    old.execute(
        [
            (
                "INSERT INTO ebl_accepted VALUES (?, ?, 'entry', ?, 'AEOT', ?)",
                (_sum("last-1"), td, f'["{invoice}", "{visual}"]', WHEN),
            ),
            (link, (td, invoice, "invoice.pdf", WHEN)),
            (link, (td, visual, "B-L.pdf", WHEN)),
            (link, (td, packing, "packing.pdf", WHEN)),  # attached here to the next transfer
            (link, (other, invoice, "invoice.pdf", WHEN)),  # issued here with the same bytes
        ]
    )
    store = await open_store(old.url)
    try:
        registry = EblRegistry.of(store)
        found = {
            (key, d.name, d.received)
            for key in (td, other)
            for d in await registry.documents_of(key)
        }
    finally:
        await store.close()
    assert found == {
        (td, "invoice.pdf", True),
        (td, "B-L.pdf", True),
        (td, "packing.pdf", False),
        (other, "invoice.pdf", False),
    }


# -- migration ebl_surrender_requests ----------------------------------------------------------

A = platform("AEOT", "ed25519", "SHIPPER", carrier=True)
B = platform("IQAX", "p256", "BANK")
assert A.carrier is not None
CARRIER = A.carrier


def before_surrender_requests() -> int:
    """The schema version just before migration ``ebl_surrender_requests``."""
    names = [m.name for m in load_migrations("sqlite")]
    return names.index(SURRENDER_REQUESTS)


def old_title(chain: list[str], document: dict[str, Any]) -> dict[str, Any]:
    """The title JSON the old rule wrote for a chain ending with a surrender request: the
    carrier possesses it and it is surrendered (no request pending, no holderMayEndorse)."""
    title = chain_title(chain, to_order=bool(document.get("isToOrder"))).as_json()
    return {key: title[key] for key in ("carrier", "possessor", "holder", "toOrder")} | {
        "surrendered": True
    }


def surrender_chain(document: dict[str, Any], *answer: ActionCode) -> list[str]:
    """A's carrier issued to A's shipper, who transferred to B's bank, who asked the carrier
    to surrender (and the carrier's ``answer``, if any)."""
    first = issue_entry(A, document, A.party, transfer(A.party, B.party))
    request = [transfer(B.party, CARRIER, ActionCode.SURRENDER_FOR_DELIVERY)]
    chain = [first, next_entry(B, document, first, request)]
    for action in answer:
        chain.append(next_entry(A, document, chain[-1], [transfer(CARRIER, B.party, action)]))
    return chain


def compact(value: Any) -> str:
    """JSON as the registry writes it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def title_row(
    document: dict[str, Any], chain: list[str], state: str, possessor: str, title: dict[str, Any]
) -> tuple[str, tuple[object, ...]]:
    return (
        "INSERT INTO ebl_titles VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
        (
            document_checksum(document), document["transportDocumentReference"], state,
            possessor, jws_checksum(chain[-1]), compact(chain), compact(title),
            compact(document), WHEN, WHEN,
        ),
    )  # fmt: skip


@dataclass
class Rows:
    """eBLs as the old rule left them in one registry (each its own transport document)."""

    carrier_side: dict[str, Any]
    requester_side: dict[str, Any]
    answered: dict[str, Any]
    refused: dict[str, Any]
    not_a_request: dict[str, Any]
    in_flight: dict[str, Any]
    outbound_id: str = "out-1"


def fill(old: OldDatabase, reference: Path) -> Rows:
    rows = Rows(*(transport_document(reference, f"OLDSURR00{n}") for n in range(1, 7)))
    carrier = CARRIER.label()
    statements = []
    chain = surrender_chain(rows.carrier_side)
    statements.append(title_row(rows.carrier_side, chain, "surrendered", carrier,
                                old_title(chain, rows.carrier_side)))  # fmt: skip
    chain = surrender_chain(rows.requester_side)
    statements.append(title_row(rows.requester_side, chain, "transferred", carrier,
                                old_title(chain, rows.requester_side)))  # fmt: skip
    chain = surrender_chain(rows.answered, ActionCode.SACC)
    statements.append(title_row(rows.answered, chain, "surrendered", carrier,
                                chain_title(chain, to_order=False).as_json()))  # fmt: skip
    # the old rule let the endorsee of a plain ENDORSE endorse again; the current one refuses
    refused = rows.refused | {"isToOrder": True}
    rows.refused = refused
    first = issue_entry(
        A, refused, A.party, transfer(A.party, B.party, ActionCode.ENDORSE),
        transfer(A.party, B.party),
    )  # fmt: skip
    again = [
        transfer(B.party, B.party, ActionCode.ENDORSE_TO_ORDER),
        transfer(B.party, CARRIER, ActionCode.SURRENDER_FOR_DELIVERY),
    ]
    chain = [first, next_entry(B, refused, first, again)]
    title = {"carrier": CARRIER.as_json(), "possessor": CARRIER.as_json(),
             "holder": B.party.as_json(), "toOrder": True, "surrendered": True}  # fmt: skip
    statements.append(title_row(refused, chain, "surrendered", carrier, title))
    chain = [issue_entry(A, rows.not_a_request, A.party, transfer(A.party, B.party))]
    statements.append(title_row(rows.not_a_request, chain, "surrendered", B.party.label(),
                                title | {"possessor": B.party.as_json()}))  # fmt: skip
    # the bank's platform was sending its surrender request when the gateway was upgraded
    first = issue_entry(A, rows.in_flight, A.party, transfer(A.party, B.party))
    request = next_entry(
        B, rows.in_flight, first, [transfer(B.party, CARRIER, ActionCode.SURRENDER_FOR_AMENDMENT)]
    )
    before = chain_title([first], to_order=False).as_json()
    statements.append(title_row(rows.in_flight, [first], "sending", B.party.label(), before))
    envelope = {"transportDocument": rows.in_flight, "envelopeManifestSignedContent": "x.y.z",
                "envelopeTransferChain": [first, request]}  # fmt: skip
    statements.append(
        (
            "INSERT INTO ebl_outbound VALUES (?, ?, 'AEOT', ?, ?, '[]', ?, 'sending', NULL, "
            "NULL, ?, ?)",
            (
                rows.outbound_id,
                document_checksum(rows.in_flight),
                jws_checksum(first),
                compact(envelope),
                compact(old_title([first, request], rows.in_flight)),
                WHEN,
                WHEN,
            ),
        )
    )
    old.execute(statements)
    return rows


async def test_surrenders_recorded_as_final_become_pending_requests(
    old: OldDatabase, reference: Path, caplog: pytest.LogCaptureFixture
) -> None:
    old.create(before_surrender_requests())
    rows = fill(old, reference)
    before = {r[0]: r for r in old.fetch("SELECT td_checksum, chain, head FROM ebl_titles")}
    store = await open_store(old.url)
    try:
        registry = EblRegistry.of(store)
        carrier_side = await registry.get(document_checksum(rows.carrier_side))
        requester_side = await registry.get(document_checksum(rows.requester_side))
        answered = await registry.get(document_checksum(rows.answered))
        refused = await registry.get(document_checksum(rows.refused))
        not_a_request = await registry.get(document_checksum(rows.not_a_request))
        outbound = await registry.outbound(rows.outbound_id)
        left = await registry.left_by_migrations()
        lines = await warn_left_rows(store)
    finally:
        await store.close()

    # the carrier's platform holds the eBL again, the bank's request pending
    assert (carrier_side.state, carrier_side.possessor) == ("held", CARRIER.label())
    assert carrier_side.title["surrenderRequestedBy"] == B.party.as_json()
    assert not carrier_side.title["surrendered"] and carrier_side.version == 2
    assert requester_side.state == "transferred"
    assert requester_side.title["surrenderRequestedBy"] == B.party.as_json()
    assert outbound.state == "sending" and not outbound.title["surrendered"]
    assert outbound.title["surrenderRequestedBy"] == B.party.as_json()
    # written by the current rule, or not mappable: as they were
    assert (answered.state, answered.version) == ("surrendered", 1)
    assert (refused.state, refused.version, refused.title["surrendered"]) == (
        "surrendered",
        1,
        True,
    )
    assert (not_a_request.state, not_a_request.version) == ("surrendered", 1)
    after = {r[0]: r for r in old.fetch("SELECT td_checksum, chain, head FROM ebl_titles")}
    assert after == before  # no chain touched

    recorded = {
        (r[0], r[1]): r[2:]
        for r in old.fetch(
            "SELECT kind, reference, outcome, old_state, old_title, new_state FROM "
            "ebl_title_migrations"
        )
    }
    assert set(recorded) == {
        ("title", "OLDSURR001"), ("title", "OLDSURR002"), ("title", "OLDSURR004"),
        ("title", "OLDSURR005"), ("outbound", "OLDSURR006"),
    }  # fmt: skip
    outcome, old_state, title_before, new_state = recorded[("title", "OLDSURR001")]
    assert (outcome, old_state, new_state) == ("migrated", "surrendered", "held")
    assert json.loads(title_before) == old_title(surrender_chain(rows.carrier_side),
                                                 rows.carrier_side)  # fmt: skip
    assert recorded[("title", "OLDSURR004")][:2] == ("left", "surrendered")

    assert [(r.kind, r.reference) for r in left] == [
        ("title", "OLDSURR004"),
        ("title", "OLDSURR005"),
    ]
    assert "cannot endorse the eBL further" in left[0].reason
    assert "ends with TRANSFER, not with a surrender request" in left[1].reason
    assert len(lines) == 2 and "OLDSURR004" in lines[0] and "OLDSURR005" in lines[1]
    warned = [r.getMessage() for r in caplog.records if "not migrated" in r.getMessage()]
    assert len(warned) == 2 and "OLDSURR004" in warned[0]
    assert any("OLDSURR001" in r.getMessage() and "SACC or SREJ" in r.getMessage()
               for r in caplog.records)  # fmt: skip


async def test_a_row_left_is_named_until_it_changes(old: OldDatabase, reference: Path) -> None:
    old.create(before_surrender_requests())
    rows = fill(old, reference)
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "migrate", "--database", old.url],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"store schema at version {current_version(old.backend)}" in done.stdout
    warned = [line for line in done.stderr.splitlines() if "not migrated" in line]
    assert len(warned) == 2 and "eBL OLDSURR004" in warned[0] and "OLDSURR005" in warned[1]
    old.execute(
        [
            (
                "UPDATE ebl_titles SET version = version + 1 WHERE td_checksum = ?",
                (document_checksum(rows.refused),),
            )
        ]
    )
    store = await open_store(old.url)  # the migration does not run again
    try:
        left = await EblRegistry.of(store).left_by_migrations()
    finally:
        await store.close()
    assert [r.reference for r in left] == ["OLDSURR005"]

"""``lingang ebl issue / transfer / history``: success and every refusal with its exit code."""

from __future__ import annotations

import argparse
import gc
import json
import sqlite3
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from gateway.pint.checksums import bytes_checksum
from gateway.signing.jose import split_compact
from gateway.testing.cluster import free_port
from gateway.testing.pint import PlatformHome, platform, transport_document, write_platform_homes
from gateway.testing.tls import make_tls


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, reference: Path) -> PlatformHome:
    root = tmp_path_factory.mktemp("pintcli")
    platforms = [
        platform("AEOT", "ed25519", "SHIPPER", carrier=True),
        platform("IQAX", "p256", "BUYER"),
    ]
    return write_platform_homes(root, platforms, reference_root=reference, tls=make_tls(root / "tls"),
                                ports=[free_port(), free_port()])[0]  # fmt: skip


def lingang(home: PlatformHome, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gateway", "ebl", *args, "--config", str(home.config)],
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def test_issue_then_history(home: PlatformHome, reference: Path, tmp_path: Path) -> None:
    td = tmp_path / "td.json"
    td.write_text(json.dumps(transport_document(reference, "CLI0000001")))
    done = lingang(home, "issue", str(td), "--to", "AEOT:SHIPPER")
    assert done.returncode == 0, done.stderr
    assert "state=held" in done.stdout
    again = lingang(home, "issue", str(td), "--to", "AEOT:SHIPPER")
    assert again.returncode == 1 and "issued before" in again.stderr
    shown = lingang(home, "history", "CLI0000001")
    assert shown.returncode == 0, shown.stderr
    assert "ISSUE" in shown.stdout and "signature verified" in shown.stdout
    assert "state here: held; possessor: AEOT:AEOT/SHIPPER" in shown.stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["issue", "missing.json", "--to", "IQAX:BUYER"], 2, "cannot use"),
        (["issue", "{bad}", "--to", "IQAX:BUYER"], 1, "is not JSON"),
        # the API refuses a member given twice (RFC 8785 takes I-JSON only); so does the CLI
        (["issue", "{twice}", "--to", "AEOT:SHIPPER"], 1, "'transportDocumentReference' is given twice"),
        (["issue", "{td}", "--to", "nocolon"], 1, "PLATFORM:PARTY"),
        (["issue", "{schema}", "--to", "IQAX:BUYER"], 1, "$.transportDocumentTypeCode"),
        (["issue", "{td}", "--to", "ZZZZ:SOMEONE"], 1, "not a configured partner"),
        (["transfer", "NOSUCHREF", "--to", "IQAX:BUYER"], 1, "no eBL"),
        (["history", "NOSUCHREF"], 1, "no eBL"),
        (["transfer", "X", "--to", "IQAX:BUYER", "--action", "ISSUE"], 2, "invalid choice"),
        (["issue", "{td}", "--to", "AEOT:SHIPPER", "--document", "{empty}"], 1,
         "empty.pdf') is empty: DCSA PINT sends a document of at least 1 byte"),
        (["issue", "{td}", "--to", "AEOT:SHIPPER", "--visualisation", "{empty}"], 1,
         "--visualisation"),
        (["transfer", "NOSUCHREF", "--to", "IQAX:BUYER", "--document", "{empty}"], 1,
         "--document"),
        (["issue", "{td}", "--to", "AEOT:SHIPPER", "--visualisation-type", "image/png"], 2,
         "--visualisation-type is the media type of --visualisation FILE"),
    ],
)  # fmt: skip
def test_refusals(
    home: PlatformHome, reference: Path, tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    files = {
        "{bad}": "not json at all",
        "{twice}": '{"transportDocumentReference": "CLITWICE01", '
        + json.dumps(transport_document(reference, "CLITWICE02"))[1:],
        "{td}": json.dumps(
            transport_document(reference, f"CLIR{abs(hash(tuple(args))) % 10**6:06d}")
        ),
        "{schema}": json.dumps(
            transport_document(reference, "CLISCHEMA1", transportDocumentTypeCode="XYZ")
        ),
    }
    resolved = []
    for arg in args:
        if arg in files:
            path = tmp_path / "in.json"
            path.write_text(files[arg])
            arg = str(path)
        elif arg == "missing.json":
            arg = str(tmp_path / "missing.json")
        elif arg == "{empty}":
            (tmp_path / "empty.pdf").write_bytes(b"")
            arg = str(tmp_path / "empty.pdf")
        resolved.append(arg)
    done = lingang(home, *resolved)
    assert done.returncode == code, (done.stdout, done.stderr)
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_issue_with_the_carriers_visualisation(
    home: PlatformHome, reference: Path, tmp_path: Path
) -> None:
    """``--visualisation`` is signed in the issuance manifest, so the eBL's transfer to another
    platform announces it as ``eBLVisualisationByCarrier``; ``--forward-documents`` is taken."""
    td, pdf, visual = tmp_path / "td.json", tmp_path / "invoice.pdf", tmp_path / "B-L.png"
    td.write_text(json.dumps(transport_document(reference, "CLI0000002")))
    pdf.write_bytes(b"%PDF-1.7 invoice CLI0000002")
    visual.write_bytes(b"\x89PNG B/L CLI0000002")
    done = lingang(home, "issue", str(td), "--to", "AEOT:SHIPPER", "--document", str(pdf),
                   "--visualisation", str(visual))  # fmt: skip
    assert done.returncode == 0, done.stderr
    shown = lingang(home, "history", "CLI0000002")
    assert "carries B-L.png (image/png" in shown.stdout and "attached here" in shown.stdout
    sent = lingang(home, "transfer", "CLI0000002", "--to", "IQAX:BUYER", "--forward-documents",
                   "--json")  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    assert json.loads(sent.stdout)["state"] == "sending"
    with sqlite3.connect(home.store) as conn:
        (envelope,) = conn.execute(
            "SELECT envelope FROM ebl_outbound WHERE id = ?", (json.loads(sent.stdout)["transfer"],)
        ).fetchone()
    _, payload, _, _ = split_compact(json.loads(envelope)["envelopeManifestSignedContent"])
    manifest = json.loads(payload)
    assert manifest["eBLVisualisationByCarrier"]["mediaType"] == "image/png"
    assert manifest["eBLVisualisationByCarrier"]["documentChecksum"] == bytes_checksum(
        visual.read_bytes()
    )
    assert [d["name"] for d in manifest["supportingDocuments"]] == ["invoice.pdf"]


LIMIT = 10 * 1024 * 1024
"""The dcsa_pint adapter's default ``max_document_bytes``."""
BODY_LIMIT = 16 * 1024 * 1024
"""The eBL request body limit (a transport document FILE)."""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["issue", "{td}", "--to", "AEOT:SHIPPER", "--document", "{big}"],
         f"--document {{big}} is {LIMIT + 1} bytes; the limit is {LIMIT} bytes "
         "(adapters.pint.max_document_bytes)"),
        (["issue", "{td}", "--to", "AEOT:SHIPPER", "--visualisation", "{big}"],
         f"--visualisation {{big}} is {LIMIT + 1} bytes; the limit is {LIMIT} bytes"),
        (["transfer", "NOSUCHREF", "--to", "IQAX:BUYER", "--document", "{big}"],
         f"--document {{big}} is {LIMIT + 1} bytes; the limit is {LIMIT} bytes"),
        (["issue", "{huge}", "--to", "AEOT:SHIPPER"],
         f"FILE {{huge}} is {BODY_LIMIT + 1} bytes; the limit is {BODY_LIMIT} bytes"),
        (["issue", "{td}", "--to", "AEOT:SHIPPER", "--document", "/dev/zero"],
         f"--document /dev/zero is larger (it grew while being read); the limit is {LIMIT}"),
    ],
)  # fmt: skip
def test_files_over_the_limit_are_refused_before_being_read_whole(
    home: PlatformHome, reference: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    """A ``--document`` / ``--visualisation`` over the adapter's ``max_document_bytes`` (and
    a transport document over the eBL request body limit) is refused, exit 1, naming the
    option, the file, its size and the limit: by its size on ``stat`` (a sparse file: never
    read), or while reading one that shows no size (a device) after limit + 1 bytes."""
    big, huge = tmp_path / "big.pdf", tmp_path / "huge.json"
    subprocess.run(["truncate", "-s", str(LIMIT + 1), str(big)], check=True)
    subprocess.run(["truncate", "-s", str(BODY_LIMIT + 1), str(huge)], check=True)
    reference_id = f"CLIBIG{abs(hash(tuple(args))) % 10**4:04d}"
    td = tmp_path / "td.json"
    td.write_text(json.dumps(transport_document(reference, reference_id)))
    files = {"{big}": str(big), "{huge}": str(huge), "{td}": str(td)}
    done = lingang(home, *[files.get(arg, arg) for arg in args])
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert message.replace("{big}", str(big)).replace("{huge}", str(huge)) in done.stderr
    assert "Traceback" not in done.stderr
    assert lingang(home, "history", reference_id).returncode == 1  # nothing was issued


def test_the_document_limit_is_the_adapters_max_document_bytes(
    home: PlatformHome, reference: Path, tmp_path: Path
) -> None:
    """The limit is the configured ``max_document_bytes``: a file of one byte more is
    refused, one of exactly that size is sent."""
    config = tmp_path / "lingang.toml"
    text = home.config.read_text()
    config.write_text(
        text.replace("[adapters.pint]\n", "[adapters.pint]\nmax_document_bytes = 100\n", 1)
    )
    td = tmp_path / "td.json"
    td.write_text(json.dumps(transport_document(reference, "CLILIMIT01")))
    pdf = tmp_path / "invoice.pdf"
    pdf.write_bytes(b"%" * 101)

    def issue() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "gateway", "ebl", "issue", str(td), "--to", "AEOT:SHIPPER",
                               "--document", str(pdf), "--config", str(config)],
                              capture_output=True, text=True, timeout=60)  # fmt: skip

    refused = issue()
    assert refused.returncode == 1, refused.stderr
    assert f"--document {pdf} is 101 bytes; the limit is 100 bytes" in refused.stderr
    pdf.write_bytes(b"%" * 100)
    done = issue()
    assert done.returncode == 0, done.stderr
    assert "state=held" in done.stdout


async def test_the_adapter_is_closed_when_a_command_fails(
    home: PlatformHome, tmp_path: Path
) -> None:
    """``pint_platform`` closes the adapter (its HTTP session to partners) also when the
    command fails: no "Unclosed client session" left for the garbage collector."""
    from gateway.cli._pint import pint_platform

    config = tmp_path / "lingang.toml"
    config.write_text(
        home.config.read_text().replace(
            "[adapters.pint.partners.IQAX]\n",
            "[adapters.pint.partners.IQAX]\n"
            f'jwks_url = "https://127.0.0.1:{free_port()}/jwks.json"\n',
            1,
        )
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(LookupError, match="the command failed"):
            async with pint_platform(argparse.Namespace(config=config, adapter=None)) as found:
                assert await found.refresh_keys()  # opened a session (the fetch failed)
                raise LookupError("the command failed")
        del found
        gc.collect()
    assert [str(w.message) for w in caught if "Unclosed" in str(w.message)] == []


async def test_a_configuration_without_the_pint_table_says_what_to_add(
    home: PlatformHome, tmp_path: Path
) -> None:
    """A newcomer running ``lingang ebl issue`` with the local configuration (no PINT
    adapter) is told which file lacks what, not asked to pick one of none with --adapter."""
    from gateway.cli._pint import pint_platform
    from gateway.errors import ConfigError

    config = tmp_path / "local.toml"
    config.write_text(f'data_dir = "{tmp_path}"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as none:
        async with pint_platform(argparse.Namespace(config=config, adapter=None)):
            pass
    assert f"the configuration {config} has no [adapters.NAME] table" in str(none.value)
    assert 'type = "dcsa_pint"' in str(none.value) and "deploy/lingang.toml" in str(none.value)
    with pytest.raises(ConfigError) as wrong:
        async with pint_platform(argparse.Namespace(config=home.config, adapter="pnit")):
            pass
    assert "--adapter pnit" in str(wrong.value) and "(it has pint)" in str(wrong.value)


def test_list_shows_state_possessor_and_what_may_be_transferred(
    home: PlatformHome, reference: Path, tmp_path: Path
) -> None:
    td = tmp_path / "td.json"
    td.write_text(json.dumps(transport_document(reference, "CLILIST001")))
    assert lingang(home, "issue", str(td), "--to", "AEOT:SHIPPER").returncode == 0
    shown = lingang(home, "list", "--state", "held")
    assert shown.returncode == 0, shown.stderr
    assert (
        "CLILIST001  held        possessor AEOT:AEOT/SHIPPER (may be transferred)" in shown.stdout
    )
    listed = json.loads(lingang(home, "list", "--json", "--limit", "1").stdout)
    assert [i["transportDocumentReference"] for i in listed] == ["CLILIST001"]
    refused = lingang(home, "list", "--limit", "0")
    assert refused.returncode == 2 and "at least 1" in refused.stderr


@pytest.mark.parametrize("command", [["list"], ["history", "CLIREF01"]], ids=" ".join)
def test_the_reading_commands_refuse_a_store_that_is_not_there(
    home: PlatformHome, tmp_path: Path, command: list[str]
) -> None:
    """``ebl list`` and ``ebl history`` only read: a mistyped store path is named (exit 2),
    not made empty and answered "no eBLs" about, as the other reading commands do."""
    missing = tmp_path / "typo" / "gateway.db"
    config = tmp_path / "lingang.toml"
    text = home.config.read_text()
    config.write_text(
        text.replace(f'"sqlite:///{home.home / "gateway.db"}"', f'"sqlite:///{missing}"')
    )
    assert f"sqlite:///{missing}" in config.read_text()
    done = subprocess.run([sys.executable, "-m", "gateway", "ebl", *command, "--config", str(config)],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert f"no store at {missing}" in done.stderr
    assert not missing.parent.exists()

"""What ``lingang COMMAND --help`` says besides the options: what the command reads and
writes, and examples to copy.

A first-time user reads ``--help`` before the README; before this table, most commands' help
was their option list alone. The examples use the README's file names and the partner
directory and samples of a checkout. :func:`explain` adds them to the parser tree
:func:`gateway.cli.build_parser` made, so every command module keeps only its options; a
test walks the tree and wants an example for every command and action.
"""

from __future__ import annotations

import argparse

TOP_EPILOG = """\
data home: every command keeps its data (official artefacts, the SQLite store, keys,
delivered files) in $LINGANG_HOME, else ~/.lingang; serve, worker and the store commands
read lingang.toml from --config or $LINGANG_CONFIG.
exit codes: 0 success, 1 the input was rejected (or has fatal findings, or a store or
server could not be used), 2 a usage error (a bad option, a file that is not there).

examples:
  lingang artefacts import ../shared/reference
  lingang convert fapiao.xml --to pint-sg --partners partners.toml -o invoice.xml
  lingang serve --config deploy/local.toml
  lingang COMMAND --help"""

HELP: dict[tuple[str, ...], tuple[str | None, tuple[str, ...]]] = {
    ("artefacts",): (
        "The official XSD and Schematron files validation needs, installed into "
        "$LINGANG_HOME/artefacts (or [pipeline] artefacts) from schemas/artefacts.json's "
        "pinned list, every file's sha256 checked.",
        ("lingang artefacts import ../shared/reference", "lingang artefacts list"),
    ),
    ("artefacts", "import"): (
        "Copy the pinned artefact sets from an offline mirror (a folder laid out like "
        "../shared/reference) into the data home; a file whose sha256 differs is refused.",
        (
            "lingang artefacts import ../shared/reference",
            "lingang artefacts import ../shared/reference --set ubl-2.1 --set pint-sg",
        ),
    ),
    ("artefacts", "sync"): (
        "Download the pinned artefact sets from their source URLs (or an HTTP mirror) into "
        "the data home, every file's sha256 checked.",
        ("lingang artefacts sync", "lingang artefacts sync --set pint-sg --timeout 60"),
    ),
    ("artefacts", "list"): (
        "Show each pinned set and version, whether it is installed in the data home and "
        "whether its files still match their sha256.",
        ("lingang artefacts list", "lingang artefacts list --json"),
    ),
    ("bench",): (None, ("lingang bench", "lingang bench e2e --docs 1000")),
    ("convert",): (
        "Read fapiao (数电票 XML, OFD, platform JSON), take the buyer's endpoint, country and "
        "currency from the partner directory, and write the Peppol / CII document, validated "
        "with the official rules; nothing is written for a fapiao that fails. Many files or a "
        "folder are a batch: one <name>.xml per file in --out-dir and a summary.",
        (
            "lingang convert fapiao.xml --partners partners.toml -o invoice.xml",
            "lingang convert fapiao.xml --to bis3 --partners partners.toml "
            "--meta exchange_rate=7.1 -o invoice.xml",
            "lingang convert fapiao/ --partners partners.toml --out-dir out/ --report report.json",
        ),
    ),
    ("demo",): (None, ("lingang demo", "lingang demo --keep")),
    ("ebl",): (
        "Electronic bills of lading: check and convert files here; issue, transfer and list "
        "them on this platform's eBL registry (the [adapters.NAME] table of type dcsa_pint "
        "in lingang.toml).",
        ("lingang ebl validate td.json", "lingang ebl history LGTD0001"),
    ),
    ("ebl", "convert"): (
        "Read a DCSA eBL JSON or UBL BillOfLading and write it as DCSA JSON, UBL "
        "BillOfLading, UN/CEFACT D23B JSON or a TradeTrust document (stdout or -o).",
        (
            "lingang ebl convert td.json --to ubl -o bl.xml",
            "lingang ebl convert bl.xml --to dcsa -o td.json",
        ),
    ),
    ("ebl", "history"): (None, ("lingang ebl history LGTD0001",)),
    ("ebl", "issue"): (
        None,
        (
            "lingang ebl issue td.json --to IQAX:HK-TRADER --document invoice.pdf "
            "--visualisation bl.pdf",
        ),
    ),
    ("ebl", "list"): (None, ("lingang ebl list", "lingang ebl list --state held")),
    ("ebl", "transfer"): (
        None,
        (
            "lingang ebl transfer LGTD0001 --to SGTD:SG-IMPORTER",
            "lingang ebl transfer LGTD0001 --to SGTD:SG-IMPORTER --action ENDORSE",
            "lingang ebl transfer LGTD0001 --action SACC",
        ),
    ),
    ("ebl", "validate"): (
        "Check a DCSA eBL JSON against the official schema, or a UBL BillOfLading against "
        "its XSD, and both against the eBL rules; prints the findings (exit 1 on a fatal "
        "one).",
        ("lingang ebl validate td.json", "lingang ebl validate bl.xml --json"),
    ),
    ("keys",): (
        "Make keys and certificates for trying the gateway: a throw-away signing PKI, or a "
        "W3C VC issuer's key and DID document. Nothing here is fit for production.",
        ("lingang keys test-pki pki/",),
    ),
    ("keys", "test-pki"): (
        "Write a throw-away PKI into DIRECTORY: root and intermediate CAs, RSA and EC "
        "signers (PEM and a PKCS#12 file, whose password is printed), a revoked and an "
        "expired signer, an OCSP responder and CRLs.",
        ("lingang keys test-pki pki/", 'lingang keys test-pki "$LINGANG_HOME/pki"'),
    ),
    ("keys", "did-web"): (
        "Write a P-256 issuer key and the did.json a TradeTrust verifier fetches from "
        "https://DOMAIN/.well-known/did.json (or under --path) into DIRECTORY.",
        ("lingang keys did-web carrier.example vc-keys/",),
    ),
    ("backup",): (
        None,
        (
            "lingang backup /var/backups/lingang/gateway-2026-12-06.db",
            "lingang backup gateway-copy.db --config lingang.toml",
        ),
    ),
    ("idempotency",): (
        "The idempotency keys clients send with their requests: how long the gateway "
        "remembers them ([limits] idempotency_hours). Reads the store of --database, else of "
        "lingang.toml, else $LINGANG_HOME/gateway.db.",
        ("lingang idempotency expire", "lingang idempotency expire --hours 24"),
    ),
    ("idempotency", "expire"): (
        None,
        (
            "lingang idempotency expire",
            "lingang idempotency expire --hours 336 --config lingang.toml",
        ),
    ),
    ("ledger",): (
        "The export ledger the cross-border data gate writes: verify its hash chain, sign "
        "its head, report a year's exports. Reads the store of --database, else of "
        "lingang.toml, else $LINGANG_HOME/gateway.db.",
        ("lingang ledger verify", "lingang ledger report --year 2026 --format csv"),
    ),
    ("ledger", "checkpoint"): (None, ("lingang ledger checkpoint --config lingang.toml",)),
    ("ledger", "report"): (
        None,
        (
            "lingang ledger report --year 2026",
            'lingang ledger report --year 2026 --tenant "Acme Exports" --format csv',
        ),
    ),
    ("ledger", "verify"): (
        None,
        ("lingang ledger verify", "lingang ledger verify --cert pki/signer-ec.pem --json"),
    ),
    ("migrate",): (
        None,
        ("lingang migrate", "lingang migrate --database postgresql://lingang@db/lingang"),
    ),
    ("prune",): (
        None,
        (
            "lingang prune --dry-run",
            "lingang prune --config lingang.toml",
            "lingang prune --documents-days 1825 --receipts-days 3650 --dry-run",
        ),
    ),
    ("restore",): (
        None,
        ("lingang restore /var/backups/lingang/gateway-2026-12-06.db",),
    ),
    ("parse",): (
        "Read one fapiao (数电票 XML, 数电 OFD, legacy OFD, 乐企 or Nuonuo JSON) and print the "
        "canonical invoice as JSON on stdout; warnings go to stderr. Needs no partner "
        "directory and no artefacts.",
        ("lingang parse fapiao.xml", "lingang parse fapiao.ofd > invoice.json"),
    ),
    ("partners",): (
        None,
        (
            "lingang partners check partners.toml",
            'lingang partners import partners.toml --tenant "Acme Exports"',
        ),
    ),
    ("partners", "check"): (
        "Read a directory file (TOML, or JSON for .json) and check every entry as the "
        "gateway would; prints the counts, or each problem with its entry and key (exit 1).",
        ("lingang partners check partners.toml",),
    ),
    ("partners", "import"): (
        "Replace the tenant's whole partner directory in the store with the file's "
        "entries, checked first (the same as PUT /v1/partners).",
        ('lingang partners import partners.toml --tenant "Acme Exports"',),
    ),
    ("partners", "show"): (
        "Print the tenant's stored partner directory as JSON on stdout.",
        ('lingang partners show --tenant "Acme Exports" > partners.json',),
    ),
    ("peppol",): (
        "Peppol from the command line: find a participant's access point (SML, SMP), send "
        "one document over AS4, and build or send a month's TSR and EUSR reports.",
        ("lingang peppol lookup 0195:SGUEN201612345D --config lingang.toml",),
    ),
    ("peppol", "lookup"): (
        "Ask the SML (DNS U-NAPTR) for the participant's SMP, read its signed service "
        "metadata and print the AS4 endpoint, transport profile and certificate.",
        (
            "lingang peppol lookup 0195:SGUEN201612345D --config lingang.toml",
            "lingang peppol lookup 0195:SGUEN201612345D --config lingang.toml --json",
        ),
    ),
    ("peppol", "send"): (
        "Send one document (a UBL or CII invoice, or a fapiao converted with --partners) "
        "to the receiver's access point over AS4, signed and encrypted with the [peppol] "
        "keys; prints the MessageId and the verified receipt.",
        (
            "lingang peppol send invoice.xml --receiver 0195:SGUEN201612345D --config lingang.toml",
            "lingang peppol send fapiao.xml --receiver 0195:SGUEN201612345D "
            "--partners partners.toml --config lingang.toml",
        ),
    ),
    ("peppol", "report"): (
        None,
        (
            "lingang peppol report --month 2026-11 -o reports/",
            "lingang peppol report --month 2026-11 --send --config lingang.toml",
        ),
    ),
    ("policy",): (
        "The cross-border data gate: check a policy file, list the documents it holds, "
        "release one on a recorded legal basis or refuse it.",
        ("lingang policy check policy.toml", "lingang policy holds"),
    ),
    ("policy", "check"): (None, ("lingang policy check policy.toml", "lingang policy check")),
    ("policy", "holds"): (None, ("lingang policy holds", "lingang policy holds --json")),
    ("policy", "refuse"): (
        None,
        ('lingang policy refuse ID --reason "no filing for this buyer" --officer "Li Wei"',),
    ),
    ("policy", "release"): (
        None,
        ('lingang policy release ID --basis "standard contract filed 2026-03" --officer "Li Wei"',),
    ),
    ("received",): (
        None,
        (
            'lingang received --tenant "Acme Exports"',
            "lingang received --unclaimed --status rejected",
        ),
    ),
    ("render",): (
        None,
        (
            "lingang render fapiao.xml -o fapiao.html",
            "lingang render fapiao.xml --signed invoice.xml --report checks.json "
            "--format pdf -o fapiao.pdf",
        ),
    ),
    ("retry",): (None, ("lingang retry --list", "lingang retry SUBMISSION_ID")),
    ("send",): (
        None,
        (
            "LINGANG_API_KEY=$KEY lingang send fapiao.xml --recipient 0195:SGUEN201612345D "
            "--wait 60",
            "lingang send --key-file key.txt --server https://gw.example:8443 "
            "--cacert ca.pem fapiao/*.xml",
            "lingang send fapiao.xml --resend --wait 60",
        ),
    ),
    ("serve",): (
        None,
        ("lingang serve --config deploy/local.toml", "lingang serve --port 8081 --no-worker"),
    ),
    ("sign",): (
        "Sign an XML document with a XAdES B-B signature, enveloped (inside "
        "UBLExtensions for UBL) or detached, and write the result to -o or stdout. A Peppol "
        "invoice is signed only detached: an enveloped signature would break "
        "PEPPOL-EN16931-R008 / ibr-079.",
        (
            "lingang sign invoice.xml --detached --key pki/signer-rsa.key.pem "
            "--cert pki/signer-rsa.pem --chain pki/chain.pem -o invoice.sig.xml",
            "lingang sign bl.xml --key pki/signer-rsa.p12 --password-env P12_PASSWORD "
            "-o bl.signed.xml",
            "LINGANG_SIGNING_PIN=... lingang sign invoice.xml --detached --pkcs11 "
            "/usr/lib/softhsm/libsofthsm2.so --token lingang --key-label gateway "
            "--cert gateway.pem -o invoice.sig.xml",
        ),
    ),
    ("tenants",): (
        None,
        ('lingang tenants create "Acme Exports"', "lingang tenants list"),
    ),
    ("tenants", "create"): (
        "Create a tenant in the store (made if there is none yet) and print its first API "
        "key, once: only its SHA-256 is kept.",
        ('lingang tenants create "Acme Exports"',),
    ),
    ("tenants", "list"): (
        "List the tenants with their ids and every API key's id, role, label and state.",
        ("lingang tenants list", "lingang tenants list --json"),
    ),
    ("tenants", "add-key"): (
        None,
        ('lingang tenants add-key "Acme Exports" --role officer --label "Li Wei, compliance"',),
    ),
    ("tenants", "rotate-key"): (
        "Issue a new API key for the tenant and print it once; --revoke ends old keys by "
        "their id (see lingang tenants list).",
        ('lingang tenants rotate-key "Acme Exports" --revoke KEY_ID',),
    ),
    ("validate",): (
        "Check UBL or CII documents with the official XSD and Schematron of their profile "
        "(detected, or --profile) and print the findings; a folder or several files are a "
        "batch with a summary. Exit 1 when a document has a fatal finding.",
        (
            "lingang validate invoice.xml",
            "lingang validate invoice.xml --profile pint-sg --json",
            "lingang validate out/ --report checks.json",
        ),
    ),
    ("verify",): (
        "Verify a XAdES signature (enveloped or detached) against the trusted CA "
        "certificates: the signed data, the signing certificate's path and its revocation "
        "(OCSP, then the CRLs). Exit 1 when it does not verify.",
        (
            "lingang verify invoice.sig.xml --data invoice.xml --trust pki/root.pem "
            "--crl pki/intermediate.crl.pem --crl pki/root.crl.pem",
            "lingang verify bl.signed.xml --trust pki/root.pem --no-revocation",
        ),
    ),
    ("worker",): (
        None,
        (
            "lingang worker --config lingang.toml --count 2",
            "lingang worker --ops-listen 127.0.0.1:9464",
        ),
    ),
}
"""Per command path: a description for a command that has none of its own, and examples."""


class ExamplesFormatter(argparse.HelpFormatter):
    """Fills a description as argparse does; keeps text written in lines (the examples, a
    description laid out by hand) as it is written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "\n".join(indent + line for line in text.splitlines())
        return super()._fill_text(text, width, indent)


def examples_epilog(lines: tuple[str, ...]) -> str:
    """The ``examples:`` block of a command's help."""
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def command_parsers(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every (command path, parser) under ``parser``, itself first."""
    found = [(path, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found += command_parsers(child, (*path, name))
    return found


def explain(parser: argparse.ArgumentParser) -> None:
    """Give the ``lingang`` parser tree its epilogs and missing descriptions from
    :data:`HELP`."""
    parser.epilog = TOP_EPILOG
    parser.formatter_class = ExamplesFormatter
    for path, child in command_parsers(parser)[1:]:
        entry = HELP.get(path)
        if entry is None:
            continue
        description, lines = entry
        if child.description is None and description is not None:
            child.description = description
        child.epilog = examples_epilog(lines)
        if child.formatter_class is argparse.HelpFormatter:
            child.formatter_class = ExamplesFormatter

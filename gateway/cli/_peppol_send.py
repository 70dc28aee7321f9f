"""``lingang peppol send FILE --receiver SCHEME:ID [--endpoint URL --receiver-cert PEM]``.

Sends one document over Peppol AS4 and prints the verified receipt (``--json``: the whole send
report — lookup, message id, timings, receipt or typed error). A UBL invoice or credit note is
validated (PINT SG, BIS 3 …, from its CustomizationID) and sent as it is, and so is a Peppol
BIS 3 CII invoice (``CrossIndustryInvoice`` whose guideline is BIS 3's); a fapiao is first
converted with ``--partners`` (to ``--to``, default PINT SG) and validated. ``--endpoint`` with
``--receiver-cert`` bypasses discovery. Every send writes its report to ``--report`` when
given.

Exit codes: 0 delivered (receipt verified), 1 refused (input, validation, a final error),
3 a failure a retry with the same ``--message-id`` may get past, 2 usage or configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from pathlib import Path

from cryptography import x509

from adapters.peppol.identifiers import ParticipantId
from adapters.peppol.sender import As4Sender, SendReport
from adapters.peppol.smp import Endpoint
from gateway.cli._peppol import add_peppol_arguments, sender_from
from gateway.errors import ConfigError, DeliveryError, InputError, LingangError
from gateway.validation.profiles import CII, detect_profile
from gateway.xmlsafe import parse_xml

RETRY_LATER = 3
UBL_ROOTS = {
    "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice",
    "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote",
}
CII_ROOT = f"{{{CII}}}CrossIndustryInvoice"
PEPPOL_TARGETS = ("pint-sg", "pint", "bis3", "bis3-cii")
"""The profiles a fapiao can be converted to for Peppol (those with a Peppol document type)."""


def register(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``peppol send``."""
    parser = actions.add_parser("send", help="send one document over Peppol AS4")
    parser.add_argument(
        "file", type=Path, help="UBL invoice / credit note, BIS 3 CII invoice, or a fapiao"
    )
    parser.add_argument(
        "--receiver",
        required=True,
        help="receiving participant, ICD:VALUE (of a Peppol invoice or credit note: its buyer, "
        "self-billed: its seller)",
    )
    parser.add_argument(
        "--sender",
        help="sending participant (default, and for a Peppol invoice or credit note the only "
        "one allowed: the document's seller, self-billed: its buyer)",
    )
    parser.add_argument("--endpoint", help="AS4 endpoint URL (bypasses discovery)")
    parser.add_argument("--receiver-cert", type=Path, help="the receiving AP's certificate (PEM)")
    parser.add_argument(
        "--message-id", help="transport message id (default: a new one; reuse it to retry)"
    )
    parser.add_argument("--partners", type=Path, help="partner directory, to convert a fapiao")
    parser.add_argument(
        "--to",
        choices=PEPPOL_TARGETS,
        default="pint-sg",
        help="the profile a fapiao is converted to (default pint-sg)",
    )
    parser.add_argument("--report", type=Path, help="also write the send report (JSON) here")
    parser.add_argument(
        "--no-validate", action="store_true", help="skip validation of a UBL or CII input"
    )
    add_peppol_arguments(parser)
    parser.set_defaults(handler=_send)


def _document(args: argparse.Namespace) -> tuple[bytes, str]:
    """The UBL or CII document to send and its profile (converting a fapiao)."""
    from gateway.cli._validator import one_shot_validator
    from gateway.settings import Settings

    data = args.file.read_bytes()
    try:
        root = parse_xml(data, what=str(args.file))
        is_ubl = root.tag in UBL_ROOTS
        is_cii = root.tag == CII_ROOT
    except InputError:
        is_ubl = is_cii = False
    profile = ""
    if is_cii:
        profile = detect_profile(root)
        if profile != "bis3-cii":
            raise InputError(
                "the CII invoice is not Peppol BIS 3 CII (its guideline, BT-24, is not "
                "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0): "
                "Peppol has no document type for it",
                field="rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID",
                rule="peppol.doctype-from-document",
            )
        document = data
    elif is_ubl:
        customization = (
            root.findtext(
                "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}CustomizationID"
            )
            or ""
        )
        profile = (
            "pint-sg"
            if "@sg-1" in customization
            else ("pint" if ":pint:" in customization else "bis3")
        )
        document = data
    else:
        if args.partners is None:
            raise InputError(
                "the input is not a UBL invoice or credit note nor a BIS 3 CII invoice; to "
                "send a fapiao give --partners",
                field="file",
            )
        from gateway.convert import convert
        from gateway.partners import PartnerDirectory

        converted = convert(data, args.to, PartnerDirectory.load(args.partners))
        document, profile = converted.xml, converted.profile
    if not args.no_validate or not (is_ubl or is_cii):
        report = one_shot_validator(Settings.load(args.config)).validate(document, profile)
        fatal = [f for f in report.findings if f.flag == "fatal"]
        if fatal:
            first = fatal[0]
            raise InputError(
                f"the document is not valid {profile}: {len(fatal)} fatal finding(s), first {first.rule_id}: {first.text}",
                rule=first.rule_id,
            )
    return document, profile


def _send(args: argparse.Namespace) -> int:
    if (args.endpoint is None) != (args.receiver_cert is None):
        print("lingang peppol send: --endpoint and --receiver-cert go together", file=sys.stderr)
        return 2
    try:
        receiver = ParticipantId.parse(args.receiver, field="--receiver")
        sender_id = ParticipantId.parse(args.sender, field="--sender") if args.sender else None
        endpoint = None
        if args.endpoint:
            if not args.endpoint.startswith("https://"):
                raise InputError("--endpoint must be an https:// URL", field="--endpoint")
            endpoint = Endpoint(
                url=args.endpoint,
                certificate=x509.load_pem_x509_certificate(args.receiver_cert.read_bytes()),
                source="command line",
            )
        sender = sender_from(args)
    except (InputError, ConfigError) as exc:
        print(f"lingang peppol send: {exc}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:
        print(f"lingang peppol send: cannot read {args.receiver_cert}: {exc}", file=sys.stderr)
        return 2
    try:
        document, profile = _document(args)
    except OSError as exc:
        print(f"lingang peppol send: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    except LingangError as exc:
        print(f"lingang peppol send: {exc}", file=sys.stderr)
        return 1
    if endpoint is not None and sender.ap_trust is not None:
        try:
            sender.ap_trust.check(endpoint.certificate)
        except LingangError as exc:
            print(f"lingang peppol send: --receiver-cert: {exc}", file=sys.stderr)
            return 1
    message_id = args.message_id or f"{uuid.uuid4()}@lingang"
    report = SendReport(message_id)
    code = asyncio.run(_deliver(sender, document, profile, receiver, sender_id, endpoint, report))
    text = json.dumps(report.as_dict(), indent=2)
    if args.report:
        args.report.write_text(text + "\n", "utf-8")
    if args.json:
        print(text)
    elif code == 0 and report.receipt:
        print(
            f"delivered {message_id} to {receiver} via {report.lookup.get('endpoint', {}).get('url', '')}"
        )
        print(
            f"receipt   {report.receipt['message_id']} signed by {report.receipt['signer']} (verified)"
        )
    else:
        error = report.error or {}
        kind = "retry later with --message-id " + message_id if code == RETRY_LATER else "final"
        print(
            f"lingang peppol send: {error.get('rule') or error.get('code')} ({kind}): {error.get('message')}",
            file=sys.stderr,
        )
    return code


async def _deliver(
    sender: As4Sender,
    document: bytes,
    profile: str,
    receiver: ParticipantId,
    sender_id: ParticipantId | None,
    endpoint: Endpoint | None,
    report: SendReport,
) -> int:
    try:
        sent = await sender.send(
            document,
            message_id=report.message_id,
            receiver=receiver,
            sender=sender_id,
            endpoint=endpoint,
            report=report,
            profile=profile,
        )
    except DeliveryError as exc:
        return RETRY_LATER if exc.retryable else 1
    finally:
        await sender.aclose()
    sender.forget_built(report.message_id, sent)
    return 0

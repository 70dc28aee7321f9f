"""``lingang peppol report --month YYYY-MM [--send] [-o DIR]``: the month's Peppol reports.

Builds the Transaction Statistics Report and the End User Statistics Report of the month from
the reporting records in the store, checks both with the official XSD and Schematron, writes
them to ``DIR`` (default: the current folder) as ``peppol-tsr-YYYY-MM.xml`` and
``peppol-eusr-YYYY-MM.xml``, and with ``--send`` queues them for delivery to
``[peppol] report_receiver`` through the ordinary delivery path (the adapter ``[routing]``
gives that receiver; a running ``lingang serve`` or ``lingang worker`` delivers them). Sending
a month twice sends nothing new; a month that is not over (in UTC) is not sent.

Exit codes: 0 done, 1 a report breaks an official rule or the configuration lacks the seat id,
2 usage (a bad month, ``--send`` for a month not over yet, an output folder that does not
exist).
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
from pathlib import Path

from gateway.cli._io import UsageError
from gateway.errors import ConfigError, FieldError
from gateway.render.peppol_reports import ReportPeriod
from gateway.settings import Settings


def register(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``lingang peppol report``."""
    parser = actions.add_parser(
        "report",
        help="build, check and (with --send) send a month's Peppol TSR and EUSR",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    parser.add_argument("--month", required=True, type=_month, help="the month, YYYY-MM")
    parser.add_argument("--send", action="store_true", help="queue both reports for delivery")
    parser.add_argument("-o", "--out-dir", type=Path, default=Path("."), help="where to write")
    parser.add_argument("--config", type=Path, help="lingang.toml (default: $LINGANG_CONFIG)")
    parser.add_argument("--database", metavar="URL", help="override [store].url")
    parser.set_defaults(handler=run)


def _month(text: str) -> ReportPeriod:
    try:
        return ReportPeriod.of_month(text)
    except FieldError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    """Build, check, write and optionally send the month's reports."""
    if args.out_dir.exists() and not args.out_dir.is_dir():
        raise UsageError(f"-o {args.out_dir}: not a folder")
    settings = Settings.load(args.config)
    if args.database:
        settings = settings.with_section("store", url=args.database)
    if not settings.peppol.seat_id:
        raise ConfigError(
            "[peppol] seat_id is not set (our Peppol seat id, PXX000000)", field="peppol.seat_id"
        )
    if args.send:
        from gateway.delivery.peppol_reports import check_month_over

        try:
            check_month_over(args.month, datetime.now(UTC))
        except FieldError as exc:
            raise UsageError(f"--send: {exc.message}") from None
    return asyncio.run(_report(settings, args.month, args.out_dir, send=args.send))


async def _report(settings: Settings, period: ReportPeriod, out_dir: Path, *, send: bool) -> int:
    from gateway.cli._stores import open_command_store
    from gateway.delivery.peppol_reports import (
        build_month_reports,
        reporting_sender,
        submit_month_reports,
    )
    from gateway.validation import one_shot_validator

    validator = one_shot_validator(settings.artefacts_home, settings.validation)
    store = await open_command_store(settings.store.url)
    try:
        reports = await build_month_reports(store, validator, settings.peppol.seat_id, period)
        out_dir.mkdir(parents=True, exist_ok=True)
        for kind, xml in (("tsr", reports.tsr), ("eusr", reports.eusr)):
            target = out_dir / f"peppol-{kind}-{period.label}.xml"
            target.write_bytes(xml)
            print(f"{kind.upper()} {period.label}: valid, written to {target}")
        print(f"{reports.transmissions} transmissions counted")
        if send:
            tsr, eusr = await submit_month_reports(
                store,
                reports,
                tenant_id=settings.peppol.report_tenant,
                receiver=settings.peppol.report_receiver,
                sender=reporting_sender(settings.peppol.seat_id),
            )
            for kind, submission in (("TSR", tsr), ("EUSR", eusr)):
                print(
                    f"{kind} queued for {settings.peppol.report_receiver}: submission "
                    f"{submission.id} ({submission.state})"
                )
    finally:
        await store.close()
    return 0

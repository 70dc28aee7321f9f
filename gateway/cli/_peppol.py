"""What ``lingang peppol lookup`` and ``peppol send`` share: the sender built from the
configuration's ``peppol`` adapter table, overridden by ``--key/--cert/--trust`` …"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from adapters.peppol.adapter import build_sender
from adapters.peppol.resend import BuiltMessages
from adapters.peppol.sender import As4Sender
from gateway.errors import ConfigError
from gateway.settings import Settings


def add_peppol_arguments(parser: argparse.ArgumentParser) -> None:
    """Options naming the AP's key, trust and discovery (each overrides the configuration)."""
    parser.add_argument("--config", type=Path, help="lingang.toml (default: $LINGANG_CONFIG)")
    parser.add_argument("--adapter", help="the [adapters.NAME] table of type peppol to use")
    parser.add_argument("--key", type=Path, help="our AP's private key (PEM, RSA)")
    parser.add_argument("--cert", type=Path, help="our AP's certificate (PEM)")
    parser.add_argument("--trust", type=Path, action="append", help="AP CA certificate(s)")
    parser.add_argument(
        "--smp-trust",
        type=Path,
        action="append",
        help="SMP CA certificate(s); never taken from --trust (an AP certificate must not sign "
        "SMP answers)",
    )
    parser.add_argument("--sml-zone", help="production, test or a DNS zone")
    parser.add_argument("--nameserver", action="append", help="DNS server (host or host:port)")
    parser.add_argument("--tls-ca", type=Path, help="CA bundle for TLS to SMPs and APs")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def sender_from(args: argparse.Namespace) -> As4Sender:
    """The sender the configuration and the options describe; :class:`ConfigError` else. It
    keeps what it builds until the receipt, where the adapter does (``<data>/peppol/built``):
    a send retried with the same ``--message-id`` after a lost answer sends the very message
    the receiving AP may have stored, so the receipt it answers again verifies."""
    settings = Settings.load(args.config)
    options: dict[str, Any] = {}
    name = args.adapter or "peppol"
    tables = {n: c for n, c in settings.adapters.items() if c.type == "peppol"}
    if args.adapter and args.adapter not in tables:
        raise ConfigError(f"no [adapters.{args.adapter}] table of type peppol in the configuration")
    if tables:
        name = args.adapter or next(iter(tables))
        options.update(tables[name].options)
    overrides = {
        "key": _given(args.key) if args.key else None,
        "cert": _given(args.cert) if args.cert else None,
        "ap_trust": [_given(p) for p in args.trust] if args.trust else None,
        "smp_trust": [_given(p) for p in args.smp_trust] if args.smp_trust else None,
        "sml_zone": args.sml_zone,
        "sml_nameservers": list(args.nameserver) if args.nameserver else None,
        "tls_ca": _given(args.tls_ca) if args.tls_ca else None,
    }
    options.update({k: v for k, v in overrides.items() if v is not None})
    options.pop("type", None)
    sender = build_sender(name, options, settings.data_dir)
    sender.built = BuiltMessages(settings.data_dir / "peppol" / "built")
    return sender


def _given(path: Path) -> str:
    """A path given on the command line, from the current folder.

    The adapter reads a relative path of its configuration table from the data home; a file
    named on the command line is the one the user sees where they type it.
    """
    return str(path.absolute())

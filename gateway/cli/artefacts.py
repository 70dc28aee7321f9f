"""``lingang artefacts import|sync|list``: install and inspect the official artefacts."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from gateway.artefacts import import_mirror, load_manifest, status, sync
from gateway.cli._io import UsageError
from gateway.private_files import private_dir
from gateway.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``artefacts`` command and its three actions."""
    parser = sub.add_parser("artefacts", help="install and check official validation artefacts")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    imp = actions.add_parser("import", help="install from an offline mirror (checks every sha256)")
    imp.add_argument("mirror", type=Path, help="folder laid out like ../shared/reference")
    imp.add_argument("--set", action="append", dest="sets", help="only this set (repeatable)")
    imp.set_defaults(handler=_import)

    syn = actions.add_parser("sync", help="download from the manifest's source URLs")
    syn.add_argument("--set", action="append", dest="sets", help="only this set (repeatable)")
    syn.add_argument("--mirror-url", help="HTTP mirror laid out like ../shared/reference")
    syn.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    syn.set_defaults(handler=_sync)

    lst = actions.add_parser("list", help="show each set, version, installed?, integrity ok?")
    lst.add_argument("--json", action="store_true", help="print JSON")
    lst.set_defaults(handler=_list)


def _home() -> Path:
    """Where the artefacts go: ``[pipeline] artefacts`` of ``$LINGANG_CONFIG``, else the data
    directory (``$LINGANG_HOME``, else ``~/.lingang``)."""
    return Settings.load().artefacts_home


def _known_sets(names: list[str] | None) -> list[str] | None:
    """``--set`` values, each a set of the manifest (``name`` or ``name/version``): one that
    is none would install nothing and still report success."""
    if not names:
        return names
    sets = load_manifest().sets
    known = {s.name for s in sets} | {s.key for s in sets}
    for name in names:
        if name not in known:
            listed = ", ".join(dict.fromkeys(s.name for s in sets))
            raise UsageError(f"--set {name!r} is not an artefact set; the sets are {listed}")
    return names


def _import(args: argparse.Namespace) -> int:
    args.sets = _known_sets(args.sets)
    private_dir(_home())
    result = import_mirror(args.mirror, _home(), names=args.sets)
    print(f"artefacts import: {result.summary()}")
    return 0


def _sync(args: argparse.Namespace) -> int:
    args.sets = _known_sets(args.sets)
    private_dir(_home())
    result = sync(_home(), names=args.sets, mirror_url=args.mirror_url, timeout=args.timeout)
    print(f"artefacts sync: {result.summary()}")
    return 0


def _list(args: argparse.Namespace) -> int:
    rows = status(_home())
    if args.json:
        data = [
            {
                "set": s.aset.name,
                "version": s.aset.version,
                "installed": s.installed,
                "intact": s.intact,
                "missing": list(s.missing),
                "corrupt": list(s.corrupt),
                "path": str(s.root),
            }
            for s in rows
        ]
        print(json.dumps(data, indent=2))
    else:
        print(f"{'set':<18} {'version':<8} {'installed':<10} {'integrity':<10} files")
        for s in rows:
            integrity = "ok" if s.intact else ("-" if not s.installed else "CORRUPT")
            installed = "yes" if s.installed else f"no ({len(s.missing)} missing)"
            print(
                f"{s.aset.name:<18} {s.aset.version:<8} {installed:<10} {integrity:<10} "
                f"{len(s.aset.files)}"
            )
    return 0 if all(s.intact for s in rows) else 1

"""The JDK's XML-DSig implementation (JSR 105) as an independent verifier in tests.

:func:`compile_checker` compiles ``java/XmlDsigCheck.java`` once; :func:`jdk_verdict` runs it
on a signed document: ``"VALID"`` or ``"INVALID: ..."`` naming the signature value's and
each reference's result. Locally the tests skip without a JDK; CI installs one (tests/run.sh).
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.conftest import require_tool

SOURCE = Path(__file__).parent / "java" / "XmlDsigCheck.java"


def compile_checker(folder: Path) -> Path:
    """The folder holding the compiled checker."""
    javac = require_tool("javac")
    require_tool("java")
    subprocess.run([javac, "-d", str(folder), str(SOURCE)], check=True, timeout=300)
    return folder


def jdk_verdict(
    classes: Path,
    signed: bytes,
    signer: x509.Certificate,
    folder: Path,
    *,
    ids: Sequence[tuple[str, str]] = (("-", "Id"),),
    data: Mapping[str, bytes] | None = None,
) -> str:
    """What the JDK says of the first ``ds:Signature`` in ``signed`` with ``signer``'s key;
    ``ids`` are the (namespace or ``-``, local name) attributes that are IDs, ``data`` the
    octets of external references (a detached file, an AS4 attachment's ``cid:``)."""
    (folder / "signed.xml").write_bytes(signed)
    (folder / "signer.pem").write_bytes(signer.public_bytes(serialization.Encoding.PEM))
    args = [str(folder / "signed.xml"), str(folder / "signer.pem")]
    for namespace, local in ids:
        args += ["--id", namespace, local]
    for number, (uri, octets) in enumerate((data or {}).items()):
        (folder / f"data-{number}.bin").write_bytes(octets)
        args += ["--data", uri, str(folder / f"data-{number}.bin")]
    run = subprocess.run(
        ["java", "-cp", str(classes), "XmlDsigCheck", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if run.returncode not in (0, 1):
        raise AssertionError(f"XmlDsigCheck failed: {run.stderr}")
    return run.stdout.strip()

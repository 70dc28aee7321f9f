"""Read a received AS4 message from a spool file without loading it.

A receiving endpoint that writes a large request body to a file as it arrives (instead of
holding it in memory) hands the file here: it is memory-mapped, the MIME parts are views into
the mapping (:func:`adapters.peppol.mime.split_message`), and only the decrypted attachment
and its decompressed SBDH are allocated. The result is the same
:class:`adapters.peppol.as4.IncomingMessage` as :func:`adapters.peppol.as4.parse_user_message`
gives for bytes, with the same refusals.
"""

from __future__ import annotations

import mmap
import traceback
from collections.abc import Callable
from pathlib import Path

from cryptography import x509

from adapters.peppol import as4, wssec


def parse_user_message_file(
    content_type: str,
    path: Path,
    *,
    credentials: wssec.Credentials | None,
    check_signer: Callable[[x509.Certificate], object],
    max_payload: int = as4.MAX_DECOMPRESSED,
) -> as4.IncomingMessage:
    """:func:`adapters.peppol.as4.parse_user_message` over the body spooled in ``path``."""
    with path.open("rb") as handle:
        if path.stat().st_size == 0:
            return as4.parse_user_message(
                content_type,
                b"",
                credentials=credentials,
                check_signer=check_signer,
                max_payload=max_payload,
            )
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            try:
                return as4.parse_user_message(
                    content_type,
                    mapped,
                    credentials=credentials,
                    check_signer=check_signer,
                    max_payload=max_payload,
                )
            except BaseException as exc:
                _drop_views(exc)
                raise


def _drop_views(error: BaseException | None) -> None:
    """Clear the finished frames a refusal's tracebacks keep (they hold views into the
    mapping, which could not be closed while they live)."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if error.__traceback__ is not None:
            traceback.clear_frames(error.__traceback__)  # running frames are skipped
        error = error.__cause__ or error.__context__

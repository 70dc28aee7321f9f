"""Built AS4 messages kept until their receipt, so a retry resends the very same bytes.

A receiving AP that already stored a message answers a repeat of its MessageId with the
receipt it gave first; that receipt echoes the digests of the first message, which a rebuilt
message (new signature, new encryption) would not have. So the sender keeps each message it
built — body, Content-Type and the references it signed — under the MessageId and the
receiving AP's certificate, and sends it again as it is on every retry to that AP.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from adapters.peppol.as4 import OutgoingMessage
from adapters.peppol.xmldsig import SignedReference
from gateway.private_files import private_dir, replace_private


@dataclass(frozen=True, slots=True)
class BuiltMessages:
    """The folder of kept messages (``<sha256 of message id and AP certificate>.msg`` with a
    ``.json`` beside it)."""

    folder: Path

    def _stem(self, message_id: str, receiver: x509.Certificate) -> Path:
        key = f"{message_id}\n{receiver.fingerprint(hashes.SHA256()).hex()}"
        return self.folder / hashlib.sha256(key.encode()).hexdigest()

    def get(self, message_id: str, receiver: x509.Certificate) -> OutgoingMessage | None:
        """The message built before for this id and AP, if one was kept whole."""
        stem = self._stem(message_id, receiver)
        try:
            meta = json.loads(stem.with_suffix(".json").read_text("utf-8"))
            body = stem.with_suffix(".msg").read_bytes()
        except (OSError, ValueError):
            return None
        if hashlib.sha256(body).hexdigest() != meta.get("sha256"):
            return None
        return OutgoingMessage(
            message_id,
            body,
            str(meta["content_type"]),
            tuple(SignedReference(uri, digest) for uri, digest in meta["references"]),
        )

    def keep(self, message: OutgoingMessage, receiver: x509.Certificate) -> None:
        """Keep ``message`` (the body first: the ``.json`` makes it usable), each file
        written atomically and on disk before the message is sent: the AP may store it
        and the power go before its receipt is kept."""
        private_dir(self.folder)
        stem = self._stem(message.message_id, receiver)
        replace_private(stem.with_suffix(".msg"), message.body)
        meta = {
            "content_type": message.content_type,
            "references": [[r.uri, r.digest] for r in message.signed_references],
            "sha256": hashlib.sha256(message.body).hexdigest(),
        }
        replace_private(stem.with_suffix(".json"), json.dumps(meta).encode())

    def forget(self, message_id: str, receiver: x509.Certificate) -> None:
        """Drop a message once its receipt is kept."""
        stem = self._stem(message_id, receiver)
        for suffix in (".json", ".msg"):
            stem.with_suffix(suffix).unlink(missing_ok=True)

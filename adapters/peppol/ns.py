"""Namespaces and algorithm URIs of the Peppol AS4 profile (CEF eDelivery AS4 1.14)."""

from __future__ import annotations

from functools import lru_cache

from lxml import etree

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
EB = "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/"
EBBP = "http://docs.oasis-open.org/ebxml-bp/ebbp-signals-2.0"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSSE11 = "http://docs.oasis-open.org/wss/oasis-wss-wssecurity-secext-1.1.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DS = "http://www.w3.org/2000/09/xmldsig#"
XENC = "http://www.w3.org/2001/04/xmlenc#"
XENC11 = "http://www.w3.org/2009/xmlenc11#"
EC = "http://www.w3.org/2001/10/xml-exc-c14n#"

NSMAP = {
    "S12": SOAP12,
    "eb": EB,
    "ebbp": EBBP,
    "wsse": WSSE,
    "wsse11": WSSE11,
    "wsu": WSU,
    "ds": DS,
    "xenc": XENC,
    "xenc11": XENC11,
    "ec": EC,
}

EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
C14N_INCLUSIVE = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
RSA_SHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
SHA1 = "http://www.w3.org/2000/09/xmldsig#sha1"
RSA_OAEP = "http://www.w3.org/2009/xmlenc11#rsa-oaep"
MGF1_SHA256 = "http://www.w3.org/2009/xmlenc11#mgf1sha256"
AES128_GCM = "http://www.w3.org/2009/xmlenc11#aes128-gcm"
SWA = "http://docs.oasis-open.org/wss/oasis-wss-SwAProfile-1.1"
ATTACHMENT_SIGNATURE_TRANSFORM = SWA + "#Attachment-Content-Signature-Transform"
ATTACHMENT_CIPHERTEXT_TRANSFORM = SWA + "#Attachment-Ciphertext-Transform"
ATTACHMENT_CONTENT_ONLY = SWA + "#Attachment-Content-Only"
X509V3 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
BASE64_BINARY = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)
ENCRYPTED_KEY_TOKEN = (
    "http://docs.oasis-open.org/wss/oasis-wss-soap-message-security-1.1#EncryptedKey"
)

PEPPOL_AGREEMENT = "urn:fdc:peppol.eu:2017:agreements:tia:ap_provider"
PEPPOL_PARTY_TYPE = "urn:fdc:peppol.eu:2017:identifiers:ap"
ROLE_INITIATOR = EB + "initiator"
ROLE_RESPONDER = EB + "responder"
DEFAULT_MPC = EB + "defaultMPC"


def q(prefix: str, local: str) -> str:
    """Clark notation ``{namespace}local`` for a prefix of :data:`NSMAP`."""
    return f"{{{NSMAP[prefix]}}}{local}"


@lru_cache(maxsize=512)
def _steps(path: str) -> tuple[str, ...]:
    return tuple(q(*step.split(":", 1)) for step in path.split("/"))


def first(parent: etree._Element, path: str) -> etree._Element | None:
    """The first element at ``path`` (child steps ``prefix:local`` joined by ``/``) below
    ``parent``, in document order — what ``parent.find(path, NSMAP)`` finds, without
    compiling an ElementPath per call (the receiving path reads a few dozen per message)."""
    steps = _steps(path)
    if len(steps) == 1:
        return next(parent.iterchildren(steps[0]), None)
    return _descend(parent, steps, 0)


def first_text(parent: etree._Element, path: str) -> str:
    """The text of :func:`first` (``""`` when there is no such element or no text)."""
    found = first(parent, path)
    return (found.text or "") if found is not None else ""


def _descend(parent: etree._Element, steps: tuple[str, ...], at: int) -> etree._Element | None:
    for child in parent.iterchildren(steps[at]):
        if at + 1 == len(steps):
            return child
        found = _descend(child, steps, at + 1)
        if found is not None:
            return found
    return None

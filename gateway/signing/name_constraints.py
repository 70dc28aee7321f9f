"""Name constraints (RFC 5280 4.2.1.10, 6.1.3 (b)-(c)) over a certificate path.

A CA's nameConstraints bound the names of every certificate below it in the path: each name
of a form the CA constrains must lie within one of its permitted subtrees of that form (when
it lists any) and within none of its excluded ones. Checking every CA's constraints against
every certificate below it is the intersection RFC 5280 6.1.4 (g) builds step by step. A
self-issued intermediate certificate is skipped (6.1.3 (b)); the configured anchor's
constraints are applied too, as an operator who trusts a constrained root means them.

Forms processed, with RFC 5280's matching rules:

``dNSName``
    the name or any name made by adding labels on its left (``example.com`` covers
    ``example.com`` and ``www.example.com``, not ``badexample.com``); a leading period
    (``.example.com``) covers the subdomains only; case-insensitive.
``rfc822Name``
    a whole mailbox, every mailbox at a host (``example.com``), or at any host of a domain
    (``.example.com``); also applied to the subject's ``emailAddress`` attributes.
``directoryName``
    the subject (when not empty) and directory names of subjectAltName: the constraint's
    RDNs must begin the name, compared as RFC 5280 7.1 compares names.
``iPAddress``
    the address within the constraint's network.
``uniformResourceIdentifier``
    the URI's host, against a host or (leading period) a domain.

A constraint on any other form (otherName, registeredID, x400Address, ediPartyName) cannot be
processed: a certificate below it carrying a name of that form is refused, as 4.2.1.10 asks
("MUST either process the constraint or reject the certificate"); one without is unaffected.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.x509.oid import NameOID

from gateway.signing import names

FORMS: dict[type[x509.GeneralName], str] = {
    x509.DNSName: "dNSName",
    x509.RFC822Name: "rfc822Name",
    x509.DirectoryName: "directoryName",
    x509.IPAddress: "iPAddress",
    x509.UniformResourceIdentifier: "uniformResourceIdentifier",
    x509.OtherName: "otherName",
    x509.RegisteredID: "registeredID",
}
PROCESSED = frozenset(
    {"dNSName", "rfc822Name", "directoryName", "iPAddress", "uniformResourceIdentifier"}
)


def _form(name: x509.GeneralName) -> str:
    return FORMS.get(type(name), type(name).__name__)


def _shown(name: x509.GeneralName) -> str:
    value = name.value
    if isinstance(value, x509.Name):
        return f"{_form(name)} {value.rfc4514_string()!r}"
    return f"{_form(name)} {str(value)!r}"


def names_of(cert: x509.Certificate) -> list[x509.GeneralName]:
    """The names constraints apply to: the subject (when not empty) and its emailAddress
    attributes, and every subjectAltName."""
    found: list[x509.GeneralName] = []
    if len(cert.subject) > 0:
        found.append(x509.DirectoryName(cert.subject))
    for attribute in cert.subject.get_attributes_for_oid(NameOID.EMAIL_ADDRESS):
        found.append(x509.RFC822Name(str(attribute.value)))
    try:
        alternative = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return found
    found.extend(alternative.value)
    return found


def _dns_within(name: str, constraint: str) -> bool:
    name, constraint = name.lower().rstrip("."), constraint.lower().rstrip(".")
    if not constraint:
        return True
    if constraint.startswith("."):
        return name.endswith(constraint)
    return name == constraint or name.endswith("." + constraint)


def _mailbox_within(mailbox: str, constraint: str) -> bool:
    local, at, host = mailbox.rpartition("@")
    if not at:
        return False
    if "@" in constraint:
        wanted_local, _, wanted_host = constraint.rpartition("@")
        return local == wanted_local and host.lower() == wanted_host.lower()
    if constraint.startswith("."):
        return host.lower().endswith(constraint.lower())
    return host.lower() == constraint.lower()


def _host_within(host: str, constraint: str) -> bool:
    host, constraint = host.lower().rstrip("."), constraint.lower().rstrip(".")
    if constraint.startswith("."):
        return host.endswith(constraint)
    return host == constraint


def _directory_within(name: x509.Name, subtree: x509.Name) -> bool:
    prepared = names.from_der(name.public_bytes())
    prefix = names.from_der(subtree.public_bytes())
    return prepared[: len(prefix)] == prefix


def _within(name: x509.GeneralName, subtree: x509.GeneralName) -> bool | None:
    """Whether ``name`` lies within ``subtree`` (of the same form); ``None`` when that
    cannot be told (a form not processed, a URI without a host)."""
    match name, subtree:
        case x509.DNSName(), x509.DNSName():
            return _dns_within(name.value, subtree.value)
        case x509.RFC822Name(), x509.RFC822Name():
            return _mailbox_within(name.value, subtree.value)
        case x509.DirectoryName(), x509.DirectoryName():
            return _directory_within(name.value, subtree.value)
        case x509.IPAddress(), x509.IPAddress():
            address, network = name.value, subtree.value
            if not isinstance(network, ipaddress.IPv4Network | ipaddress.IPv6Network):
                return None
            return address.version == network.version and address in network
        case x509.UniformResourceIdentifier(), x509.UniformResourceIdentifier():
            host = urlsplit(name.value).hostname
            return None if not host else _host_within(host, subtree.value)
    return None


def violation(cert: x509.Certificate, constraints: x509.NameConstraints) -> str | None:
    """Why ``cert``'s names break ``constraints`` (a CA's), or ``None`` when they do not."""
    permitted = list(constraints.permitted_subtrees or ())
    excluded = list(constraints.excluded_subtrees or ())
    for name in names_of(cert):
        form = _form(name)
        allowed = [s for s in permitted if _form(s) == form]
        barred = [s for s in excluded if _form(s) == form]
        if not allowed and not barred:
            continue
        verdicts = [(s, _within(name, s)) for s in (*barred, *allowed)]
        if form not in PROCESSED or any(v is None for _, v in verdicts):
            return f"its {_shown(name)} is a name form the gateway cannot match against them"
        hit = next((s for s, v in verdicts if v and s in barred), None)
        if hit is not None:
            return f"its {_shown(name)} is within the excluded subtree {_shown(hit)}"
        if allowed and not any(v for s, v in verdicts if s in allowed):
            listed = ", ".join(_shown(s) for s in allowed)
            return f"its {_shown(name)} is outside the permitted subtrees ({listed})"
    return None


def first_violation(
    path: Sequence[x509.Certificate],
) -> tuple[x509.Certificate, x509.Certificate, str] | None:
    """``(certificate, CA, reason)`` for the first certificate of ``path`` (signer first,
    anchor last) whose names break the nameConstraints of a CA above it; ``None`` when none
    does."""
    for index, ca in enumerate(path[1:], start=1):
        try:
            constraints = ca.extensions.get_extension_for_class(x509.NameConstraints).value
        except x509.ExtensionNotFound:
            continue
        for below, cert in enumerate(path[:index]):
            if below > 0 and cert.subject == cert.issuer:
                continue
            reason = violation(cert, constraints)
            if reason is not None:
                return cert, ca, reason
    return None

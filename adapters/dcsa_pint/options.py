"""The ``dcsa_pint`` adapter's options (one ``[adapters.NAME]`` table) and the keys they name.

::

    [adapters.pint]
    type = "dcsa_pint"
    platform = "AEOT"                     # this platform's code (PINT eblPlatform)
    signing_key = "pint/aeot.key.pem"     # signs chain entries, manifests and responses
    signing_algorithm = "PS256"           # RSA keys: PS256 (default) or RS256
    signing_chain = ["pint/platform.pem"] # optional: its certificate (and CA) sent as x5c
    carrier = "COSCO"                     # optional: the carrier this platform issues for
    carrier_key = "pint/cosco.key.pem"    #   and its key (signs issuance manifests)
    envelope_schema = "…/EBL_PINT_v3.0.0.EblEnvelope.schema.json"
    trust = ["pint/roots.pem"]            # optional: anchors for x5c chains in JWS headers
    require_x5c = false                   # refuse partners' JWS without an x5c chain to `trust`
    revocation = "soft-fail"              # x5c chains: OCSP → CRL, "off", "soft-fail" or "hard-fail"
    parties = { "SHANGHAI-EXPORTER" = "Shanghai Exporter Ltd" }   # receiver validation; an
                                          # envelope for another party (not the carrier) is BENV
    timeout = 30.0
    max_document_bytes = 10485760         # the largest supporting document (or visualisation),
                                          # decoded, sent or taken (default 10 MiB)
    tenants = ["acme-exports"]            # the one tenant that operates /v1/ebls, for every party
    # tenants = { "cosco-ops" = ["COSCO"], "acme-exports" = ["SHANGHAI-EXPORTER"] }
                                          # or several, each acting for its own parties (codes
                                          # of `parties` or the carrier): a tenant issues only
                                          # for a carrier it acts for, transfers only an eBL a
                                          # party of its possesses, reads only one a party of
                                          # its takes part in; a list of several is refused

    [adapters.pint.partners.IQAX]         # one table per partner platform
    url = "https://pint.iqax.example"     # its PINT base URL (…/v3/envelopes)
    jwks = "pint/iqax.jwks.json"          # its signing keys (kid = JWK thumbprint)
    jwks_url = "https://pint.iqax.example/.well-known/jwks.json"   # or where it publishes them
                                          # (fetched on first need and on an unknown kid)
    carrier_jwks = "pint/iqax.carrier.jwks.json"   # optional: carriers issuing on it
    certificates = ["pint/iqax.pem"]      # or: its keys as X.509 certificates (PEM), out of band,
    carrier_certificates = []             #   trusted within their validity (tokens whose header
                                          #   has no kid are tried on them)
    ca = "pint/iqax-ca.pem"               # optional: TLS trust for its server
    receiver_validation = true            # ask POST /v3/receiver-validation before a transfer
                                          # locks the eBL (false: never ask this partner)

Relative paths are under the data home. Unknown keys are refused, naming the key.
"""

from __future__ import annotations

import json
import re
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509

from adapters.option_values import positive_integer, positive_number
from gateway.errors import ConfigError, LingangError, VerificationError
from gateway.jsontext import unique_members
from gateway.pint.title import Party
from gateway.signing.jose import CompactSigner, KeySet, load_private_key, thumbprint
from gateway.signing.keys import load_certificates
from gateway.signing.revocation import RevocationChecker
from gateway.signing.truststore import TrustStore

DEFAULT_MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
"""``max_document_bytes`` unless configured: the request body limit's default
(``limits.max_body_bytes``), which bounded a received document before the option did."""

_KNOWN = {
    "platform", "signing_key", "signing_algorithm", "carrier", "carrier_key", "envelope_schema",
    "trust", "require_x5c", "revocation", "signing_chain", "parties", "timeout", "partners", "max_document_bytes", "tenants",
    "control_tracking_registry", "control_tracking_registry_ca",
}  # fmt: skip
_PARTNER_KNOWN = {
    "url",
    "jwks",
    "jwks_url",
    "carrier_jwks",
    "certificates",
    "carrier_certificates",
    "ca",
    "country",
    "receiver_validation",
}


@dataclass(frozen=True, slots=True)
class Partner:
    """A partner platform: where it listens and the TLS trust for it."""

    code: str
    url: str
    ca: Path | None = None
    jwks_url: str | None = None
    """Where the partner publishes its signing keys (JWKS over https)."""
    country: str = ""
    """The ISO 3166 country the partner platform holds eBLs in: the destination the export
    gate decides for (``""``: unknown, only rules without destinations match)."""
    receiver_validation: bool = True
    """Whether a transfer to a party of this platform first asks it whether it knows the
    party (``POST /v3/receiver-validation``, see :meth:`PintPlatform.check_receiver`)."""

    def endpoint(self, path: str) -> str:
        """The absolute URL of a PINT path on this partner."""
        return self.url.rstrip("/") + path

    def ssl_context(self, client_cert: Path | None, client_key: Path | None) -> ssl.SSLContext:
        """Server verification against ``ca`` (else the system store), client cert if any."""
        context = ssl.create_default_context(cafile=str(self.ca) if self.ca else None)
        if client_cert is not None and client_key is not None:
            context.load_cert_chain(str(client_cert), str(client_key))
        return context


@dataclass(slots=True)
class PintOptions:
    """Validated options with the keys loaded."""

    platform: str
    signer: CompactSigner
    keys: KeySet
    """Platform keys (partners' and this platform's own), owner = platform code."""
    carriers: KeySet
    """Carrier keys, owner = the platform the carrier issues on."""
    envelope_schema: Path
    partners: dict[str, Partner] = field(default_factory=dict)
    carrier: Party | None = None
    carrier_signer: CompactSigner | None = None
    parties: dict[str, str] = field(default_factory=dict)
    timeout: float = 30.0
    max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES
    """The largest supporting document (or visualisation), decoded, this platform sends
    (``lingang ebl``, ``/v1/ebls``) or takes from a partner (BENV at the envelope's start for
    one announced larger, 413 for a larger PUT)."""
    tenants: frozenset[str] = frozenset()
    """Tenants (ids) that operate this platform's eBLs through the API (``/v1/ebls``)."""
    represents: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """The party codes of this platform each tenant acts for (``tenants`` as a table). Empty:
    the one tenant of ``tenants`` acts for every party (a platform with one operator)."""
    control_tracking_registry: str | None = None
    """URL where finished transfers are recorded (:mod:`adapters.dcsa_pint.ctr`); ``None``:
    a signed ``RECE`` alone makes a transfer final."""
    control_tracking_registry_ca: Path | None = None
    """CA certificate (PEM) the registry's TLS certificate must chain to (default: the
    system's)."""
    own_certificates: dict[str, x509.Certificate] = field(default_factory=dict)
    """The certificates this platform sends as ``x5c`` (``signing``, then ``signing-chain:<n>``
    for the CAs of ``signing_chain``), by the name they are watched for expiry under."""
    trusted_certificates: dict[str, x509.Certificate] = field(default_factory=dict)
    """The certificates of others this platform trusts: a partner's platform and carrier keys
    given as certificates (``partner:<code>:<n>``, ``carrier:<code>:<n>``) and the ``x5c``
    anchors (``x5c-anchor:<n>``), by the name they are watched for expiry under."""

    def party(self, code: str, name: str = "") -> Party:
        """A party of this platform (codes issued by the platform itself)."""
        return Party(
            self.platform, name or self.parties.get(code, code), frozenset({(self.platform, code)})
        )

    def party_name(self, code_list_provider: str, party_code: str) -> str | None:
        """The name of this platform's party with that identifying code, ``None`` when it is
        unknown here: the code list must be this platform's and the code one of ``parties``
        or the carrier this platform issues for (the receiver-validation rule)."""
        if code_list_provider != self.platform:
            return None
        if party_code in self.parties:
            return self.parties[party_code]
        if self.carrier is not None and (code_list_provider, party_code) in self.carrier.codes:
            return self.carrier.name
        return None

    def acts_for(self, tenant_id: str, party: Party) -> bool:
        """Whether ``tenant_id`` acts for ``party`` here: a party of this platform whose
        code the tenant represents (or any party, for the platform's one operator)."""
        if tenant_id not in self.tenants:
            return False
        codes = self.represents.get(tenant_id)
        if codes is None:
            return not self.represents
        return party.platform == self.platform and any(
            provider == self.platform and code in codes for provider, code in party.codes
        )

    def tenant_for(self, party: Party) -> str:
        """The tenant that acts for ``party`` (``""``: none does)."""
        return next((t for t in sorted(self.tenants) if self.acts_for(t, party)), "")

    def knows(self, party: Party) -> bool:
        """Whether ``party`` is a party of this platform: on it, and sharing an identifying
        code with :meth:`party_name`."""
        return party.platform == self.platform and any(
            self.party_name(provider, code) is not None for provider, code in party.codes
        )

    @classmethod
    def parse(cls, name: str, options: Mapping[str, Any], data_dir: Path) -> PintOptions:
        """Check the table and load every key; :class:`ConfigError` names the bad option."""
        where = f"adapters.{name}"
        unknown = sorted(set(options) - _KNOWN - {"type"})
        if unknown:
            raise ConfigError(f"adapter {name!r}: unknown options {unknown}", field=where)

        def path(raw: Any) -> Path:
            candidate = Path(str(raw)).expanduser()
            return candidate if candidate.is_absolute() else data_dir / candidate

        def required(key: str) -> Any:
            if not options.get(key):
                raise ConfigError(
                    f"adapter {name!r}: option {key!r} is required", field=f"{where}.{key}"
                )
            return options[key]

        registry_url = _registry_url(name, options.get("control_tracking_registry"))
        platform = str(required("platform"))
        if not platform.isascii() or not platform.isalnum() or len(platform) > 4:
            raise ConfigError(
                f"adapter {name!r}: platform must be a PINT code of up to 4 letters",
                field=f"{where}.platform",
            )
        try:
            chain = [
                c
                for entry in options.get("signing_chain") or ()
                for c in load_certificates(path(entry))
            ]
            signer = CompactSigner(
                load_private_key(path(required("signing_key")).read_bytes()),
                str(options.get("signing_algorithm", "")),
                x5c=chain,
            )
            if chain and thumbprint(chain[0].public_key()) != signer.kid:  # type: ignore[arg-type]
                raise ConfigError(
                    f"adapter {name!r}: the first signing_chain certificate is not the signing key's",
                    field=f"{where}.signing_chain",
                )
            keys, carriers = KeySet(), KeySet()
            keys.add(signer.key, platform)
            carrier = carrier_signer = None
            if options.get("carrier"):
                carrier = Party(
                    platform,
                    str(options["carrier"]),
                    frozenset({(platform, str(options["carrier"]))}),
                )
                carrier_signer = CompactSigner(
                    load_private_key(path(required("carrier_key")).read_bytes())
                )
                carriers.add(carrier_signer.key, platform)
            trusted: dict[str, x509.Certificate] = {}
            partners = _partners(
                name, options.get("partners") or {}, path, keys, carriers, trusted, own=platform
            )
            if options.get("trust"):
                anchors = [c for entry in options["trust"] for c in load_certificates(path(entry))]
                keys.trust = carriers.trust = _trust_store(
                    name, anchors, str(options.get("revocation", "soft-fail"))
                )
                trusted.update(_numbered("x5c-anchor", anchors))
            keys.require_x5c = bool(options.get("require_x5c", False))
        except (OSError, ValueError, LingangError) as exc:
            if isinstance(exc, ConfigError):
                raise
            raise ConfigError(f"adapter {name!r}: {exc}", field=where) from exc
        parties = options.get("parties") or {}
        if not isinstance(parties, Mapping):
            raise ConfigError(
                f"adapter {name!r}: parties is a table code = name", field=f"{where}.parties"
            )
        for code, party_name in parties.items():
            _check_party_name(name, str(code), party_name)
        carrier_codes = {code for _, code in carrier.codes} if carrier is not None else set()
        known = {str(code) for code in parties} | carrier_codes
        operators, represents = _operators(name, options.get("tenants"), known)
        return cls(
            platform=platform,
            signer=signer,
            keys=keys,
            carriers=carriers,
            envelope_schema=path(required("envelope_schema")),
            partners=partners,
            carrier=carrier,
            carrier_signer=carrier_signer,
            parties={str(k): str(v) for k, v in parties.items()},
            timeout=positive_number(name, options, "timeout", 30.0),
            max_document_bytes=positive_integer(
                name, options, "max_document_bytes", DEFAULT_MAX_DOCUMENT_BYTES
            ),
            tenants=frozenset(represents) if represents else operators,
            represents=represents,
            control_tracking_registry=registry_url,
            control_tracking_registry_ca=(
                path(options["control_tracking_registry_ca"])
                if options.get("control_tracking_registry_ca")
                else None
            ),
            own_certificates=(
                {"signing": chain[0], **_numbered("signing-chain", chain[1:])} if chain else {}
            ),
            trusted_certificates=trusted,
        )


PARTY_NAME = re.compile(r"\S(?:.*\S)?")
"""DCSA's ``partyName`` (``^\\S(?:.*\\S)?$``, whole): no white space at either end, no line
break; at most :data:`MAX_PARTY_NAME` characters."""
MAX_PARTY_NAME = 70
"""Longest ``partyName`` DCSA's schemas allow."""


def _check_party_name(adapter: str, code: str, party_name: Any) -> None:
    """A configured party's name as DCSA's ``partyName`` allows it: it goes into every chain
    entry naming the party and into the receiver-validation answer, and a receiving platform
    refuses an envelope carrying another (BENV)."""
    if (
        not isinstance(party_name, str)
        or len(party_name) > MAX_PARTY_NAME
        or not PARTY_NAME.fullmatch(party_name)
    ):
        raise ConfigError(
            f"adapter {adapter!r}: the name of party {code!r} must be 1 to {MAX_PARTY_NAME} "
            "characters without white space at either end or a line break (DCSA partyName)",
            field=f"adapters.{adapter}.parties.{code}",
        )


def _operators(
    name: str, raw: Any, known: set[str]
) -> tuple[frozenset[str], dict[str, frozenset[str]]]:
    """``tenants``: a list of at most one tenant (the platform's one operator, acting for
    every party), or a table tenant = [party codes]. Several tenants must say whom each acts
    for: otherwise each could endorse, transfer and surrender the eBLs another holds."""
    where = f"adapters.{name}.tenants"
    if raw is None or isinstance(raw, list | tuple):
        operators = frozenset(str(t) for t in raw or ())
        if len(operators) > 1:
            listed = ", ".join(sorted(operators))
            raise ConfigError(
                f"adapter {name!r}: tenants names {len(operators)} tenants ({listed}) without "
                "saying which parties each acts for, so each could endorse, transfer and "
                "surrender the eBLs the others hold. Name each tenant's parties: tenants = "
                '{ "tenant-a" = ["PARTY-CODE"], "tenant-b" = ["CARRIER-CODE"] }',
                field=where,
            )
        return operators, {}
    if not isinstance(raw, Mapping):
        raise ConfigError(
            f"adapter {name!r}: tenants is a list of one tenant id or a table tenant id = "
            "[party codes]",
            field=where,
        )
    represents: dict[str, frozenset[str]] = {}
    owner: dict[str, str] = {}
    for tenant, codes in raw.items():
        if not isinstance(codes, list | tuple) or not codes:
            raise ConfigError(
                f"adapter {name!r}: tenant {tenant!r} needs a list of the party codes it acts for",
                field=f"{where}.{tenant}",
            )
        for code in map(str, codes):
            if code not in known:
                raise ConfigError(
                    f"adapter {name!r}: tenant {tenant!r} acts for {code!r}, which is neither "
                    f"one of the platform's parties nor its carrier (known: "
                    f"{', '.join(sorted(known)) or 'none'})",
                    field=f"{where}.{tenant}",
                )
            if code in owner and owner[code] != str(tenant):
                raise ConfigError(
                    f"adapter {name!r}: party {code!r} is named for two tenants ({owner[code]!r} "
                    f"and {tenant!r}); one tenant acts for a party",
                    field=f"{where}.{tenant}",
                )
            owner[code] = str(tenant)
        represents[str(tenant)] = frozenset(map(str, codes))
    return frozenset(represents), represents


def _registry_url(name: str, raw: Any) -> str | None:
    """The control tracking registry's URL: https, or http only on loopback."""
    if not raw:
        return None
    url = str(raw)
    loopback = url.startswith(("http://127.0.0.1", "http://[::1]", "http://localhost"))
    if not (url.startswith("https://") or loopback):
        raise ConfigError(
            f"adapter {name!r}: control_tracking_registry must be an https URL",
            field=f"adapters.{name}.control_tracking_registry",
        )
    return url


def _trust_store(name: str, anchors: list[Any], mode: str) -> TrustStore:
    """Where x5c chains must lead, revocation by ``mode`` (``off``, ``soft-fail``,
    ``hard-fail``: an unknown status refused)."""
    if mode not in {"off", "soft-fail", "hard-fail"}:
        raise ConfigError(
            f"adapter {name!r}: revocation must be off, soft-fail or hard-fail",
            field=f"adapters.{name}.revocation",
        )
    return TrustStore(
        tuple(anchors),
        revocation=None if mode == "off" else RevocationChecker(),
        soft_fail=mode != "hard-fail",
        what="x5c signing certificate",
    )


def _add_jwks(into: KeySet, file: Path, owner: str, where: str) -> None:
    """Add the keys of the JWKS document in ``file`` (a partner platform's, handed to the
    operator) to ``into``; a :class:`ConfigError` naming the file and the option when it
    cannot be read, is not a JSON object or holds a key that cannot be used."""
    try:
        document = json.loads(file.read_bytes().decode("utf-8"), object_pairs_hook=unique_members)
        if not isinstance(document, dict):
            raise ValueError("a JWKS is a JSON object with a 'keys' array")
        into.add_jwks(document, owner)
    except (OSError, ValueError, RecursionError, VerificationError) as exc:
        raise ConfigError(f"{where}: cannot use the JWKS in {file}: {exc}", field=where) from exc


def _numbered(prefix: str, certificates: Sequence[x509.Certificate]) -> dict[str, x509.Certificate]:
    """``{"<prefix>:1": first, "<prefix>:2": second, ...}``."""
    return {f"{prefix}:{n}": c for n, c in enumerate(certificates, start=1)}


def _partners(
    name: str,
    table: Any,
    path: Any,
    keys: KeySet,
    carriers: KeySet,
    trusted: dict[str, x509.Certificate],
    *,
    own: str,
) -> dict[str, Partner]:
    """The partner platforms of ``table``; their keys go into ``keys`` and ``carriers``, the
    certificates among them into ``trusted`` (``partner:<code>:<n>``, ``carrier:<code>:<n>``).
    A partner named ``own`` (this platform's code: a partners block shared by every
    platform of a network, copied whole) is refused: its keys would sign chain entries and
    carrier manifests as this platform, and a transfer to one of its parties is recorded
    here, never sent to its URL."""
    if not isinstance(table, Mapping):
        raise ConfigError(
            f"adapter {name!r}: partners is a table per platform", field=f"adapters.{name}.partners"
        )
    partners: dict[str, Partner] = {}
    for code, spec in table.items():
        where = f"adapters.{name}.partners.{code}"
        if str(code) == own:
            raise ConfigError(
                f"adapter {name!r}: partner {code} is this platform itself (platform = "
                f"{own!r}): leave it out of partners",
                field=where,
            )
        if not isinstance(spec, Mapping) or set(spec) - _PARTNER_KNOWN:
            raise ConfigError(
                f"adapter {name!r}: partner {code} takes {sorted(_PARTNER_KNOWN)}", field=where
            )
        url = str(spec.get("url") or "")
        if urlsplit(url).scheme != "https":
            raise ConfigError(
                f"adapter {name!r}: partner {code} url must be https:// (got {url!r})",
                field=f"{where}.url",
            )
        for option, into in (("jwks", keys), ("carrier_jwks", carriers)):
            if spec.get(option):
                _add_jwks(into, path(spec[option]), str(code), f"{where}.{option}")
        for option, into, role in (
            ("certificates", keys, "partner"),
            ("carrier_certificates", carriers, "carrier"),
        ):
            given = [c for entry in spec.get(option) or () for c in load_certificates(path(entry))]
            for certificate in given:
                into.add(certificate.public_key(), str(code), certificate=certificate)  # type: ignore[arg-type]
            trusted.update(_numbered(f"{role}:{code}", given))
        jwks_url = str(spec["jwks_url"]) if spec.get("jwks_url") else None
        if jwks_url is not None and urlsplit(jwks_url).scheme != "https":
            raise ConfigError(
                f"adapter {name!r}: partner {code} jwks_url must be https://",
                field=f"{where}.jwks_url",
            )
        ca = path(spec["ca"]) if spec.get("ca") else None
        country = str(spec.get("country") or "").upper()
        validation = spec.get("receiver_validation", True)
        if not isinstance(validation, bool):
            raise ConfigError(
                f"adapter {name!r}: partner {code} receiver_validation is true or false",
                field=f"{where}.receiver_validation",
            )
        partners[str(code)] = Partner(str(code), url, ca, jwks_url, country, validation)
    return partners

"""The long-lived handles stages use, and how a process loads them.

:class:`ToolsSpec` is plain, picklable data (paths, flags, engine options): the service builds
it from the settings and a stage process receives it, so a child loads its own validator,
signer and directory without reading any configuration itself. :func:`load_tools` turns a spec
into :class:`Tools`, once per process.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.errors import ConfigError, InputError, LingangError
from gateway.render.tradetrust_oa import LOCAL_ISSUER, TradeTrustIssuer, configured_issuer
from gateway.validation.options import EngineOptions

if TYPE_CHECKING:
    from gateway.partners import PartnerDirectory
    from gateway.policy import PolicySource
    from gateway.policy.keys import KeyProvider
    from gateway.signing import XadesSigner
    from gateway.signing.gateway_key import TokenKey
    from gateway.signing.vc_issuer import VcIssuer
    from gateway.validation import Validator

DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ToolsSpec:
    """What to load for the stages; every field is plain data."""

    artefacts_dir: Path | None = None
    """Installed official artefacts; ``None``: validation off."""
    engine: EngineOptions = field(default_factory=EngineOptions)
    signing_key: Path | None = None
    signing_token: TokenKey | None = None
    """The signing key inside a PKCS#11 token (``[signing] pkcs11``) instead of a file; the
    PIN is read from ``LINGANG_SIGNING_PIN`` by each process."""
    signing_cert: Path | None = None
    signing_chain: tuple[Path, ...] = ()
    partners_file: Path | None = None
    default_profile: str = "pint-sg"
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    strict: bool = False
    profiles: tuple[str, ...] = ()
    """Profiles whose artefacts must be installed: checked (and compiled) when the tools are
    loaded, so a missing one stops the start; default: the default profile."""
    warm_profiles: tuple[str, ...] = ()
    """Profiles whose rules are compiled and exercised ahead of the first document, in the
    background (or by each stage process when it starts)."""
    policy_file: Path | None = None
    """The export policy file; ``None``: the built-in defaults."""
    subject_key_file: Path | None = None
    """The subject key file (created owner-only when missing), unless derived."""
    subject_key_from: Path | None = None
    """A secret to derive the subject key from (the signing key) when no key file is set."""
    vc_key: Path | None = None
    """The W3C VC issuer key (``[signing] vc_key``)."""
    vc_did: str | None = None
    """Its ``did:web`` (``[signing] vc_did``)."""
    token_registry: str | None = None
    """The TradeTrust issuer's token registry (``[signing] token_registry``)."""
    identity_dns: str | None = None
    """Its DNS-TXT identity (``[signing] identity_dns``)."""
    token_chain_id: str | None = None
    """Its network's chain id (``[signing] token_chain_id``)."""
    subject_key_env: str = ""
    """An environment variable holding the subject key (hex); wins over the others."""
    subject_key_id: str = ""
    """The operator's id of the subject key (default: its fingerprint)."""
    subject_key_pkcs11: tuple[Path, str, str] | None = None
    """(library, token label, key label) of a subject key inside a PKCS#11 token; the PIN
    is read from ``LINGANG_SUBJECT_KEY_PIN`` by each process. Wins over the others."""


@dataclass(frozen=True, slots=True)
class Tools:
    """Handles the stages share, loaded once per process."""

    validator: Validator | None = None
    """``None``: validation is off (an operator's explicit choice)."""
    signer: XadesSigner | None = None
    """``None``: no signing key configured."""
    partners: PartnerDirectory | None = None
    """The configured directory file's partners (a tenant's stored directory wins)."""
    default_profile: str = "pint-sg"
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    strict: bool = False
    """Refuse inputs with schema findings or non-conformant identifiers."""
    policy: PolicySource | None = None
    """The export policy in force (``None``: the built-in defaults)."""
    subject_key: KeyProvider | bytes = b""
    """The key individuals are hashed under for the yearly counts (never stored): its
    provider (:mod:`gateway.policy.keys`), or raw bytes (tests)."""
    vc_issuer: VcIssuer | None = None
    """Signs the eBL's W3C VC output; ``None``: not configured (that output is not made)."""
    tradetrust_issuer: TradeTrustIssuer = LOCAL_ISSUER
    """Who issues the eBL's TradeTrust outputs, and the registry holding their title."""


def load_tools(spec: ToolsSpec, *, compile_rules: bool = True) -> Tools:
    """Load validator, signer and directory from ``spec``.

    With ``compile_rules`` the rules of ``spec.warm_profiles`` are compiled now; without, the
    artefacts are only checked (a process whose stages run in children compiles nothing)."""
    return Tools(
        validator=load_validator(spec, compile_rules=compile_rules),
        signer=load_signer(spec),
        partners=load_partners(spec.partners_file),
        default_profile=spec.default_profile,
        max_body_bytes=spec.max_body_bytes,
        strict=spec.strict,
        policy=load_policy_source(spec.policy_file),
        subject_key=load_subject_key(spec),
        vc_issuer=load_vc_issuer(spec),
        tradetrust_issuer=load_tradetrust_issuer(spec),
    )


def load_tradetrust_issuer(spec: ToolsSpec) -> TradeTrustIssuer:
    """The TradeTrust issuer of ``[signing] token_registry``, ``identity_dns`` and
    ``token_chain_id`` (unset: the placeholder), checked now so a wrong one stops the start."""
    try:
        return configured_issuer(
            spec.token_registry, spec.identity_dns, spec.token_chain_id, where="signing."
        )
    except InputError as exc:
        raise ConfigError(f"[signing] {exc.message}", field=exc.field) from exc


def load_vc_issuer(spec: ToolsSpec) -> VcIssuer | None:
    """The W3C VC issuer from ``[signing] vc_key`` and ``vc_did``, or ``None`` (neither set)."""
    if spec.vc_key is None and spec.vc_did is None:
        return None
    if spec.vc_key is None or spec.vc_did is None:
        raise ConfigError(
            "[signing] vc_key and vc_did go together (the key is published as vc_did#keys-1)",
            field="signing.vc_key" if spec.vc_key is None else "signing.vc_did",
        )
    from gateway.signing.vc_issuer import VcIssuer

    try:
        return VcIssuer.from_files(spec.vc_key, spec.vc_did)
    except LingangError as exc:
        raise ConfigError(
            f"[signing] vc_key/vc_did: {exc.message}", field="signing.vc_key"
        ) from exc


def load_policy_source(path: Path | None) -> PolicySource:
    """The export policy (checked now: a file with errors stops the start naming its line)."""
    from gateway.policy import PolicySource

    return PolicySource(path)


def load_subject_key(spec: ToolsSpec) -> KeyProvider | bytes:
    """The subject key's provider (:mod:`gateway.policy.keys`): a PKCS#11 token if set
    (checked now), else the environment variable ``subject_key_env`` if set, else derived from ``subject_key_from``, else the file
    ``subject_key_file`` (created with 32 random bytes when missing), else empty (tests)."""
    from gateway.policy.keys import (
        Pkcs11KeyProvider,
        key_derived_from,
        key_from_env,
        key_from_file,
    )

    if spec.subject_key_pkcs11 is not None:
        import os

        module, token, label = spec.subject_key_pkcs11
        pin = os.environ.get("LINGANG_SUBJECT_KEY_PIN", "")
        hsm = Pkcs11KeyProvider(module, token, label, pin, key_id=spec.subject_key_id)
        hsm.check()
        return hsm
    if spec.subject_key_env:
        return key_from_env(spec.subject_key_env, key_id=spec.subject_key_id)
    if spec.subject_key_from is not None:
        from gateway.signing.gateway_key import subject_key_secret

        secret = subject_key_secret(spec.subject_key_from)
        return key_derived_from(secret, key_id=spec.subject_key_id)
    if spec.subject_key_file is None:
        return b""
    return key_from_file(spec.subject_key_file, key_id=spec.subject_key_id)


def load_validator(spec: ToolsSpec, *, compile_rules: bool = True) -> Validator | None:
    """The shared validator, or ``None`` when validation is off. A missing artefact of a
    profile to warm stops the start with an :class:`~gateway.errors.ArtefactError`."""
    if spec.artefacts_dir is None:
        return None
    from gateway.validation import Validator

    validator = Validator.default(spec.artefacts_dir, spec.engine)
    profiles: Sequence[str] = spec.profiles or (spec.default_profile,)
    if compile_rules:
        validator.warm(list(profiles))
    else:
        for profile in profiles:
            for doc_type in validator.profile(profile).rules:
                validator.artefact_paths(profile, doc_type)
    return validator


def load_signer(spec: ToolsSpec) -> XadesSigner | None:
    """The XAdES signer from ``[signing] key`` (a PKCS#12 file, or a PEM key with its
    certificate) or from the token ``[signing] pkcs11`` names, or ``None``. A protected
    key's password (``LINGANG_SIGNING_PASSWORD``) or the token's PIN
    (``LINGANG_SIGNING_PIN``) is read here, in each process, never carried in ``spec``."""
    from gateway.signing import XadesSigner
    from gateway.signing.gateway_key import is_pkcs12, load_gateway_key, load_token_key

    if spec.signing_token is not None:
        return XadesSigner(
            load_token_key(spec.signing_token, spec.signing_cert, spec.signing_chain)
        )
    if spec.signing_key is None:
        return None
    if spec.signing_cert is None and not is_pkcs12(spec.signing_key):
        return None
    provider = load_gateway_key(spec.signing_key, spec.signing_cert, spec.signing_chain)
    return XadesSigner(provider)


def load_partners(path: Path | None) -> PartnerDirectory | None:
    """The partner directory file, or ``None``."""
    if path is None:
        return None
    from gateway.partners import PartnerDirectory

    return PartnerDirectory.load(path)

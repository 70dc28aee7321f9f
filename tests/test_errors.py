"""The error hierarchy: codes, ``retryable`` and the wire form that crosses processes."""

from __future__ import annotations

import inspect
import json
import pickle
from typing import Any

import pytest

import gateway.api.problems
import gateway.signing
import gateway.store
import gateway.validation
from gateway.errors import (
    ArtefactError,
    ConfigError,
    DeliveryError,
    FieldError,
    InputError,
    LingangError,
    MissingFactError,
    PermanentDeliveryError,
    SigningError,
    TransientDeliveryError,
    TransientError,
    ValidationFailed,
    VerificationError,
    error_classes,
    from_wire,
)
from gateway.signing.revocation import RevokedError
from gateway.store import ConflictError, LeaseLostError, NotFoundError, StoreError
from gateway.validation.report import Finding, ValidationReport

assert gateway.api.problems and gateway.signing and gateway.store and gateway.validation

INHERITING_A_CODE: set[str] = set()
"""Subclasses known to travel as their parent (none: every error class has its own code)."""


def every_subclass(cls: type[LingangError] = LingangError) -> list[type[LingangError]]:
    """``cls`` and all its subclasses defined so far, depth first."""
    found = [cls]
    for sub in cls.__subclasses__():
        found.extend(c for c in every_subclass(sub) if c not in found)
    return found


def sample(cls: type[LingangError]) -> LingangError:
    """An instance of ``cls`` built through its own constructor, with every field set."""
    parameters = inspect.signature(cls).parameters
    kwargs: dict[str, Any] = {}
    if "check" in parameters:
        kwargs["check"] = "digest"
    if "report" in parameters:
        kwargs["report"] = {"profile": "pint-sg", "findings": []}
    if "field" in parameters:
        kwargs["field"] = "Invoice/ID"
    if "rule" in parameters:
        kwargs["rule"] = "BR-02"
    return cls(f"{cls.__name__} happened", **kwargs)


def test_the_walk_finds_the_classes_defined_outside_errors() -> None:
    names = {cls.__name__ for cls in every_subclass()}
    assert {"StoreError", "LeaseLostError", "RevokedError", "ConfigError"} <= names
    assert len(names) >= 20


@pytest.mark.parametrize("cls", every_subclass(), ids=lambda cls: cls.__name__)
def test_every_error_class_round_trips_through_json(cls: type[LingangError]) -> None:
    error = sample(cls)
    wire = json.loads(json.dumps(error.to_wire()))
    back = from_wire(wire)
    if "code" in vars(cls):
        assert type(back) is cls
    else:
        assert cls.__name__ in INHERITING_A_CODE
        assert isinstance(error, type(back)) and type(back) is error_classes()[cls.code]
    assert back.to_wire() == wire
    assert (back.code, back.message, back.field, back.rule, back.retryable) == (
        error.code,
        error.message,
        error.field,
        error.rule,
        error.retryable,
    )
    assert str(back) == str(error)


def test_only_the_known_classes_inherit_their_code() -> None:
    inheriting = {cls.__name__ for cls in every_subclass() if "code" not in vars(cls)}
    assert inheriting <= INHERITING_A_CODE


def test_codes_are_unique_and_a_second_claim_is_refused() -> None:
    coded = [cls for cls in every_subclass() if "code" in vars(cls)]
    assert len({cls.code for cls in coded}) == len(coded)
    with pytest.raises(TypeError, match=r"already used by gateway\.errors\.FieldError"):
        type("Impostor", (InputError,), {"code": "field"})


@pytest.mark.parametrize(
    ("cls", "retryable"),
    [
        (InputError, False),
        (FieldError, False),
        (MissingFactError, False),
        (ValidationFailed, False),
        (ConfigError, False),
        (ArtefactError, False),
        (SigningError, False),
        (VerificationError, False),
        (RevokedError, False),
        (NotFoundError, False),
        (ConflictError, False),
        (LeaseLostError, False),
        (PermanentDeliveryError, False),
        (StoreError, True),
        (TransientError, True),
        (DeliveryError, True),
        (TransientDeliveryError, True),
    ],
)
def test_each_class_says_whether_a_retry_can_help(cls: type[LingangError], retryable: bool) -> None:
    assert sample(cls).retryable is retryable


def test_transient_delivery_errors_are_transient_errors() -> None:
    assert issubclass(TransientDeliveryError, TransientError)
    assert issubclass(TransientDeliveryError, DeliveryError)


def test_an_instance_may_override_retryable_and_the_wire_keeps_it() -> None:
    error = StoreError("sqlite URL names no file", field="url", retryable=False)
    assert error.retryable is False and StoreError.retryable is True
    back = from_wire(error.to_wire())
    assert isinstance(back, StoreError) and back.retryable is False


def test_an_unknown_code_gives_a_plain_error_with_the_same_facts() -> None:
    back = from_wire(
        {"code": "quota-exceeded", "message": "too many", "retryable": True, "field": "tenant"}
    )
    assert type(back) is LingangError
    assert (back.code, back.message, back.retryable, back.field) == (
        "quota-exceeded",
        "too many",
        True,
        "tenant",
    )
    assert LingangError.code == "error"


def test_verification_check_and_validation_report_travel() -> None:
    checked = from_wire(VerificationError("digest mismatch", check="digest").to_wire())
    assert isinstance(checked, VerificationError) and checked.check == "digest"
    revoked = from_wire(RevokedError("certificate revoked").to_wire())
    assert isinstance(revoked, RevokedError) and revoked.check == "revoked"
    report = ValidationReport(
        profile="pint-sg",
        document_type="Invoice",
        findings=[Finding("BR-02", "fatal", "/Invoice", "An Invoice shall have a number", "cen")],
    )
    wire = ValidationFailed("1 fatal finding(s): BR-02", report=report).to_wire()
    assert wire["report"] == report.to_json()
    failed = from_wire(json.loads(json.dumps(wire)))
    assert isinstance(failed, ValidationFailed)
    assert failed.report == report.to_json()
    problem = gateway.api.problems.from_lingang_error(failed)
    assert problem.extra["report"]["findings"][0]["rule_id"] == "BR-02"


def test_errors_pickle_through_the_wire_form() -> None:
    error = VerificationError("bad", check="digest")
    back = pickle.loads(pickle.dumps(error))
    assert isinstance(back, VerificationError) and back.message == "bad"


def test_missing_keys_take_empty_values() -> None:
    checked = from_wire({"code": "verification"})
    assert isinstance(checked, VerificationError) and checked.message == "" and not checked.check
    assert type(from_wire({})) is LingangError

"""Domain errors become RFC 9457 problems with the right status, field and rule."""

from __future__ import annotations

from gateway.api.problems import from_lingang_error
from gateway.errors import (
    ArtefactError,
    FieldError,
    LingangError,
    UnsafeInputError,
    ValidationFailed,
)
from gateway.store import ConflictError, NotFoundError
from gateway.validation.report import Finding, ValidationReport


def test_input_errors_are_422_naming_field_and_rule() -> None:
    problem = from_lingang_error(FieldError("bad total", field="TotalTaxAm", rule="BR-CO-15"))
    body = problem.body("/v1/documents")
    assert (body["status"], body["type"]) == (422, "urn:lingang:problem:field")
    assert body["errors"] == [{"message": "bad total", "field": "TotalTaxAm", "rule": "BR-CO-15"}]


def test_size_limits_are_413_and_store_states_404_409() -> None:
    assert from_lingang_error(UnsafeInputError("big", rule="xml.max-size")).status == 413
    assert from_lingang_error(NotFoundError("no row 42 in jobs")).body("/x")["detail"] == (
        "no such resource"
    )
    assert from_lingang_error(ConflictError("job is done")).status == 409


def test_fatal_findings_are_listed_with_rule_and_location() -> None:
    report = ValidationReport(
        profile="pint-sg",
        document_type="Invoice",
        findings=[
            Finding("BR-CO-10", "fatal", "/Invoice/cac:LegalMonetaryTotal", "sum wrong", "cen"),
            Finding("PEPPOL-R001", "warning", "/Invoice", "style", "peppol"),
        ],
    )
    body = from_lingang_error(ValidationFailed("fatal findings", report)).body("/x")
    assert body["status"] == 422
    assert {
        "message": "sum wrong",
        "field": "/Invoice/cac:LegalMonetaryTotal",
        "rule": "BR-CO-10",
    } in body["errors"]
    assert all(e.get("rule") != "PEPPOL-R001" for e in body["errors"])
    assert body["report"]["valid"] is False


def test_server_side_errors_carry_no_internals() -> None:
    artefacts = from_lingang_error(ArtefactError("missing /srv/lingang/artefacts/x.xslt"))
    assert artefacts.status == 503
    assert "/srv" not in str(artefacts.body("/x"))
    other = from_lingang_error(LingangError("postgres at 10.0.0.5 refused"))
    assert other.status == 500
    assert "10.0.0.5" not in str(other.body("/x"))

"""Message Level Status: what we produce passes ``peppol-mls-1.0.1``; the decision whether and
where to send one; reading received MLS (the official examples included)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.errors import FieldError, InputError, LingangError
from gateway.read.mls import read_mls, sbdh_scopes
from gateway.render.mls import (
    FD_DESCRIPTION,
    MlsDocument,
    MlsIssue,
    MlsStatus,
    mls_target,
    render_mls,
    spis_id,
    status_from_findings,
)
from gateway.validation import Finding, Validator

EXAMPLES = "openpeppol-mls-1.1.0/trn-mls/example"
WHEN = datetime(2026, 12, 2, 21, 5, 7, tzinfo=UTC)


def _finding(rule: str, flag: str, location: str = "/Invoice/cbc:ID") -> Finding:
    return Finding(rule, flag, location, f"text of {rule}", "peppol-bis3")


def _mls(status: MlsStatus) -> bytes:
    return render_mls(
        MlsDocument("mls-1", WHEN, "POP000360", "123456", "90f14eff-3705-4869", status)
    )


STATUSES = {
    "AP": status_from_findings([], delivered=True, confirmed=True),
    "AB": status_from_findings([_finding("BR-W-1", "warning")], delivered=True),
    "RE-BV": status_from_findings(
        [_finding("PEPPOL-EN16931-R001", "fatal"), _finding("BR-W-2", "warning")], delivered=False
    ),
    "RE-SV": status_from_findings(
        [_finding("XSD", "fatal", "line 3 /*/cbc:IssueDate")], delivered=False
    ),
    "RE-FD": status_from_findings([], delivered=False),
}


@pytest.mark.parametrize("name", sorted(STATUSES))
def test_every_mls_we_produce_passes_the_official_rules(
    name: str, engine_validator: Validator
) -> None:
    xml = _mls(STATUSES[name])
    report = engine_validator.validate(xml)
    assert report.profile == "peppol-mls"
    assert not report.findings, report.to_text()
    back = read_mls(xml)
    assert back.code == name[:2]
    assert back.instance_id == "90f14eff-3705-4869"
    assert back.sender_spis == "000360"


def test_codes_and_reasons_from_the_outcome() -> None:
    assert STATUSES["AP"].code == "AP" and not STATUSES["AP"].issues
    assert STATUSES["AB"].code == "AB"
    assert [i.reason for i in STATUSES["AB"].issues] == ["BW"]
    assert [i.reason for i in STATUSES["RE-BV"].issues] == ["BV", "BW"]
    assert STATUSES["RE-SV"].issues[0].reason == "SV"
    assert STATUSES["RE-SV"].issues[0].location == "/*/cbc:IssueDate"
    assert STATUSES["RE-FD"].issues == (MlsIssue("FD", FD_DESCRIPTION),)
    assert all(STATUSES[k].failed for k in ("RE-BV", "RE-SV", "RE-FD"))


def test_inconsistent_statuses_are_refused() -> None:
    with pytest.raises(FieldError, match="negative"):
        MlsStatus("RE", "no", (MlsIssue("BW", "only a warning"),))
    with pytest.raises(FieldError, match="positive"):
        MlsStatus("AP", "", (MlsIssue("BV", "fatal"),))
    with pytest.raises(FieldError):
        MlsStatus("XX")
    with pytest.raises(FieldError):
        MlsStatus("AB", "", (MlsIssue("ZZ", "what"),))


def test_default_is_failure_only_to_the_sending_access_point() -> None:
    assert mls_target({}, "AP", sending_seat="POP000360") is None
    assert mls_target({}, "AB", sending_seat="POP000360") is None
    target = mls_target({}, "RE", sending_seat="POP000360")
    assert target is not None and target.participant == "0242:000360"


def test_always_send_and_mls_to() -> None:
    scopes = {"MLS_TYPE": "ALWAYS_SEND", "MLS_TO": "0242:987654"}
    target = mls_target(scopes, "AP", sending_seat="POP000360")
    assert target is not None and (target.participant, target.spis) == ("0242:987654", "987654")
    unknown_type = mls_target({"MLS_TYPE": "SOMETIMES"}, "AB", sending_seat="POP000360")
    assert unknown_type is None  # anything else counts as the default, FAILURE_ONLY
    with pytest.raises(FieldError, match="MLS_TO"):
        mls_target({"MLS_TO": "9915:someone"}, "RE", sending_seat="POP000360")


def test_never_in_reply_to_an_mls() -> None:
    scopes = {"MLS_TYPE": "ALWAYS_SEND"}
    assert mls_target(scopes, "RE", sending_seat="POP000360", received_is_mls=True) is None


def test_spis_ids() -> None:
    assert spis_id("POP000360") == "000360"
    assert spis_id("0242:123456") == "123456"
    assert spis_id("123456-ABC.DEF") == "123456-ABC.DEF"
    with pytest.raises(FieldError):
        spis_id("not-a-seat")


def test_sbdh_scopes_of_the_official_snippets(reference: Path) -> None:
    scopes = sbdh_scopes((reference / EXAMPLES / "snippet-sbdh-mls-all.xml").read_bytes())
    assert scopes["MLS_TO"] == "0242:987654"
    assert scopes["MLS_TYPE"] == "FAILURE_ONLY"
    assert scopes["COUNTRY_C1"] == "NL"
    only_to = sbdh_scopes((reference / EXAMPLES / "snippet-sbdh-mls-type-default.xml").read_bytes())
    assert "MLS_TYPE" not in only_to
    target = mls_target(only_to, "RE", sending_seat="POP000001")
    assert target is not None and target.participant == "0242:987654"


@pytest.mark.parametrize(
    "name",
    ["AB", "AB2", "AB3", "AP", "RE", "RE2", "RE3", "RE4"],
)
def test_official_examples_read(name: str, reference: Path) -> None:
    mls = read_mls((reference / EXAMPLES / f"MessageLevelStatus_Example_{name}.xml").read_bytes())
    assert mls.code == name[:2]
    assert mls.instance_id
    if mls.code == "RE":
        assert mls.issues and mls.description


@pytest.mark.parametrize(
    "xml",
    [
        b"<Invoice xmlns='urn:oasis:names:specification:ubl:schema:xsd:Invoice-2'/>",
        b"<ApplicationResponse xmlns='urn:oasis:names:specification:ubl:schema:xsd:"
        b"ApplicationResponse-2'/>",
        b"<!DOCTYPE x [<!ENTITY a 'aaaa'>]><x>&a;</x>",
        b"not xml",
    ],
)
def test_what_is_not_an_mls_is_refused(xml: bytes) -> None:
    with pytest.raises((InputError, LingangError)):
        read_mls(xml)

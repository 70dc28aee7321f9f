"""A receiver's ``Retry-After`` (RFC 9110 10.2.3, RFC 6585 4): read in both forms, passed on
with the retryable error over a real TLS connection, and honoured by the retry policy (the
claim loop's part: tests/jobs/test_loop.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from adapters.https import DetachedJwsSigner
from adapters.https.inbound import refusal
from adapters.retry_after import asked_wait, retry_after_seconds
from adapters.testing import make_envelope
from gateway.errors import InputError, TransientDeliveryError, TransientError
from gateway.jobs import RetryPolicy
from gateway.testing.receiver import Receiver
from gateway.testing.tls import TlsFiles
from tests.adapters.test_https_adapter import build
from tests.jobs.test_retry import job

NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        (format_datetime(NOW + timedelta(minutes=5), usegmt=True), 300.0),
        ("Sun, 06 Dec 2026 08:00:30 GMT", 30.0),
        ("Sunday, 06-Dec-26 08:01:00 GMT", 60.0),  # RFC 850, obsolete but allowed
        ("Sun Dec  6 08:02:00 2026", 120.0),  # asctime, obsolete but allowed
        ("Sun, 06 Dec 2026 07:00:00 GMT", 0.0),  # already past
        (None, None),
        ("", None),
        ("-5", None),
        ("1.5", None),
        ("soon", None),
        ("99999999999", None),
    ],
)
def test_both_forms_are_read_and_nonsense_is_ignored(value: str | None, seconds: float) -> None:
    assert retry_after_seconds(value, now=NOW) == seconds


def test_only_429_and_503_carry_the_wait() -> None:
    assert asked_wait(429, {"Retry-After": "7"}) == 7.0
    assert asked_wait(503, {"Retry-After": "7"}) == 7.0
    assert asked_wait(500, {"Retry-After": "7"}) is None
    assert asked_wait(429, {}) is None


def test_the_policy_waits_at_least_as_asked_up_to_its_cap() -> None:
    policy = RetryPolicy(base_seconds=1, cap_seconds=10, asked_cap_seconds=600)
    assert policy.retry_after(job(1), retryable=True, asked=120) == 120
    assert policy.retry_after(job(1), retryable=True, asked=86_400) == 600
    delay = policy.retry_after(job(1), retryable=True, asked=0)
    assert delay is not None and delay <= 1
    assert policy.retry_after(job(1), retryable=False, asked=120) is None


@pytest.mark.parametrize("mode", ["429", "503"])
async def test_the_https_adapter_passes_the_wait_on(
    mode: str, receiver: Receiver, tls: TlsFiles, body_signer: DetachedJwsSigner
) -> None:
    adapter = build(receiver, tls, body_signer)
    receiver.retry_after = "90"
    receiver.fail_next(1, mode)
    try:
        with pytest.raises(TransientDeliveryError) as caught:
            await adapter.deliver(make_envelope())
    finally:
        await adapter.aclose()
    assert caught.value.retry_after == 90.0
    assert "Retry-After 90 s" in str(caught.value)


def test_our_inbox_asks_a_sender_to_wait_only_when_a_retry_can_help() -> None:
    later = refusal(TransientError("the store is away"))
    assert later.status == 503 and later.headers["Retry-After"] == "5"
    refused = refusal(InputError("not for us", field="receiver", rule="inbound.receiver"))
    assert refused.status == 422 and "Retry-After" not in refused.headers

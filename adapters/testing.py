"""``AdapterContract``: the conformance suite every delivery adapter should pass.

Subclass it in a test module and provide two things::

    class TestMyAdapter(AdapterContract):
        @pytest.fixture
        async def adapter(self, tmp_path):        # a live adapter, closed by the fixture
            a = MyAdapter(...)
            yield a
            await a.aclose()

        async def delivered_count(self, adapter, message_id) -> int:
            ...                                  # how many copies the far side holds

The suite checks the seam's promises: a receipt names the message and the adapter, a retry of
the same envelope does not make a second copy on the far side, distinct messages stay
distinct, ``ping`` answers a bool, and ``aclose`` may be called twice.
"""

from __future__ import annotations

import uuid
from typing import Any

from adapters.base import Adapter, Envelope, Receipt

SAMPLE_BODY = b'<?xml version="1.0"?><Invoice xmlns="urn:example">contract</Invoice>'


def make_envelope(message_id: str | None = None, body: bytes = SAMPLE_BODY) -> Envelope:
    """An envelope with a fresh (or given) message id."""
    return Envelope(
        message_id=message_id or f"{uuid.uuid4()}@lingang",
        body=body,
        content_type="application/xml",
        submission_id="contract-submission",
        tenant_id="contract-tenant",
        profile="pint-sg",
        receiver="0195:T08GB0001A",
    )


class AdapterContract:
    """Mix into a pytest class; needs an ``adapter`` fixture and :meth:`delivered_count`."""

    async def delivered_count(self, adapter: Any, message_id: str) -> int:
        """How many copies of ``message_id`` the far side holds (override)."""
        raise NotImplementedError

    def make_envelope(self, variant: int = 0) -> Envelope:
        """A fresh envelope the adapter can deliver (override for adapters whose protocol
        needs a body of its own; ``variant`` makes a distinct message)."""
        return make_envelope(
            body=SAMPLE_BODY.replace(b"contract", b"two") if variant else SAMPLE_BODY
        )

    async def test_is_an_adapter(self, adapter: Adapter) -> None:
        assert isinstance(adapter, Adapter)
        assert isinstance(adapter.name, str) and adapter.name

    async def test_deliver_returns_receipt(self, adapter: Adapter) -> None:
        envelope = self.make_envelope()
        receipt = await adapter.deliver(envelope)
        assert isinstance(receipt, Receipt)
        assert receipt.message_id == envelope.message_id
        assert receipt.adapter == adapter.name
        assert await self.delivered_count(adapter, envelope.message_id) == 1

    async def test_retry_of_same_envelope_is_not_a_second_copy(self, adapter: Adapter) -> None:
        envelope = self.make_envelope()
        first = await adapter.deliver(envelope)
        second = await adapter.deliver(envelope)
        assert first.message_id == second.message_id == envelope.message_id
        assert second.duplicate
        assert await self.delivered_count(adapter, envelope.message_id) == 1

    async def test_distinct_messages_stay_distinct(self, adapter: Adapter) -> None:
        one, two = self.make_envelope(), self.make_envelope(1)
        await adapter.deliver(one)
        await adapter.deliver(two)
        assert await self.delivered_count(adapter, one.message_id) == 1
        assert await self.delivered_count(adapter, two.message_id) == 1

    async def test_receipt_as_dict_is_json_ready(self, adapter: Adapter) -> None:
        import json

        receipt = await adapter.deliver(self.make_envelope())
        json.dumps(receipt.as_dict())

    async def test_ping_answers_bool(self, adapter: Adapter) -> None:
        assert isinstance(await adapter.ping(), bool)

    async def test_aclose_twice(self, adapter: Adapter) -> None:
        await adapter.aclose()
        await adapter.aclose()

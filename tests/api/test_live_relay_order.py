"""Live events across processes go as NOTIFY inside the writing transaction (app/live/relay.py):
a listener hears a lot's events in its order even when bids race from several writers, hears
nothing of a write that did not apply or a transaction that rolled back, and hears each once."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from app.bidding import driver_bids
from app.bidding.bounded_cache import BoundedCache
from app.context import KNOWN_LOTS_MAX_ENTRIES, NOT_ENGLISH_MAX_ENTRIES, AppContext
from app.live.relay import NOTIFY_CHANNEL, PostgresRelay, asyncpg_dsn
from app.live.stream import create_channels
from auction import closing
from tests.api.auction_support import AuctionHouse
from transfer.kernel.unit_of_work import UnitOfWork

WRITERS = 3


@pytest.fixture
async def heard(house: AuctionHouse, backend: str) -> AsyncIterator[list[tuple[str, dict[str, Any]]]]:
    """Every event notified on the relay's channel, in the order PostgreSQL delivered them."""
    if backend != "postgres":
        pytest.skip("the relay is PostgreSQL's LISTEN/NOTIFY")
    events: list[tuple[str, dict[str, Any]]] = []

    def deliver(_connection: Any, _pid: int, _channel: str, payload: str) -> None:
        events.extend((channel, event) for channel, event in json.loads(payload))

    listener = await asyncpg.connect(asyncpg_dsn(house.context.settings.database_url))
    await listener.add_listener(NOTIFY_CHANNEL, deliver)
    try:
        yield events
    finally:
        await listener.close()


def _relaying(context: AppContext) -> AppContext:
    """The context as a process with several siblings has it: no after-commit publisher, a relay."""
    relay = PostgresRelay(context.settings.database_url, create_channels())
    return dataclasses.replace(
        context,
        publish=None,
        relay=relay,
        known_lots=BoundedCache(KNOWN_LOTS_MAX_ENTRIES),
        not_english=BoundedCache(NOT_ENGLISH_MAX_ENTRIES),
    )


async def _heard_settle(heard: list[Any], count: int) -> None:
    for _ in range(100):
        if len(heard) >= count:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)  # anything more (a duplicate) would arrive by now


@pytest.mark.parametrize("locking", [False, True])
async def test_racing_writers_bids_and_the_close_are_heard_once_each_in_the_lots_order(
    house: AuctionHouse, heard: list[tuple[str, dict[str, Any]]], locking: bool
) -> None:
    writers = [_relaying(house.context) for _ in range(WRITERS)]
    driver = house.context.database.driver
    assert driver is not None
    _, people, auction = await house.open_lot(6)
    channel = f"auction:{auction['id']}"

    async def bid(index: int, bidder_id: int) -> bool:
        try:
            await driver_bids.english_bid_on_driver(
                writers[index % WRITERS], driver, bidder_id, auction["id"], 100_000 + 1_000 * index, None,
                locking=locking,
            )  # fmt: skip
        except Exception:  # overtaken meanwhile: refused, and nothing is written or notified
            return False
        return True

    outcomes = await asyncio.gather(*(bid(i, bidder_id) for i, (bidder_id, _) in enumerate(people * 4)))
    accepted = outcomes.count(True)
    house.clock.advance(40 * 86_400)
    closed = await writers[0].transact(
        lambda unit: closing.close_due(unit, house.context.auction_policy), actor_id=None
    )
    await _heard_settle(heard, accepted + 1)

    assert accepted >= 1 and closed == 1
    assert {c for c, _ in heard} == {channel}
    names = [event["event"] for _, event in heard]
    assert names == ["bid"] * accepted + ["closed"]
    assert [event["sequence"] for _, event in heard[:-1]] == list(range(1, accepted + 1))


async def test_a_rolled_back_unit_of_work_notifies_nothing_and_a_committed_one_once(
    house: AuctionHouse, heard: list[tuple[str, dict[str, Any]]]
) -> None:
    context = _relaying(house.context)

    async def publish_then_fail(unit: UnitOfWork) -> None:
        unit.publish("auction:1", {"event": "cancelled", "reason": "never committed"})
        raise RuntimeError("the work fails after publishing")

    async def publish(unit: UnitOfWork) -> None:
        unit.publish("auction:1", {"event": "cancelled", "reason": "committed"})
        unit.publish("auction:1", {"event": "closed"})

    with pytest.raises(RuntimeError):
        await context.transact(publish_then_fail, actor_id=None)
    await context.transact(publish, actor_id=None)
    await _heard_settle(heard, 2)

    assert heard == [
        ("auction:1", {"event": "cancelled", "reason": "committed"}),
        ("auction:1", {"event": "closed"}),
    ]

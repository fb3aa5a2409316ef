"""The scheduler's tick runs a closer only when its probe finds work due (app.scheduler.run_due_work)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from app import scheduler
from app.context import AppContext
from tests.api.auction_support import AuctionHouse


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record which closers a tick runs, and still run them."""
    seen: list[str] = []
    for name in ("close_due_auctions", "default_overdue_winners", "close_due_subscription_books"):
        real = getattr(scheduler, name)

        async def recorded(context: AppContext, name: str = name, real: object = real) -> None:
            seen.append(name)
            await real(context)  # type: ignore[operator]

        monkeypatch.setattr(scheduler, name, recorded)
    return seen


async def test_a_tick_with_nothing_due_runs_no_closer_and_one_that_is_due_runs_it_once(
    house: AuctionHouse, calls: list[str]
) -> None:
    _, seller = await house.bank()
    auction = await house.create(seller)
    ends_at = house.clock() + timedelta(hours=1)

    house.clock.set(ends_at - timedelta(seconds=1))
    await house.tick()
    assert calls == []

    house.clock.set(ends_at)
    await house.tick()
    assert calls == ["close_due_auctions"]
    assert (await house.view(auction["id"], seller))["state"] == "unsold"

    # Closed: the next tick finds nothing again.
    await house.tick()
    assert calls == ["close_due_auctions"]


def test_the_sealer_runs_on_its_own_interval_and_the_closers_on_the_tick(context: AppContext) -> None:
    context.settings = dataclasses.replace(context.settings, scheduler_tick_s=1.0, audit_seal_interval_s=0.25)

    intervals = {job.name: job.every_s for job in scheduler.periodic_jobs(context)}

    assert intervals["run_due_work"] == 1.0
    assert intervals["seal_audit_events"] == 0.25

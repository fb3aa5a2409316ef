"""Two service processes on one PostgreSQL database, the short form of scripts/workers: bids
through both, watchers on both, the scheduler's closes and default, payments sent twice at once."""

from __future__ import annotations

import pytest

from app.db import Database
from scripts.workers_run import Config, run


async def test_two_processes_take_bids_close_once_pay_once_default_once_and_every_watcher_sees_every_bid_in_order(
    database: Database, database_urls: dict[str, str]
) -> None:
    if database.is_sqlite:
        pytest.skip("several processes need PostgreSQL")
    config = Config(workers=2, lots=2, bidders=4, concurrency=8, bid_s=4, payment_deadline_s=6)

    result = await run(config, database_urls["postgres"])

    assert [(c.name, c.detail) for c in result.checks if not c.passed] == []
    assert len(result.checks) == 9
    assert all(accepted > 0 for accepted in result.spread["bids accepted"])
    assert sum(result.spread["lots closed (its scheduler)"]) == config.lots
    assert sum(result.spread["winners defaulted (its scheduler)"]) == 1
    assert sum(result.spread["payments taken"]) == config.lots - 1
    assert result.spread["watchers"] == [config.lots, config.lots]

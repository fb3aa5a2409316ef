"""Migration 0013: collateral items get their state (released for loans already repaid, pledged
for every other), loans a remaining claim; the disposal tables come and go, on both databases."""

from __future__ import annotations

import asyncio
from datetime import date

from alembic import command

from app.db import create_database
from app.migrate import alembic_config
from tests.app.test_bigint_ids_migration import AT, _add, _participant
from tests.app.test_close_failures_migration import _sql


def _loan(loan_id: int, status: str) -> dict[str, object]:
    return {
        "id": loan_id,
        "creditor_id": 1,
        "originator_id": 1,
        "servicer_id": 1,
        "borrower_name": "B",
        "borrower_credit_code": "914403001922038216",
        "principal_fen": 100,
        "outstanding_principal_fen": 0 if status == "repaid" else 100,
        "rate_bps": 385,
        "originated_on": date(2025, 1, 10),
        "matures_on": date(2028, 1, 10),
        "status": status,
        "created_at": AT,
    }


def _item(item_id: int, loan_id: int) -> dict[str, object]:
    return {
        "id": item_id,
        "loan_id": loan_id,
        "position": 0,
        "kind": "invention_patent",
        "registry_number": f"ZL20201000000{item_id}.X",
        "title": "An invention",
        "right_holder": "B",
        "appraisal_fen": 1_000,
        "appraised_on": date(2025, 1, 5),
    }


async def _seed(url: str) -> None:
    database = create_database(url, null_pool=True)
    try:
        async with database.write_engine.begin() as connection:
            await _add(connection, "participants", {"id": 1, **_participant(1)})
            await _add(connection, "loans", _loan(1, "performing"))
            await _add(connection, "loans", _loan(2, "repaid"))
            await _add(connection, "collateral_items", _item(1, 1))
            await _add(connection, "collateral_items", _item(2, 2))
    finally:
        await database.dispose()


def test_collateral_of_repaid_loans_starts_released_and_the_rest_pledged(fresh_url: str) -> None:
    config = alembic_config(fresh_url)
    command.upgrade(config, "0012")
    asyncio.run(_seed(fresh_url))
    command.upgrade(config, "0013")
    states = "SELECT id, state FROM collateral_items ORDER BY id"
    assert asyncio.run(_sql(fresh_url, states)) == [(1, "pledged"), (2, "released")]
    assert asyncio.run(_sql(fresh_url, "SELECT id, remaining_claim_fen FROM loans ORDER BY id")) == [
        (1, None),
        (2, None),
    ]
    assert asyncio.run(_sql(fresh_url, "SELECT COUNT(*) FROM disposal_cases")) == [(0,)]

    command.downgrade(config, "0012")
    assert asyncio.run(_sql(fresh_url, "SELECT id, status FROM loans ORDER BY id")) == [
        (1, "performing"),
        (2, "repaid"),
    ]
    command.upgrade(config, "0013")
    assert asyncio.run(_sql(fresh_url, states)) == [(1, "pledged"), (2, "released")]

"""Migration 0007: on PostgreSQL three foreign keys become statement-level checks, and come back on
downgrade; SQLite keeps its declared keys throughout."""

from __future__ import annotations

import asyncio

from alembic import command
from sqlalchemy import inspect

from app.db import create_database
from app.migrate import alembic_config
from transfer.models.references import STATEMENT_CHECKED_FOREIGN_KEYS


async def _foreign_keys_and_triggers(url: str) -> tuple[set[str | None], set[str]]:
    database = create_database(url, null_pool=True)
    try:
        async with database.write_engine.connect() as connection:
            keys = await connection.run_sync(
                lambda sync: {
                    key["name"]
                    for table in ("ledger_transfers", "repayment_shares")
                    for key in inspect(sync).get_foreign_keys(table)
                }
            )
            triggers: set[str] = set()
            if connection.dialect.name == "postgresql":
                rows = await connection.exec_driver_sql(
                    "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND (tgname LIKE '%references_exist%'"
                    " OR tgname LIKE '%are_permanent%')"
                )
                triggers = {row[0] for row in rows}
            return keys, triggers
    finally:
        await database.dispose()


def test_postgres_swaps_the_bulk_foreign_keys_for_statement_checks_and_back(fresh_url: str) -> None:
    config = alembic_config(fresh_url)
    command.upgrade(config, "0006")
    keys_before, triggers_before = asyncio.run(_foreign_keys_and_triggers(fresh_url))
    assert keys_before >= STATEMENT_CHECKED_FOREIGN_KEYS
    assert triggers_before == set()

    command.upgrade(config, "head")
    keys, triggers = asyncio.run(_foreign_keys_and_triggers(fresh_url))
    if fresh_url.startswith("sqlite"):
        assert keys >= STATEMENT_CHECKED_FOREIGN_KEYS
        assert triggers == set()
    else:
        assert keys.isdisjoint(STATEMENT_CHECKED_FOREIGN_KEYS)
        assert triggers == {
            "ledger_transfers_references_exist_insert",
            "ledger_transfers_references_exist_update",
            "repayment_shares_references_exist_insert",
            "repayment_shares_references_exist_update",
            "accounts_are_permanent_delete",
            "accounts_are_permanent_id",
            "repayments_are_permanent_delete",
            "repayments_are_permanent_id",
        }

    command.downgrade(config, "0006")
    assert asyncio.run(_foreign_keys_and_triggers(fresh_url)) == (keys_before, set())

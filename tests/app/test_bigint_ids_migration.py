"""Migration 0010: every id, and every column that holds one, becomes 64-bit with the data intact;
ids past 2^31 and near 2^62 can then be generated, stored and read back; the downgrade works while
every value fits in 32 bits and refuses, changing nothing, once one does not."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any

import pytest
from alembic import command
from sqlalchemy import MetaData, Table, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

import auction.models  # noqa: F401  (registers the auction tables)
from app.db import create_database
from app.migrate import alembic_config
from transfer.models import Base

AT = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
TABLES = Base.metadata.tables
# A 32-bit column named id or *_id, as PostgreSQL describes it.
INT32_ID_COLUMNS = """
    SELECT table_name || '.' || column_name FROM information_schema.columns
    WHERE table_schema = 'public' AND data_type = 'integer'
      AND (column_name = 'id' OR column_name LIKE '%\\_id')
    ORDER BY 1
"""


def _participant(n: int) -> dict[str, Any]:
    return {
        "name": f"P{n}",
        "roles": "bank,bidder",
        "qualified_investor": True,
        "api_key_sha256": f"{n:064d}",
        "api_key_prefix": "test",
        "active": True,
        "created_at": AT,
    }


def _auction(seller_id: int, **extra: Any) -> dict[str, Any]:
    return {
        "seller_id": seller_id,
        "kind": "english",
        "state": "open",
        "lot_title": "Invention patent ZL2020 1 0000001.X",
        "collateral_ids": "[1]",
        "start_price_fen": 100_000,
        "increment_fen": 1_000,
        "deposit_fen": 10_000,
        "starts_at": AT,
        "ends_at": AT,
        "scheduled_ends_at": AT,
        "extension_window_s": 300,
        "extension_s": 300,
        "reserve_met": False,
        "bid_count": 1,
        "last_sequence": 1,
        "registration_count": 1,
        "created_at": AT,
        **extra,
    }


def _registration(auction_id: int, bidder_id: int) -> dict[str, Any]:
    return {
        "auction_id": auction_id,
        "bidder_id": bidder_id,
        "paddle": 1,
        "deposit_fen": 10_000,
        "deposit_state": "held",
        "barred": False,
        "created_at": AT,
    }


def _bid(auction_id: int, registration_id: int, bidder_id: int, sequence: int) -> dict[str, Any]:
    return {
        "auction_id": auction_id,
        "registration_id": registration_id,
        "bidder_id": bidder_id,
        "paddle": 1,
        "sequence": sequence,
        "amount_fen": 100_000,
        "leading_after": True,
        "superseded": False,
        "received_at": AT,
    }


def _account(participant_id: int) -> dict[str, Any]:
    return {
        "key": f"participant:{participant_id}:available",
        "participant_id": participant_id,
        "code": "available",
        "non_negative": False,
        "balance_fen": 0,
    }


def _transfer(name: str, debit_account_id: int, credit_account_id: int) -> dict[str, Any]:
    return {
        "id": name,
        "kind": "posted",
        "debit_account_id": debit_account_id,
        "credit_account_id": credit_account_id,
        "amount_fen": 500,
        "code": "funds",
        "created_at": AT,
    }


def _trade(seller_id: int, buyer_id: int, offer_id: int | None) -> dict[str, Any]:
    return {
        "listing_id": 1,
        "offer_id": offer_id,
        "loan_id": 1,
        "kind": "income_right",
        "seller_id": seller_id,
        "buyer_id": buyer_id,
        "share_ppm": 1000,
        "price_fen": 100,
        "is_ip_pledge": True,
        "trade_date": date(2026, 6, 1),
        "settlement_due_on": date(2026, 6, 4),
        "status": "pending",
        "created_at": AT,
        "fee_line_count": 1,
        "seller_fees_charged_fen": 0,
        "buyer_fees_charged_fen": 0,
        "fees_waived_fen": 20_000,
    }


def _fee_line(trade_id: int, payer_id: int) -> dict[str, Any]:
    return {
        "trade_id": trade_id,
        "item": "registration",
        "payer": "seller",
        "payer_id": payer_id,
        "gross_fen": 20_000,
        "waived_fen": 20_000,
        "charged_fen": 0,
        "rule": "ip_pledge_waiver_2025",
    }


def _repayment(servicer_id: int) -> dict[str, Any]:
    return {
        "loan_id": 1,
        "servicer_id": servicer_id,
        "principal_fen": 0,
        "interest_fen": 100,
        "received_on": date(2026, 6, 1),
        "holder_count": 1,
        "created_at": AT,
    }


def _share(repayment_id: int, holder_id: int) -> dict[str, Any]:
    return {
        "repayment_id": repayment_id,
        "holder_id": holder_id,
        "share_ppm": 1_000_000,
        "principal_fen": 0,
        "interest_fen": 100,
    }


async def _add(connection: AsyncConnection, table: str, row: dict[str, Any]) -> None:
    # The table as the database has it at this revision, not as the models have it now.
    stored = await connection.run_sync(lambda sync: Table(table, MetaData(), autoload_with=sync))
    await connection.execute(insert(stored), [row])


async def _seed_as_0009_stored_it(url: str) -> None:
    """One of everything, with small ids: two participants, their accounts and a transfer, a loan
    with collateral, its pledge and income right, a listing with an offer and a trade with a fee
    line and borrower notice, an auction with a registration and a bid, a repayment with its
    share, an audit event and a stored answer."""
    database = create_database(url, null_pool=True)
    try:
        async with database.write_engine.begin() as connection:
            for n in (1, 2):
                await _add(connection, "participants", {"id": n, **_participant(n)})
                await _add(connection, "accounts", {"id": n, **_account(n)})
            await _add(connection, "ledger_transfers", _transfer("funds:1", 1, 2))
            await _add(
                connection,
                "loans",
                {
                    "id": 1,
                    "creditor_id": 1,
                    "originator_id": 1,
                    "servicer_id": 1,
                    "borrower_name": "B",
                    "borrower_credit_code": "914403001922038216",
                    "principal_fen": 100,
                    "outstanding_principal_fen": 100,
                    "rate_bps": 385,
                    "originated_on": date(2025, 1, 10),
                    "matures_on": date(2028, 1, 10),
                    "status": "performing",
                    "created_at": AT,
                },
            )
            await _add(
                connection,
                "collateral_items",
                {
                    "id": 1,
                    "loan_id": 1,
                    "position": 0,
                    "kind": "patent",
                    "registry_number": "ZL2020 1 0000001.X",
                    "title": "An invention",
                    "right_holder": "B",
                    "appraisal_fen": 1_000,
                    "appraised_on": date(2025, 1, 5),
                },
            )
            await _add(
                connection,
                "collateral_pledges",
                {
                    "kind": "patent",
                    "registry_key": "ZL202010000001.X",
                    "collateral_id": 1,
                    "loan_id": 1,
                    "pledged_at": AT,
                },
            )
            await _add(connection, "income_rights", {"loan_id": 1, "holder_id": 1, "share_ppm": 1_000_000})
            await _add(
                connection,
                "listings",
                {
                    "id": 1,
                    "loan_id": 1,
                    "seller_id": 1,
                    "kind": "income_right",
                    "mode": "auction",
                    "share_ppm": 1000,
                    "asking_price_fen": 100,
                    "min_unit_ppm": 1,
                    "status": "open",
                    "auction_id": 1,
                    "holders_consent": False,
                    "offer_count": 1,
                    "created_at": AT,
                },
            )
            await _add(
                connection,
                "offers",
                {
                    "id": 1,
                    "listing_id": 1,
                    "buyer_id": 2,
                    "price_fen": 100,
                    "share_ppm": 1000,
                    "sequence": 1,
                    "status": "accepted",
                    "created_at": AT,
                },
            )
            await _add(connection, "trades", {"id": 1, **_trade(1, 2, offer_id=1)})
            await _add(connection, "fee_lines", {"id": 1, **_fee_line(1, 1)})
            await _add(
                connection,
                "borrower_notices",
                {
                    "id": 1,
                    "trade_id": 1,
                    "loan_id": 1,
                    "new_creditor_id": 2,
                    "status": "to_notify",
                    "created_at": AT,
                },
            )
            await _add(connection, "auctions", {"id": 1, **_auction(1, listing_id=1, leader_id=2)})
            await _add(connection, "auction_registrations", {"id": 1, **_registration(1, 2)})
            await _add(connection, "auction_bids", {"id": 1, **_bid(1, 1, 2, sequence=1)})
            await _add(connection, "repayments", {"id": 1, **_repayment(1)})
            await _add(connection, "repayment_shares", _share(1, 1))
            await _add(
                connection,
                "audit_events",
                {
                    "id": 1,
                    "occurred_at": AT,
                    "actor_id": 1,
                    "type": "auction.bid",
                    "subject": "auction:1",
                    "payload": "{}",
                },
            )
            await _add(
                connection,
                "idempotency_records",
                {
                    "participant_id": 2,
                    "key": "k1",
                    "fingerprint": "f" * 64,
                    "response_status": 201,
                    "response_body": "{}",
                    "created_at": AT,
                },
            )
    finally:
        await database.dispose()


async def _every_row(url: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, as the database has them at its revision."""
    database = create_database(url, null_pool=True)
    try:
        async with database.write_engine.connect() as connection:
            stored = MetaData()
            await connection.run_sync(lambda sync: stored.reflect(sync))
            rows = {}
            for table in stored.sorted_tables:
                if table.name == "alembic_version":
                    continue
                result = await connection.execute(select(table).order_by(*table.primary_key.columns))
                rows[table.name] = [dict(row._mapping) for row in result]
            return rows
    finally:
        await database.dispose()


def _common(
    one: dict[str, list[dict[str, Any]]], other: dict[str, list[dict[str, Any]]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Both sets of rows cut to the tables and columns they share (later revisions add and change
    some)."""
    cut: tuple[dict[str, Any], dict[str, Any]] = ({}, {})
    for name in one.keys() & other.keys():
        columns = set(one[name][0] if one[name] else ()) & set(other[name][0] if other[name] else ())
        for side, rows in zip(cut, (one[name], other[name]), strict=True):
            side[name] = [{c: row[c] for c in sorted(columns)} for row in rows]
    return cut


async def _schema_types(url: str) -> tuple[list[str], dict[str, str]]:
    """PostgreSQL: the 32-bit id columns, and each id sequence's type."""
    database = create_database(url, null_pool=True)
    try:
        async with database.write_engine.connect() as connection:
            narrow = [row[0] for row in await connection.execute(text(INT32_ID_COLUMNS))]
            sequences = await connection.execute(text("SELECT sequencename, data_type FROM pg_sequences"))
            return narrow, {name: str(kind) for name, kind in sequences}
    finally:
        await database.dispose()


class Rows:
    """Inserts rows and remembers them to read back. A row with an id gets it, on PostgreSQL, from
    the id sequence moved there first (so the sequence itself must reach past 2^31), and on SQLite
    as given (an INTEGER PRIMARY KEY is the rowid, which was 64-bit all along)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection
        self.written: list[tuple[Table, dict[str, Any]]] = []

    async def with_id(self, table_name: str, row: dict[str, Any], id_at: int) -> int:
        table = TABLES[table_name]
        if self.connection.dialect.name == "postgresql":
            await self.connection.execute(
                text("SELECT setval(pg_get_serial_sequence(:t, 'id'), :v, false)"),
                {"t": table_name, "v": id_at},
            )
            given = (await self.connection.execute(insert(table).returning(table.c.id), [row])).scalar_one()
            assert given == id_at, table_name
        else:
            await self.connection.execute(insert(table), [{"id": id_at, **row}])
        self.written.append((table, {"id": id_at, **row}))
        return id_at

    async def plain(self, table_name: str, row: dict[str, Any]) -> None:
        await self.connection.execute(insert(TABLES[table_name]), [row])
        self.written.append((TABLES[table_name], row))


async def _write_ids_from(url: str, start: int) -> list[tuple[Table, dict[str, Any]]]:
    """A participant, an auction with a registration and bids, an account with a ledger transfer,
    a trade with a fee line, a repayment with a share: every id and every reference from start on."""
    database = create_database(url, null_pool=True)
    try:
        async with database.write_engine.begin() as connection:
            rows = Rows(connection)
            # Keys live in api_keys since migration 0019.
            participant = {k: v for k, v in _participant(start).items() if not k.startswith("api_key")}
            p = await rows.with_id("participants", participant, start)
            a = await rows.with_id(
                "auctions",
                _auction(p, origin_kind="listing", origin_id=start, leader_id=p, winner_id=p),
                start + 1,
            )
            r = await rows.with_id("auction_registrations", _registration(a, p), start + 2)
            await rows.with_id("auction_bids", _bid(a, r, p, sequence=1), start + 3)
            account = await rows.with_id("accounts", _account(p), start + 4)
            await rows.plain("ledger_transfers", _transfer(f"funds:{start}", account, 1))
            trade = await rows.with_id("trades", _trade(p, 2, offer_id=start), start + 5)
            await rows.with_id("fee_lines", _fee_line(trade, p), start + 6)
            repayment = await rows.with_id("repayments", _repayment(p), start + 7)
            await rows.plain("repayment_shares", _share(repayment, p))
            # The next bid id is generated, on both databases, and follows on.
            bids = TABLES["auction_bids"]
            following = await connection.execute(
                insert(bids).returning(bids.c.id), [_bid(a, r, p, sequence=2)]
            )
            assert following.scalar_one() == start + 4
            return rows.written
    finally:
        await database.dispose()


async def _read_back(url: str, written: list[tuple[Table, dict[str, Any]]]) -> None:
    database = create_database(url, null_pool=True)
    try:
        async with database.write_engine.connect() as connection:
            for table, row in written:
                keys = table.primary_key.columns
                found = (
                    await connection.execute(select(table).where(*(key == row[key.name] for key in keys)))
                ).one()
                assert {name: found._mapping[name] for name in row} == row, table.name
    finally:
        await database.dispose()


def test_existing_rows_survive_the_move_to_64_bit_ids_and_ids_past_32_bits_then_work(fresh_url: str) -> None:
    config = alembic_config(fresh_url)
    postgres = fresh_url.startswith("postgresql")
    command.upgrade(config, "0009")
    asyncio.run(_seed_as_0009_stored_it(fresh_url))
    before = asyncio.run(_every_row(fresh_url))
    assert all(before[name] for name in ("participants", "auction_bids", "trades", "fee_lines"))
    if postgres:
        narrow, sequences = asyncio.run(_schema_types(fresh_url))
        assert "auction_bids.id" in narrow and sequences["auction_bids_id_seq"] == "integer"

    command.upgrade(config, "0010")
    assert asyncio.run(_every_row(fresh_url)) == before
    if postgres:
        narrow, sequences = asyncio.run(_schema_types(fresh_url))
        assert narrow == []
        assert set(sequences.values()) == {"bigint"}

    # Back to 32 bits while every value fits, and up again: the rows stay the same throughout.
    command.downgrade(config, "0009")
    assert asyncio.run(_every_row(fresh_url)) == before
    if postgres:
        narrow, sequences = asyncio.run(_schema_types(fresh_url))
        assert "auction_bids.id" in narrow and sequences["auction_bids_id_seq"] == "integer"
    command.upgrade(config, "head")
    after = asyncio.run(_every_row(fresh_url))
    kept, then = _common(after, before)
    assert kept == then

    for start in (2**31 + 5, 2**62):
        written = asyncio.run(_write_ids_from(fresh_url, start))
        asyncio.run(_read_back(fresh_url, written))

    if postgres:
        # An id past 32 bits now exists: the downgrade refuses before changing anything.
        with pytest.raises(RuntimeError, match="beyond 32 bits: cannot downgrade"):
            command.downgrade(config, "0009")
        narrow, _ = asyncio.run(_schema_types(fresh_url))
        assert narrow == []

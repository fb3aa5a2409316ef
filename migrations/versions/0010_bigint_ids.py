"""every id, and every column that holds one, is 64-bit

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 09:00:00

Ids were 32-bit `serial` columns on PostgreSQL: at the bid path's peak the bid ids would run out
within weeks, and a path id above 2^31 - 1 failed in the driver ("value out of int32 range")
instead of finding nothing. Now every id column, every foreign key and every unconstrained column
holding an id (auctions.leader_id, auction_bids.bidder_id, trades.offer_id, ...) is BIGINT, and so
is every id sequence: since PostgreSQL 10 a serial's sequence is itself `AS integer` with MAXVALUE
2^31 - 1, so a BIGINT column alone would still stop at the same number. Counters (sequence,
paddle, bid_count, ...) stay 32-bit. audit_events.id and audit_seals.event_id were 64-bit already.

PostgreSQL rewrites each table once (all its columns in one ALTER TABLE), rebuilds its indexes and
checks again the foreign keys that point at or from it, holding ACCESS EXCLUSIVE locks until the
migration commits: stop the service first; the time grows with the size of the tables. Two
triggers of migration 0007 name accounts.id and repayments.id in their definition (BEFORE UPDATE
OF id), which PostgreSQL refuses to let a type change pass under: they are dropped and created
again, the same, around it. A rewrite discards the altered columns' planner statistics, so the
tables are analyzed again before the service returns to them.

SQLite has nothing to change: every INTEGER column already holds 64 bits, and an INTEGER PRIMARY
KEY is the table's rowid. The models declare BIGINT on PostgreSQL only (transfer.kernel.model_base.IdType),
because a BIGINT primary key on SQLite would stop being the rowid, and would stop getting ids.

The downgrade, to 32-bit columns and sequences again, works only while every value fits; it
refuses, naming the first column or sequence that does not, before changing anything.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here rather than read from the models: a migration must keep meaning what it meant when
# written. Every 32-bit column named id or *_id at revision 0009, by table, parents before children.
_ID_COLUMNS: dict[str, tuple[str, ...]] = {
    "participants": ("id",),
    "accounts": ("id", "participant_id"),
    "idempotency_records": ("participant_id",),
    "ledger_transfers": ("debit_account_id", "credit_account_id"),
    "audit_events": ("actor_id",),
    "audit_head": ("id",),
    "loans": ("id", "creditor_id", "originator_id", "servicer_id"),
    "collateral_items": ("id", "loan_id"),
    "collateral_pledges": ("collateral_id", "loan_id"),
    "income_rights": ("loan_id", "holder_id"),
    "listings": ("id", "loan_id", "seller_id", "auction_id"),
    "offers": ("id", "listing_id", "buyer_id"),
    "auctions": ("id", "seller_id", "listing_id", "rerun_of_id", "leader_id", "winner_id"),
    "auction_registrations": ("id", "auction_id", "bidder_id"),
    "auction_bids": ("id", "auction_id", "registration_id", "bidder_id"),
    "trades": ("id", "listing_id", "offer_id", "loan_id", "seller_id", "buyer_id"),
    "fee_lines": ("id", "trade_id", "payer_id"),
    "borrower_notices": ("id", "trade_id", "loan_id", "new_creditor_id"),
    "repayments": ("id", "loan_id", "servicer_id"),
    "repayment_shares": ("repayment_id", "holder_id"),
}
# Migration 0007's triggers whose definitions name an id column (as 0007 wrote them).
_PERMANENT_PARENTS = ("accounts", "repayments")
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


def _drop_id_triggers() -> None:
    for parent in _PERMANENT_PARENTS:
        op.execute(f"DROP TRIGGER {parent}_are_permanent_id ON {parent}")


def _create_id_triggers() -> None:
    for parent in _PERMANENT_PARENTS:
        op.execute(
            f"CREATE TRIGGER {parent}_are_permanent_id BEFORE UPDATE OF id ON {parent}"
            f" FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION ipx_{parent}_are_permanent()"
        )


def _id_sequences(bind: sa.Connection) -> list[str]:
    """The sequences that give the tables' ids (serial columns), found by the database itself."""
    names = []
    for table, columns in _ID_COLUMNS.items():
        if "id" in columns:
            name = bind.execute(sa.text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table}).scalar()
            if name is not None:
                names.append(str(name))
    return names


def _retype(bind: sa.Connection, sql_type: str) -> None:
    _drop_id_triggers()
    for table, columns in _ID_COLUMNS.items():
        changes = ", ".join(f"ALTER COLUMN {column} TYPE {sql_type}" for column in columns)
        op.execute(f"ALTER TABLE {table} {changes}")
    for sequence in _id_sequences(bind):
        op.execute(f"ALTER SEQUENCE {sequence} AS {sql_type}")
    _create_id_triggers()
    for table in _ID_COLUMNS:
        op.execute(f"ANALYZE {table}")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    _retype(bind, "bigint")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for table, columns in _ID_COLUMNS.items():
        for column in columns:
            low, high = bind.execute(sa.text(f"SELECT min({column}), max({column}) FROM {table}")).one()
            for value in (low, high):
                if value is not None and not _INT32_MIN <= value <= _INT32_MAX:
                    raise RuntimeError(f"{table}.{column} holds {value}, beyond 32 bits: cannot downgrade")
    for sequence in _id_sequences(bind):
        last = bind.execute(sa.text(f"SELECT last_value FROM {sequence}")).scalar_one()
        if last > _INT32_MAX:
            raise RuntimeError(f"sequence {sequence} is at {last}, beyond 32 bits: cannot downgrade")
    _retype(bind, "integer")

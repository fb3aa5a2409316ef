"""bulk-written references checked once per statement on PostgreSQL

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 06:00:00

A repayment to 100,000 holders writes 100,000 ledger transfers and 100,000 repayment shares. A
declarative foreign key makes PostgreSQL run one lookup per row and per key (300,000 lookups, about
0.8 s of a 2 s budget). On PostgreSQL those three keys become one statement-level check each: an
AFTER trigger with a transition table runs a single anti-join over all the rows the statement wrote
and raises foreign_key_violation (SQLSTATE 23503, as a foreign key would) naming the first row whose
account or repayment does not exist.

A foreign key also stops the parent row from disappearing underneath; here the parents cannot
disappear at all: accounts and repayments are permanent records, so a trigger refuses any DELETE
and any change of their id. SQLite keeps the declarative keys (its checks are cheap and it has one
writer); the models still declare them, and migrations/env.py tells `alembic check` that PostgreSQL
enforces these three by trigger (transfer.models.references).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (child table, its column, parent table, the foreign key this replaces on PostgreSQL)
_REFERENCES = [
    ("ledger_transfers", "debit_account_id", "accounts", "fk_ledger_transfers_debit_account_id_accounts"),
    ("ledger_transfers", "credit_account_id", "accounts", "fk_ledger_transfers_credit_account_id_accounts"),
    ("repayment_shares", "repayment_id", "repayments", "fk_repayment_shares_repayment_id_repayments"),
]
_PERMANENT_PARENTS = ("accounts", "repayments")


def _check_function(child: str) -> str:
    missing = " OR ".join(
        f"NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.id = n.{column})"
        for table, column, parent, _ in _REFERENCES
        if table == child
    )
    return f"""
CREATE FUNCTION ipx_{child}_references_exist() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    orphan text;
BEGIN
    SELECT row_to_json(n)::text INTO orphan FROM written n WHERE {missing} LIMIT 1;
    IF orphan IS NOT NULL THEN
        RAISE EXCEPTION 'insert or update on table "{child}" names a row that does not exist: %', orphan
            USING ERRCODE = 'foreign_key_violation', TABLE = '{child}';
    END IF;
    RETURN NULL;
END
$$"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for parent in _PERMANENT_PARENTS:
        op.execute(
            f"""
CREATE FUNCTION ipx_{parent}_are_permanent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{parent} are permanent: rows are never deleted and ids never change'
        USING ERRCODE = 'restrict_violation', TABLE = '{parent}';
END
$$"""
        )
        op.execute(
            f"CREATE TRIGGER {parent}_are_permanent_delete BEFORE DELETE ON {parent}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION ipx_{parent}_are_permanent()"
        )
        op.execute(
            f"CREATE TRIGGER {parent}_are_permanent_id BEFORE UPDATE OF id ON {parent}"
            f" FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION ipx_{parent}_are_permanent()"
        )
    for child in sorted({table for table, _, _, _ in _REFERENCES}):
        op.execute(_check_function(child))
        # A trigger with a transition table serves one event, so inserts and updates get one each.
        for event in ("INSERT", "UPDATE"):
            op.execute(
                f"CREATE TRIGGER {child}_references_exist_{event.lower()} AFTER {event} ON {child}"
                f" REFERENCING NEW TABLE AS written FOR EACH STATEMENT"
                f" EXECUTE FUNCTION ipx_{child}_references_exist()"
            )
    for table, _, _, constraint in _REFERENCES:
        op.drop_constraint(constraint, table, type_="foreignkey")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, parent, constraint in _REFERENCES:
        op.create_foreign_key(constraint, table, parent, [column], ["id"])
    for child in sorted({table for table, _, _, _ in _REFERENCES}):
        for event in ("insert", "update"):
            op.execute(f"DROP TRIGGER {child}_references_exist_{event} ON {child}")
        op.execute(f"DROP FUNCTION ipx_{child}_references_exist()")
    for parent in _PERMANENT_PARENTS:
        op.execute(f"DROP TRIGGER {parent}_are_permanent_id ON {parent}")
        op.execute(f"DROP TRIGGER {parent}_are_permanent_delete ON {parent}")
        op.execute(f"DROP FUNCTION ipx_{parent}_are_permanent()")

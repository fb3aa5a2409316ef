"""Foreign keys that PostgreSQL enforces once per statement rather than once per row.

The models declare these keys, and SQLite enforces them as declared. On PostgreSQL, migration 0007
replaces them with statement-level triggers. Those triggers check every row a statement wrote with
one anti-join, so a repayment to 100,000 holders does not pay for 300,000 single-row lookups. The
parents (accounts, repayments) are made permanent: their rows are never deleted and their ids never
change. migrations/env.py reads this list so that `alembic check` does not report these keys as
missing on PostgreSQL.
"""

from __future__ import annotations

STATEMENT_CHECKED_FOREIGN_KEYS = frozenset(
    {
        "fk_ledger_transfers_debit_account_id_accounts",
        "fk_ledger_transfers_credit_account_id_accounts",
        "fk_repayment_shares_repayment_id_repayments",
    }
)

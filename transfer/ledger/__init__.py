"""The ledger: double-entry accounts, idempotent transfers and two-phase holds.

Every movement debits one account and credits another by the same positive amount, so the sum
of all balances stays zero. Movements add to the unit of work's net delta per account; the deltas
are applied once, just before commit, with one conditional UPDATE per account in account-id order:

* an overdraft of a non-negative account is refused by the WHERE clause itself, correct under any
  number of concurrent writers on both databases (PostgreSQL re-checks the condition after waiting
  for the row lock; SQLite has a single writer), and aborts the whole unit of work;
* every transaction locks its accounts in the same global order, so transactions touching the
  same accounts in different orders cannot deadlock, and the row locks are held only until commit."""

from __future__ import annotations

from transfer.ledger.accounts import (
    AVAILABLE,
    CENTER_ACCOUNT_CODES,
    COMPENSATION_FUND,
    ESCROW,
    EXTERNAL,
    FEE_INCOME,
    HELD,
    PARTICIPANT_ACCOUNT_CODES,
    PATENT_OFFICE,
    PENDING,
    PLEDGOR_SURPLUS,
    POSTED,
    VOIDED,
    Balances,
    account_id,
    balances,
    center_account_key,
    ensure_center_accounts,
    fund_account_key,
    ledger_sum_fen,
    open_participant_accounts,
    participant_account_id,
    participant_account_ids,
    participant_account_key,
)
from transfer.ledger.deltas import BULK_CREDIT_ROWS, apply_balance_deltas, current_balances
from transfer.ledger.funds import (
    booked_receipt,
    receipt_transfer_id,
    record_funds,
    reference_booked,
    withdraw,
    withdrawal_transfer_id,
)
from transfer.ledger.holds import (
    HoldResolution,
    hold,
    pending_amounts,
    post_hold,
    resolve_holds,
    void_hold,
)
from transfer.ledger.posting import (
    TRANSFER_COLUMNS,
    Movement,
    is_unique_violation,
    post_fan_out,
    post_movements,
    post_transfer,
)

__all__ = [
    "AVAILABLE",
    "BULK_CREDIT_ROWS",
    "CENTER_ACCOUNT_CODES",
    "COMPENSATION_FUND",
    "ESCROW",
    "EXTERNAL",
    "FEE_INCOME",
    "HELD",
    "PARTICIPANT_ACCOUNT_CODES",
    "PATENT_OFFICE",
    "PENDING",
    "PLEDGOR_SURPLUS",
    "POSTED",
    "TRANSFER_COLUMNS",
    "VOIDED",
    "Balances",
    "HoldResolution",
    "Movement",
    "account_id",
    "apply_balance_deltas",
    "balances",
    "booked_receipt",
    "center_account_key",
    "current_balances",
    "ensure_center_accounts",
    "fund_account_key",
    "hold",
    "is_unique_violation",
    "ledger_sum_fen",
    "open_participant_accounts",
    "participant_account_id",
    "participant_account_ids",
    "participant_account_key",
    "pending_amounts",
    "post_fan_out",
    "post_hold",
    "post_movements",
    "post_transfer",
    "receipt_transfer_id",
    "record_funds",
    "reference_booked",
    "resolve_holds",
    "void_hold",
    "withdraw",
    "withdrawal_transfer_id",
]

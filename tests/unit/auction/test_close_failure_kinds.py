"""Which failed closes are a lot's doing (set the lot aside) and which are the database's (retry)."""

from __future__ import annotations

import asyncio

from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError

from auction.close_isolation import MAX_REASON_LENGTH, describe, is_lot_failure
from transfer.kernel.errors import Conflict


def test_a_rule_a_constraint_or_a_bug_is_the_lots_failure() -> None:
    assert is_lot_failure(Conflict("listing_not_open", "listing 5 is matched"))
    assert is_lot_failure(IntegrityError("INSERT", {}, Exception("duplicate key")))
    assert is_lot_failure(DataError("UPDATE", {}, Exception("value out of range")))
    assert is_lot_failure(AssertionError("state"))
    assert is_lot_failure(KeyError("winner"))


def test_a_lost_connection_or_a_busy_database_is_not() -> None:
    assert not is_lot_failure(OperationalError("SELECT", {}, Exception("database is locked")))
    assert not is_lot_failure(InterfaceError("SELECT", {}, Exception("connection is closed")))
    assert not is_lot_failure(ConnectionResetError("reset by peer"))
    assert not is_lot_failure(TimeoutError())
    assert not is_lot_failure(asyncio.CancelledError())
    invalidated = DataError("SELECT", {}, Exception("gone"), connection_invalidated=True)
    assert not is_lot_failure(invalidated)


def test_the_reason_names_the_rule_and_is_bounded() -> None:
    assert (
        describe(Conflict("listing_not_open", "listing 5 is matched"))
        == "listing_not_open: listing 5 is matched"
    )
    assert describe(KeyError("winner")) == "KeyError: 'winner'"
    assert len(describe(RuntimeError("x" * 2_000))) == MAX_REASON_LENGTH

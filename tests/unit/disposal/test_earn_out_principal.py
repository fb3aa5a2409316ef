"""How much of an earn-out's payment of a remaining claim is principal (what a fund claws back on)."""

from __future__ import annotations

from auction.disposal.earn_outs import principal_part_fen
from auction.disposal.rules.waterfall import Part

ORDER = (Part.COSTS, Part.INTEREST, Part.PRINCIPAL)
PRINCIPAL_FIRST = (Part.PRINCIPAL, Part.INTEREST, Part.COSTS)


def test_a_remaining_claim_of_principal_only_is_principal_all_through() -> None:
    assert principal_part_fen(2_000_000, 135_000_000, 135_000_000, ORDER) == 2_000_000


def test_the_other_parts_are_paid_first_unless_principal_leads() -> None:
    # 50,000.00 of interest remains before 1,000,000.00 of principal.
    assert principal_part_fen(3_000_000, 105_000_000, 100_000_000, ORDER) == 0
    assert principal_part_fen(8_000_000, 105_000_000, 100_000_000, ORDER) == 3_000_000
    assert principal_part_fen(3_000_000, 105_000_000, 100_000_000, PRINCIPAL_FIRST) == 3_000_000


def test_never_more_principal_than_remains() -> None:
    assert principal_part_fen(10_000, 5_000, 5_000, PRINCIPAL_FIRST) == 5_000
    assert principal_part_fen(10_000, 5_000, 8_000, ORDER) == 5_000
    assert principal_part_fen(0, 5_000, 5_000, ORDER) == 0

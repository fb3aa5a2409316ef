"""A bundle lot: several disposal cases sold as one lot (DESIGN §3, 集中拍卖 sessions).

A bundle starts at no less than the sum of its cases' own minimums, so no case is sold below its own
floor by being bundled; its proceeds go back to the cases in proportion to their appraisals, largest
remainder, to the fen, and each case's share then runs through that case's waterfall.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from transfer.rules.largest_remainder import allocate


def bundle_minimum_fen(case_minimums_fen: Iterable[int]) -> int:
    """The least start price of a bundle: the sum of its cases' minimums.

    Raises ValueError for no case or a negative minimum.
    """
    minimums_fen = list(case_minimums_fen)
    if not minimums_fen:
        raise ValueError("a bundle has at least one case")
    if any(minimum_fen < 0 for minimum_fen in minimums_fen):
        raise ValueError("a case's minimum must not be negative")
    return sum(minimums_fen)


def split_by_appraisal(total_fen: int, appraisals: Mapping[int, int]) -> dict[int, int]:
    """Split `total_fen` over the cases (case id -> appraisal in fen); the parts sum exactly.

    Largest remainder over the appraisals; when every appraisal is zero, equal weights. A tie of
    remainders goes to the lower case id, whatever the mapping's order. Raises ValueError for a
    negative total, no case, or a negative appraisal.
    """
    if total_fen < 0:
        raise ValueError(f"total_fen must not be negative, got {total_fen}")
    if not appraisals:
        raise ValueError("a bundle has at least one case")
    if any(appraisal_fen < 0 for appraisal_fen in appraisals.values()):
        raise ValueError("an appraisal must not be negative")
    case_ids = sorted(appraisals)
    weights = [appraisals[case_id] for case_id in case_ids]
    if not any(weights):
        # Nothing to weigh by: equal parts rather than refusing to split real money.
        weights = [1] * len(weights)
    parts_fen = allocate(total_fen, weights)
    assert sum(parts_fen) == total_fen
    return dict(zip(case_ids, parts_fen, strict=True))

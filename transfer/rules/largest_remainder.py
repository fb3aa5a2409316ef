"""Split an integer total in proportion to integer weights so the parts add up exactly.

The largest-remainder (Hamilton) method: every part first gets the floor of its exact share, then the
few units the floors left over go one each to the parts with the largest fractional remainders. It is
the only rounding that makes parts sum to the whole while keeping each part within one unit of its
exact share, which is what the money invariant (DESIGN §4.1) demands of every split.

All arithmetic is on integers: a remainder is `total * weight mod total_weight`, compared exactly, so
no float ever decides who gets the odd fen.
"""

from __future__ import annotations

from collections.abc import Sequence


def allocate(total: int, weights: Sequence[int], *, tie_order: Sequence[int] | None = None) -> list[int]:
    """Split `total` units in proportion to `weights`; the result sums exactly to `total`.

    Every part lies between the floor and the ceiling of its exact share `total * w / sum(weights)`;
    a zero weight always gets zero.

    `tie_order` lists the indices of `weights` in order of precedence: when two remainders are equal,
    the index that appears earlier in `tie_order` gets the leftover unit first. By default the lower
    index wins, so callers that pass their entries in a meaningful order (time of subscription, order
    of registration) get that order as the tie-break.

    Raises ValueError for a negative total or weight, a positive total with zero total weight, or a
    `tie_order` that is not a permutation of the indices.
    """
    if total < 0:
        raise ValueError(f"total must not be negative, got {total}")
    if any(weight < 0 for weight in weights):
        raise ValueError("weights must not be negative")
    precedence = _precedence(len(weights), tie_order)
    weight_total = sum(weights)
    if weight_total == 0:
        if total != 0:
            raise ValueError("cannot split a positive total over weights that sum to zero")
        return [0] * len(weights)

    parts = [total * weight // weight_total for weight in weights]
    remainders = [total * weight % weight_total for weight in weights]
    leftover = total - sum(parts)
    # sum(remainders) == leftover * weight_total and every remainder < weight_total, so at least
    # `leftover` entries have a positive remainder: the leftover never lands on a zero weight.
    assert 0 <= leftover < max(1, len(weights))
    ranked = sorted(range(len(weights)), key=lambda index: (-remainders[index], precedence[index]))
    for index in ranked[:leftover]:
        parts[index] += 1

    assert sum(parts) == total
    return parts


def allocate_capped(
    total: int,
    weights: Sequence[int],
    caps: Sequence[int],
    *,
    tie_order: Sequence[int] | None = None,
) -> list[int]:
    """Split `total` in proportion to `weights`, never giving an entry more than its cap.

    Cap and redistribute: an entry whose exact pro-rata share reaches its cap gets exactly its cap and
    leaves; the rest is re-split in proportion to the remaining weights, until nobody's exact share
    reaches their cap. The final split uses `allocate`, so it sums exactly and, because every exact
    share is then strictly below an integer cap, rounding up cannot breach a cap either.

    Raises ValueError (besides `allocate`'s reasons) when `caps` and `weights` differ in length, a cap
    is negative, or the caps of the positive weights cannot hold `total`.
    """
    if len(caps) != len(weights):
        raise ValueError(f"caps has {len(caps)} entries but weights has {len(weights)}")
    if any(cap < 0 for cap in caps):
        raise ValueError("caps must not be negative")
    if total < 0:
        raise ValueError(f"total must not be negative, got {total}")
    if any(weight < 0 for weight in weights):
        raise ValueError("weights must not be negative")
    precedence = _precedence(len(weights), tie_order)
    capacity = sum(cap for weight, cap in zip(weights, caps, strict=True) if weight > 0)
    if capacity < total:
        raise ValueError(f"the caps of the positively weighted entries hold {capacity}, less than {total}")

    parts = [0] * len(weights)
    active = [index for index, weight in enumerate(weights) if weight > 0 and caps[index] > 0]
    remaining = total
    # Each pass either fixes at least one entry at its cap or ends the loop, so it runs at most
    # len(weights) + 1 times.
    for _ in range(len(weights) + 1):
        active_weight = sum(weights[index] for index in active)
        capped = {index for index in active if remaining * weights[index] >= caps[index] * active_weight}
        if not capped:
            break
        for index in capped:
            parts[index] = caps[index]
            remaining -= caps[index]
        active = [index for index in active if index not in capped]
    else:  # pragma: no cover - the bound above makes this unreachable
        raise AssertionError("cap-and-redistribute did not converge")

    if active:
        # Order the survivors by the caller's precedence so `allocate` breaks ties the same way.
        active.sort(key=lambda index: precedence[index])
        shares = allocate(remaining, [weights[index] for index in active])
        for index, share in zip(active, shares, strict=True):
            parts[index] = share
    else:
        assert remaining == 0

    assert sum(parts) == total
    assert all(part <= cap for part, cap in zip(parts, caps, strict=True))
    return parts


def _precedence(count: int, tie_order: Sequence[int] | None) -> list[int]:
    """Rank of each index in the tie-break order (0 = wins ties first)."""
    if tie_order is None:
        return list(range(count))
    if sorted(tie_order) != list(range(count)):
        raise ValueError(f"tie_order must be a permutation of the indices 0..{count - 1}")
    precedence = [0] * count
    for rank, index in enumerate(tie_order):
        precedence[index] = rank
    return precedence

"""Allocate an income-right subscription book (份额认购) among its subscribers.

A seller offers `share_ppm_offered` of a loan's income right; buyers subscribe for shares in whole
multiples of the listing's `min_unit_ppm`. When the book closes:

* undersubscribed (requests total at most the offer): every subscriber gets exactly what they asked;
  the unsubscribed rest stays with the seller;
* oversubscribed: the offer is split pro rata to the requests, in whole units, by the largest-remainder
  method; equal remainders go to the earlier subscription; nobody gets more than they asked (cap and
  redistribute — with weights equal to the requests the cap can never bind, but it is enforced
  rather than assumed).

An offer that is not a whole number of units: when oversubscribed, only the whole units of the offer
are allocated (`share_ppm_offered // min_unit_ppm` units) and the odd remainder, less than one unit,
stays with the seller and is reported as `share_ppm_unallocated`. Splitting it would hand someone a
fraction of a unit, which the listing promised never to sell. Services may prefer to refuse such
listings up front; the rule stays correct either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from transfer.rules.largest_remainder import allocate_capped
from transfer.rules.shares import WHOLE_SHARE_PPM


@dataclass(frozen=True, slots=True)
class Subscription:
    subscription_id: int
    share_ppm_requested: int
    # Server receipt order: lower is earlier. An integer, not a timestamp, so two subscriptions in the
    # same microsecond still have a strict order.
    sequence: int


@dataclass(frozen=True, slots=True)
class SubscriptionAllocation:
    subscription_id: int
    share_ppm_requested: int
    share_ppm_allocated: int


@dataclass(frozen=True, slots=True)
class SubscriptionOutcome:
    # One allocation per subscription, in the order the subscriptions were given.
    allocations: tuple[SubscriptionAllocation, ...]
    share_ppm_offered: int
    share_ppm_allocated: int
    # What stays with the seller: the unsubscribed rest, or the odd part of an offer that is not a
    # whole number of units.
    share_ppm_unallocated: int
    oversubscribed: bool


def subscription_request_error(
    share_ppm_requested: int, *, share_ppm_offered: int, min_unit_ppm: int
) -> str | None:
    """Why a subscription request cannot enter the book, or None when it can."""
    if share_ppm_requested <= 0:
        return "share_ppm must be positive"
    if share_ppm_requested % min_unit_ppm != 0:
        return f"share_ppm must be a whole multiple of the listing's min_unit_ppm ({min_unit_ppm})"
    if share_ppm_requested > share_ppm_offered:
        return f"share_ppm exceeds the {share_ppm_offered} ppm offered"
    return None


def allocate_subscriptions(
    share_ppm_offered: int, min_unit_ppm: int, subscriptions: Sequence[Subscription]
) -> SubscriptionOutcome:
    """Close the book: see the module docstring for the rule.

    Raises ValueError for an offer outside (0, 1,000,000] ppm, a unit outside (0, offer], a repeated
    subscription_id or sequence, or a request that `subscription_request_error` refuses.
    """
    if not 0 < share_ppm_offered <= WHOLE_SHARE_PPM:
        raise ValueError(f"share_ppm_offered must be in (0, {WHOLE_SHARE_PPM}], got {share_ppm_offered}")
    if not 0 < min_unit_ppm <= share_ppm_offered:
        raise ValueError(f"min_unit_ppm must be in (0, share_ppm_offered], got {min_unit_ppm}")
    if len({subscription.subscription_id for subscription in subscriptions}) != len(subscriptions):
        raise ValueError("subscription_id must be unique")
    if len({subscription.sequence for subscription in subscriptions}) != len(subscriptions):
        raise ValueError("sequence must be unique: the tie-break needs a strict time order")
    for subscription in subscriptions:
        reason = subscription_request_error(
            subscription.share_ppm_requested, share_ppm_offered=share_ppm_offered, min_unit_ppm=min_unit_ppm
        )
        if reason is not None:
            raise ValueError(f"subscription {subscription.subscription_id}: {reason}")

    share_ppm_requested_total = sum(subscription.share_ppm_requested for subscription in subscriptions)
    oversubscribed = share_ppm_requested_total > share_ppm_offered
    if oversubscribed:
        shares_ppm_allocated = _pro_rata_in_units(share_ppm_offered, min_unit_ppm, subscriptions)
    else:
        shares_ppm_allocated = [subscription.share_ppm_requested for subscription in subscriptions]

    allocations = tuple(
        SubscriptionAllocation(
            subscription_id=subscription.subscription_id,
            share_ppm_requested=subscription.share_ppm_requested,
            share_ppm_allocated=share_ppm_allocated,
        )
        for subscription, share_ppm_allocated in zip(subscriptions, shares_ppm_allocated, strict=True)
    )
    share_ppm_allocated_total = sum(shares_ppm_allocated)
    outcome = SubscriptionOutcome(
        allocations=allocations,
        share_ppm_offered=share_ppm_offered,
        share_ppm_allocated=share_ppm_allocated_total,
        share_ppm_unallocated=share_ppm_offered - share_ppm_allocated_total,
        oversubscribed=oversubscribed,
    )

    assert all(a.share_ppm_allocated <= a.share_ppm_requested for a in allocations)
    assert all(a.share_ppm_allocated % min_unit_ppm == 0 for a in allocations)
    assert outcome.share_ppm_unallocated >= 0
    if oversubscribed:
        assert outcome.share_ppm_unallocated < min_unit_ppm
    return outcome


def _pro_rata_in_units(
    share_ppm_offered: int, min_unit_ppm: int, subscriptions: Sequence[Subscription]
) -> list[int]:
    units_offered = share_ppm_offered // min_unit_ppm
    units_requested = [subscription.share_ppm_requested // min_unit_ppm for subscription in subscriptions]
    earliest_first = sorted(range(len(subscriptions)), key=lambda index: subscriptions[index].sequence)
    units_allocated = allocate_capped(
        units_offered, units_requested, units_requested, tie_order=earliest_first
    )
    return [units * min_unit_ppm for units in units_allocated]

"""Standing commitments meet cases: automatic offers when a case opens or enters its buyout
window, and the creditor's standing accept (`accept_commitments_at_or_above`) in that window.

Both run inside the transaction that opened the case or moved it, under the case's lock. Several
commitments on one case: the highest price wins, a tie goes to the earlier commitment.
"""

from __future__ import annotations

from sqlalchemy import select

from auction.disposal.buyout import settle_offer
from auction.disposal.cases import CaseState, DefaultSpec, open_case
from auction.disposal.models import DisposalCase
from auction.disposal.policy import DisposalPolicy
from auction.operation import commitments, offers
from auction.operation.models import BuyoutOffer
from auction.operation.terms import BPS_WHOLE
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models.loans import CollateralItem


async def _facts(unit: UnitOfWork, case: DisposalCase) -> commitments.CaseForOffers:
    kinds = (
        await unit.session.execute(select(CollateralItem.kind).where(CollateralItem.loan_id == case.loan_id))
    ).scalars()
    return commitments.CaseForOffers(case.id, case.appraisal_fen, frozenset(kinds))


async def declare_default(
    unit: UnitOfWork,
    loan_id: int,
    creditor_id: int,
    spec: DefaultSpec,
    auto_advance_default: bool,
    policy: DisposalPolicy,
) -> DisposalCase:
    """The default opens the case, and standing commitments offer on it at once."""
    case = await open_case(
        unit,
        loan_id,
        creditor_id,
        spec,
        auto_advance_default,
        claim_bounds=policy.claim_bounds,
        seasoning_days=policy.compensation_seasoning_days,
    )
    await commitments.make_offers(unit, await _facts(unit, case), policy.operation)
    return case


async def buyout_window_opened(unit: UnitOfWork, case: DisposalCase, policy: DisposalPolicy) -> None:
    """The case waits in its buyout window: commitments offer (once each), and a creditor's
    standing accept takes the best commitment offer that reaches its threshold."""
    assert case.state == CaseState.BUYOUT_WINDOW
    await commitments.make_offers(unit, await _facts(unit, case), policy.operation)
    threshold_bps = case.accept_commitments_at_or_above_bps
    if threshold_bps is None:
        return
    candidates = (
        await unit.session.execute(
            select(BuyoutOffer)
            .where(
                BuyoutOffer.case_id == case.id,
                BuyoutOffer.state == offers.LIVE,
                BuyoutOffer.commitment_id.is_not(None),
                BuyoutOffer.valid_until > unit.now,
            )
            # The highest price; at equal prices the earlier commitment.
            .order_by(BuyoutOffer.price_fen.desc(), BuyoutOffer.commitment_id)
            .limit(1)
        )
    ).scalar_one_or_none()
    if candidates is None or candidates.price_fen * BPS_WHOLE < threshold_bps * case.appraisal_fen:
        return
    best = await offers.lock_offer(unit, candidates.id)
    unit.record(
        "buyout.accepted_by_standing_order",
        f"disposal:{case.id}",
        {"offer_id": best.id, "threshold_bps": threshold_bps, "price_fen": best.price_fen},
    )
    await settle_offer(unit, case, best, 0, policy)

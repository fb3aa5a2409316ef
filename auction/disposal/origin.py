"""The origin handler of disposal auctions (`disposal_round`): each auction is one step of a case.

The house calls it inside its own transactions (auction.origins): at creation it checks the step is
the seller's and waits for this auction; at close, payment and default it moves the case on. The
house leaves a disposal's proceeds in escrow (`takes_proceeds`); the payment leaves each case
`settling`, and the scheduler splits them (proceeds.settle_paid).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence

from sqlalchemy import select

from auction.disposal.cases import lock_case, refuse_barred
from auction.disposal.models import DisposalBar, DisposalCase, DisposalStep
from auction.disposal.policy import DisposalPolicy
from auction.disposal.proceeds import mark_sold
from auction.disposal.rules.bundles import split_by_appraisal
from auction.disposal.steps import step_cancelled, step_failed
from auction.models import Auction
from auction.origins import OriginHandler, SaleTaken
from auction.payment import winner_registration
from transfer.kernel.errors import Conflict, Forbidden
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models.loans import CollateralItem


class CaseAuctions(OriginHandler, ABC):
    """What every disposal auction does once it runs: it is a round of one case or more (a session's
    bundle), and its outcome is each case's. A single case is a bundle of one: its share of the
    price and of a forfeited deposit, split by appraisal, is the whole."""

    takes_proceeds = True

    def __init__(self, policy_of: Callable[[], DisposalPolicy]) -> None:
        # A function, not the policy: the disposal policy holds the auction policy that holds this
        # handler (app/context.py builds both from the settings).
        self._policy = policy_of

    @abstractmethod
    async def cases_of(self, unit: UnitOfWork, auction: Auction) -> list[tuple[DisposalCase, DisposalStep]]:
        """The auction's cases, locked in id order, each with its step this auction sells."""

    async def sold(self, unit: UnitOfWork, auction: Auction, winner_id: int, price_fen: int) -> SaleTaken:
        pairs = await self.cases_of(unit, auction)
        for _, step in pairs:
            step.result = "awaiting_payment"
        return SaleTaken({"disposal_ids": [case.id for case, _ in pairs]})

    async def unsold(self, unit: UnitOfWork, auction: Auction) -> None:
        for _, step in await self.cases_of(unit, auction):
            why = f"auction {auction.id} closed unsold ({auction.unsold_reason})"
            await step_failed(unit, step, "unsold", why, self._policy())

    async def defaulted(self, unit: UnitOfWork, auction: Auction) -> None:
        pairs = await self.cases_of(unit, auction)
        assert auction.winner_id is not None
        winner = await winner_registration(unit, auction)
        # Left in escrow by the house (takes_proceeds): it joins the cases' proceeds (第24条).
        forfeited_fen = winner.deposit_fen if winner.deposit_hold_id is not None else 0
        shares = split_by_appraisal(forfeited_fen, {case.id: case.appraisal_fen for case, _ in pairs})
        for case, step in pairs:
            case.forfeited_deposits_fen += shares[case.id]
            unit.session.add(
                DisposalBar(
                    case_id=case.id, bidder_id=auction.winner_id, auction_id=auction.id, created_at=unit.now
                )
            )
            why = f"the winner of auction {auction.id} did not pay by the deadline"
            await step_failed(unit, step, "winner_defaulted", why, self._policy())

    async def cancelled(self, unit: UnitOfWork, auction: Auction) -> None:
        for _, step in await self.cases_of(unit, auction):
            await step_cancelled(unit, step, self._policy())

    async def paid(self, unit: UnitOfWork, auction: Auction) -> None:
        pairs = await self.cases_of(unit, auction)
        assert auction.winner_id is not None and auction.final_price_fen is not None
        shares = split_by_appraisal(
            auction.final_price_fen, {case.id: case.appraisal_fen for case, _ in pairs}
        )
        for case, step in pairs:
            step.result = "sold"
            step.ended_at = unit.now
            mark_sold(unit, case, auction.winner_id, shares[case.id])


class DisposalRounds(CaseAuctions):
    async def _step(self, unit: UnitOfWork, auction: Auction) -> DisposalStep:
        assert auction.origin_id is not None
        step = await unit.session.get(DisposalStep, auction.origin_id)
        assert step is not None, (
            f"auction {auction.id} names disposal step {auction.origin_id}, which is gone"
        )
        return step

    async def claim(
        self, unit: UnitOfWork, seller_id: int, origin_id: int, collateral_ids: Sequence[int]
    ) -> None:
        step = await unit.session.get(DisposalStep, origin_id)
        if step is None or step.auction_id is not None:
            # Disposal auctions are made by their case (POST /disposals/{id}/rounds), never directly.
            raise Forbidden("not_your_disposal", "a disposal round is created through its case", field="lot")
        case = await lock_case(unit, step.case_id)
        if case.creditor_id != seller_id:
            raise Forbidden("not_your_disposal", "only the case's creditor sells its collateral", field="lot")
        items = set(
            (
                await unit.session.execute(
                    select(CollateralItem.id).where(CollateralItem.loan_id == case.loan_id)
                )
            ).scalars()
        )
        if set(collateral_ids) != items:
            raise Conflict(
                "lot_not_the_collateral",
                "a disposal lot is the whole collateral of its case",
                field="lot.collateral_ids",
            )

    async def attach(self, unit: UnitOfWork, origin_id: int, auction: Auction) -> None:
        step = await unit.session.get(DisposalStep, origin_id)
        assert step is not None
        step.auction_id = auction.id

    async def admit(self, unit: UnitOfWork, auction: Auction, bidder_id: int) -> int | None:
        step = await self._step(unit, auction)
        await refuse_barred(unit, [step.case_id], bidder_id)
        return None

    async def cases_of(self, unit: UnitOfWork, auction: Auction) -> list[tuple[DisposalCase, DisposalStep]]:
        step = await self._step(unit, auction)
        return [(await lock_case(unit, step.case_id), step)]

"""The origin handler of disposal auctions (`disposal_round`): each auction is one step of a case.

The house calls it inside its own transactions (auction.origins): at creation it checks the step is
the seller's and waits for this auction; at close, payment and default it moves the case on. The
house leaves a disposal's proceeds in escrow (`takes_proceeds`), and the payment splits them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import select

from auction.disposal.cases import lock_case
from auction.disposal.models import DisposalBar, DisposalStep
from auction.disposal.policy import DisposalPolicy
from auction.disposal.proceeds import settle_sale
from auction.disposal.steps import step_failed
from auction.models import Auction, Registration
from auction.origins import OriginHandler, SaleTaken
from transfer.kernel.errors import Conflict, Forbidden
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models.loans import CollateralItem


class DisposalRounds(OriginHandler):
    takes_proceeds = True

    def __init__(self, policy_of: Callable[[], DisposalPolicy]) -> None:
        # A function, not the policy: the disposal policy holds the auction policy that holds this
        # handler (app/context.py builds both from the settings).
        self._policy = policy_of

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

    async def admit(self, unit: UnitOfWork, auction: Auction, bidder_id: int) -> None:
        step = await self._step(unit, auction)
        barred = await unit.session.get(DisposalBar, (step.case_id, bidder_id))
        if barred is not None:
            raise Forbidden(
                "barred_from_case",
                f"a winner who defaulted on auction {barred.auction_id} may not bid on this case again (规定第24条)",
            )

    async def sold(self, unit: UnitOfWork, auction: Auction, winner_id: int, price_fen: int) -> SaleTaken:
        step = await self._step(unit, auction)
        step.result = "awaiting_payment"
        return SaleTaken({"disposal_id": step.case_id})

    async def unsold(self, unit: UnitOfWork, auction: Auction) -> None:
        step = await self._step(unit, auction)
        await step_failed(
            unit,
            step,
            "unsold",
            f"auction {auction.id} closed unsold ({auction.unsold_reason})",
            self._policy(),
        )

    async def defaulted(self, unit: UnitOfWork, auction: Auction) -> None:
        step = await self._step(unit, auction)
        case = await lock_case(unit, step.case_id)
        assert auction.winner_id is not None
        winner = (
            await unit.session.execute(
                select(Registration).where(
                    Registration.auction_id == auction.id, Registration.bidder_id == auction.winner_id
                )
            )
        ).scalar_one()
        if winner.deposit_hold_id is not None:
            # Left in escrow by the house (takes_proceeds): it joins the case's proceeds (第24条).
            case.forfeited_deposits_fen += winner.deposit_fen
        unit.session.add(
            DisposalBar(
                case_id=case.id, bidder_id=auction.winner_id, auction_id=auction.id, created_at=unit.now
            )
        )
        await step_failed(
            unit,
            step,
            "winner_defaulted",
            f"the winner of auction {auction.id} did not pay by the deadline",
            self._policy(),
        )

    async def paid(self, unit: UnitOfWork, auction: Auction) -> None:
        step = await self._step(unit, auction)
        step.result = "sold"
        step.ended_at = unit.now
        case = await lock_case(unit, step.case_id)
        assert auction.winner_id is not None and auction.final_price_fen is not None
        await settle_sale(unit, case, auction.winner_id, auction.final_price_fen, self._policy())

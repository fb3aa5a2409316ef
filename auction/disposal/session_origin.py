"""The origin handler of session lots (`session_lot`): one auction, a round of each of its cases.

A bundle's price and any forfeited deposit are split among its cases by appraisal (largest
remainder), then each case runs its own waterfall; a failure is each case's failure; a bidder carries
its session paddle on every lot.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from sqlalchemy import select

from auction.disposal.cases import lock_case, refuse_barred
from auction.disposal.models import DisposalBar, DisposalCase, DisposalStep, SessionLot
from auction.disposal.policy import DisposalPolicy
from auction.disposal.proceeds import settle_sale
from auction.disposal.rules.bundles import split_by_appraisal
from auction.disposal.sessions import session_paddle
from auction.disposal.steps import collateral_of_cases, step_cancelled, step_failed
from auction.models import Auction, Registration
from auction.origins import OriginHandler, SaleTaken
from transfer.kernel.errors import Conflict, Forbidden
from transfer.kernel.unit_of_work import UnitOfWork


class SessionLots(OriginHandler):
    takes_proceeds = True

    def __init__(self, policy_of: Callable[[], DisposalPolicy]) -> None:
        self._policy = policy_of

    async def _lot(self, unit: UnitOfWork, lot_id: int | None) -> SessionLot:
        assert lot_id is not None
        lot = await unit.session.get(SessionLot, lot_id)
        assert lot is not None, f"session lot {lot_id} is gone"
        return lot

    async def _steps(self, unit: UnitOfWork, lot: SessionLot) -> list[tuple[DisposalCase, DisposalStep]]:
        """Each case of the lot, locked in id order, with its round in this lot."""
        pairs = []
        for case_id in sorted(json.loads(lot.case_ids)):
            case = await lock_case(unit, case_id)
            step = (
                await unit.session.execute(
                    select(DisposalStep).where(
                        DisposalStep.case_id == case_id, DisposalStep.session_lot_id == lot.id
                    )
                )
            ).scalar_one()
            pairs.append((case, step))
        return pairs

    async def claim(
        self, unit: UnitOfWork, seller_id: int, origin_id: int, collateral_ids: Sequence[int]
    ) -> None:
        lot = await unit.session.get(SessionLot, origin_id)
        if lot is None or lot.auction_id is not None:
            raise Forbidden("not_your_disposal", "a session lot is put up by its session", field="lot")
        cases = [await lock_case(unit, case_id) for case_id in sorted(json.loads(lot.case_ids))]
        if seller_id not in {case.creditor_id for case in cases}:
            raise Forbidden(
                "not_your_disposal", "a session lot is sold for its cases' creditors", field="lot"
            )
        if sorted(collateral_ids) != sorted(item.id for item in await collateral_of_cases(unit, cases)):
            raise Conflict(
                "lot_not_the_collateral", "a session lot is the whole collateral of its cases", field="lot"
            )

    async def attach(self, unit: UnitOfWork, origin_id: int, auction: Auction) -> None:
        lot = await self._lot(unit, origin_id)
        lot.auction_id = auction.id
        for _, step in await self._steps(unit, lot):
            step.auction_id = auction.id

    async def admit(self, unit: UnitOfWork, auction: Auction, bidder_id: int) -> int | None:
        lot = await self._lot(unit, auction.origin_id)
        case_ids = json.loads(lot.case_ids)
        await refuse_barred(unit, case_ids, bidder_id)
        creditors = (
            await unit.session.execute(select(DisposalCase.creditor_id).where(DisposalCase.id.in_(case_ids)))
        ).scalars()
        if bidder_id in set(creditors):
            raise Forbidden("seller_cannot_bid", "a creditor cannot bid on a lot selling its own collateral")
        return await session_paddle(unit, lot.session_id, bidder_id)

    async def sold(self, unit: UnitOfWork, auction: Auction, winner_id: int, price_fen: int) -> SaleTaken:
        lot = await self._lot(unit, auction.origin_id)
        steps = await self._steps(unit, lot)
        for _, step in steps:
            step.result = "awaiting_payment"
        return SaleTaken({"session_id": lot.session_id, "disposal_ids": [case.id for case, _ in steps]})

    async def unsold(self, unit: UnitOfWork, auction: Auction) -> None:
        lot = await self._lot(unit, auction.origin_id)
        for _, step in await self._steps(unit, lot):
            await step_failed(
                unit, step, "unsold", f"session lot {lot.position + 1} closed unsold", self._policy()
            )

    async def defaulted(self, unit: UnitOfWork, auction: Auction) -> None:
        lot = await self._lot(unit, auction.origin_id)
        steps = await self._steps(unit, lot)
        assert auction.winner_id is not None
        winner = (
            await unit.session.execute(
                select(Registration).where(
                    Registration.auction_id == auction.id, Registration.bidder_id == auction.winner_id
                )
            )
        ).scalar_one()
        forfeited_fen = winner.deposit_fen if winner.deposit_hold_id is not None else 0
        shares = split_by_appraisal(forfeited_fen, {case.id: case.appraisal_fen for case, _ in steps})
        for case, step in steps:
            case.forfeited_deposits_fen += shares[case.id]
            unit.session.add(
                DisposalBar(
                    case_id=case.id, bidder_id=auction.winner_id, auction_id=auction.id, created_at=unit.now
                )
            )
            await step_failed(
                unit,
                step,
                "winner_defaulted",
                f"the winner of auction {auction.id} did not pay",
                self._policy(),
            )

    async def cancelled(self, unit: UnitOfWork, auction: Auction) -> None:
        lot = await self._lot(unit, auction.origin_id)
        for _, step in await self._steps(unit, lot):
            await step_cancelled(unit, step, self._policy())

    async def paid(self, unit: UnitOfWork, auction: Auction) -> None:
        lot = await self._lot(unit, auction.origin_id)
        steps = await self._steps(unit, lot)
        assert auction.winner_id is not None and auction.final_price_fen is not None
        shares = split_by_appraisal(
            auction.final_price_fen, {case.id: case.appraisal_fen for case, _ in steps}
        )
        for case, step in steps:
            step.result = "sold"
            step.ended_at = unit.now
            await settle_sale(unit, case, auction.winner_id, shares[case.id], self._policy())

"""What a batch of waterfalls reads before it writes: the loans (locked), their holders, the
creditors' names and the payees' accounts, each in one statement for the whole batch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from auction.disposal.models import DisposalCase
from auction.disposal.rules.waterfall import Holder, Waterfall
from transfer import ledger
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models import Participant
from transfer.models.loans import IncomeRight, Loan


@dataclass(frozen=True, slots=True)
class Facts:
    loans: dict[int, Loan]
    holders: dict[int, list[Holder]]
    names: dict[int, str]
    available_accounts: dict[int, int]
    escrow_account_id: int
    pledgor_account_id: int

    def movements(self, case: DisposalCase, split: Waterfall) -> list[ledger.Movement]:
        """Each line paid from escrow to its payee's available funds (the pledgor's: the pledgor
        surplus account, until clearing pays it out)."""
        return [
            ledger.Movement(
                f"disposal:{case.id}:line:{line.line}",
                self.escrow_account_id,
                self.pledgor_account_id if line.payee_id is None else self.available_accounts[line.payee_id],
                line.amount_fen,
                f"disposal_{line.part}",
                f"disposal:{case.id}",
            )
            for line in split.lines
        ]


async def read_facts(unit: UnitOfWork, cases: Sequence[DisposalCase]) -> Facts:
    session = unit.session
    loan_ids = sorted({case.loan_id for case in cases})
    # The loans are locked in id order, after their cases (the order every disposal path keeps).
    loans = {
        loan.id: loan
        for loan in (
            await session.execute(
                select(Loan)
                .where(Loan.id.in_(loan_ids))
                .order_by(Loan.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).scalars()
    }
    holders: dict[int, list[Holder]] = {}
    rows = await session.execute(
        select(IncomeRight.loan_id, IncomeRight.holder_id, Participant.name, IncomeRight.share_ppm)
        .join(Participant, Participant.id == IncomeRight.holder_id)
        .where(IncomeRight.loan_id.in_(loan_ids))
        .order_by(IncomeRight.loan_id, IncomeRight.holder_id)
    )
    for loan_id, holder_id, name, share_ppm in rows.all():
        holders.setdefault(loan_id, []).append(Holder(holder_id, name, share_ppm))
    creditor_ids = {case.creditor_id for case in cases}
    names = dict(
        (
            await session.execute(
                select(Participant.id, Participant.name).where(Participant.id.in_(creditor_ids))
            )
        ).all()
    )
    payees = creditor_ids | {holder.participant_id for found in holders.values() for holder in found}
    return Facts(
        loans=loans,
        holders=holders,
        names=names,
        available_accounts=await ledger.participant_account_ids(session, payees, ledger.AVAILABLE),
        escrow_account_id=await ledger.account_id(session, ledger.center_account_key(ledger.ESCROW)),
        pledgor_account_id=await ledger.account_id(
            session, ledger.center_account_key(ledger.PLEDGOR_SURPLUS)
        ),
    )

"""Where a case's proceeds go: the waterfall over the claim, the delivery, the shortfall, the surplus.

The proceeds (the price and the deposits forfeited by defaulting winners) wait in escrow; one
transaction splits them over the claim's parts in the recovery order (民法典第561条) among the loan's
holders by share, pays each line from escrow, delivers the collateral to the buyer (or releases it),
and writes the waterfall table, whose lines add up to the proceeds exactly.
"""

from __future__ import annotations

from sqlalchemy import select

from auction.disposal.cases import CaseState, Outcome
from auction.disposal.models import DisposalCase, WaterfallLine
from auction.disposal.policy import DisposalPolicy
from auction.disposal.rules.waterfall import Claim, Holder, Part, Waterfall, waterfall
from transfer import ledger
from transfer.kernel.errors import Conflict, DomainError
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models import Participant
from transfer.models.loans import IncomeRight, Loan
from transfer.registry.collateral import RELEASED, deliver_collateral, release_pledges
from transfer.registry.ownership import lock_loan

MAX_REFERENCE_LENGTH = 100


def claim_of(case: DisposalCase, loan: Loan, *, cured: bool = False) -> Claim:
    """The claim as it stands now: interest lowered by interest collected since the default, the
    principal by principal collected (the outstanding principal). A cured loan owes only costs."""
    if cured:
        return Claim(costs_fen=case.costs_fen, interest_fen=0, principal_fen=0)
    interest_fen = max(0, case.interest_fen + case.penalty_interest_fen - case.interest_repaid_fen)
    return Claim(
        costs_fen=case.costs_fen,
        interest_fen=interest_fen,
        principal_fen=min(case.principal_fen, loan.outstanding_principal_fen),
    )


async def _holders(unit: UnitOfWork, loan_id: int) -> list[Holder]:
    rows = await unit.session.execute(
        select(IncomeRight.holder_id, Participant.name, IncomeRight.share_ppm)
        .join(Participant, Participant.id == IncomeRight.holder_id)
        .where(IncomeRight.loan_id == loan_id)
        .order_by(IncomeRight.holder_id)
    )
    return [Holder(holder_id, name, share_ppm) for holder_id, name, share_ppm in rows.all()]


async def _pay_lines(unit: UnitOfWork, case: DisposalCase, split: Waterfall) -> None:
    escrow_id = await ledger.account_id(unit.session, ledger.center_account_key(ledger.ESCROW))
    pledgor_id = await ledger.account_id(unit.session, ledger.center_account_key(ledger.PLEDGOR_SURPLUS))
    for line in split.lines:
        payee_account = (
            pledgor_id
            if line.payee_id is None
            else await ledger.participant_account_id(unit.session, line.payee_id, ledger.AVAILABLE)
        )
        await ledger.post_transfer(
            unit,
            f"disposal:{case.id}:line:{line.line}",
            debit_account_id=escrow_id,
            credit_account_id=payee_account,
            amount_fen=line.amount_fen,
            code=f"disposal_{line.part}",
            reference=f"disposal:{case.id}",
        )
        unit.session.add(
            WaterfallLine(
                case_id=case.id,
                line=line.line,
                part=str(line.part),
                payee_id=line.payee_id,
                payee_name=line.payee_name,
                amount_fen=line.amount_fen,
                rule=line.rule,
            )
        )


async def _split(
    unit: UnitOfWork,
    case: DisposalCase,
    loan: Loan,
    proceeds_fen: int,
    policy: DisposalPolicy,
    *,
    cured: bool = False,
) -> Waterfall:
    creditor = await unit.session.get(Participant, case.creditor_id)
    assert creditor is not None
    split = waterfall(
        proceeds_fen,
        claim_of(case, loan, cured=cured),
        await _holders(unit, loan.id),
        policy.recovery_order,
        case.creditor_id,
        creditor.name,
        pledgor_name=case.pledgor_name,
    )
    await _pay_lines(unit, case, split)
    case.shortfall_fen = split.shortfall_fen
    case.surplus_fen = split.surplus_fen
    principal_paid_fen = split.paid_by_part.get(Part.PRINCIPAL, 0)
    loan.outstanding_principal_fen -= principal_paid_fen
    loan.remaining_claim_fen = split.shortfall_fen
    return split


def _record(unit: UnitOfWork, case: DisposalCase, split: Waterfall, event: str) -> None:
    unit.record(
        event,
        f"disposal:{case.id}",
        {
            "loan_id": case.loan_id,
            "outcome": case.outcome,
            "buyer_id": case.buyer_id,
            "price_fen": case.price_fen,
            "forfeited_deposits_fen": case.forfeited_deposits_fen,
            "lines": [[line.line, str(line.part), line.payee_id, line.amount_fen] for line in split.lines],
            "shortfall_fen": split.shortfall_fen,
            "surplus_fen": split.surplus_fen,
        },
    )


async def settle_sale(
    unit: UnitOfWork,
    case: DisposalCase,
    buyer_id: int,
    price_fen: int,
    policy: DisposalPolicy,
    *,
    outcome: Outcome = Outcome.SOLD,
) -> Waterfall:
    """The price is in escrow (the winner paid the house, or the creditor taking the collateral in
    payment paid it just now): split it with the forfeited deposits and deliver the collateral."""
    loan = await lock_loan(unit, case.loan_id)
    case.price_fen = price_fen
    case.buyer_id = buyer_id
    case.outcome = outcome.value
    split = await _split(unit, case, loan, price_fen + case.forfeited_deposits_fen, policy)
    await deliver_collateral(unit, loan.id, buyer_id, f"disposal:{case.id}")
    _end(unit, case, CaseState.SETTLED)
    _record(unit, case, split, "disposal.settled")
    return split


async def release_unsold(unit: UnitOfWork, case: DisposalCase, policy: DisposalPolicy) -> Waterfall:
    """Nobody bought: the pledges are released, the claim stays against the debtor, and any
    forfeited deposits are split as proceeds."""
    loan = await lock_loan(unit, case.loan_id)
    case.outcome = Outcome.UNSOLD.value
    split = await _split(unit, case, loan, case.forfeited_deposits_fen, policy)
    await release_pledges(unit, loan.id, RELEASED)
    _end(unit, case, CaseState.RELEASED)
    _record(unit, case, split, "disposal.released")
    return split


async def settle_cured(unit: UnitOfWork, case: DisposalCase, policy: DisposalPolicy) -> Waterfall:
    """The loan was repaid in full: forfeited deposits pay the creditor's costs, the rest is the
    pledgor's. The repayment itself released the pledges."""
    loan = await lock_loan(unit, case.loan_id)
    case.outcome = Outcome.CURED.value
    split = await _split(unit, case, loan, case.forfeited_deposits_fen, policy, cured=True)
    loan.remaining_claim_fen = None
    _end(unit, case, CaseState.CURED)
    _record(unit, case, split, "disposal.cured")
    return split


def _end(unit: UnitOfWork, case: DisposalCase, state: CaseState) -> None:
    case.state = state.value
    case.deadline_at = None
    case.ended_at = unit.now


async def pay_out_surplus(unit: UnitOfWork, case: DisposalCase, reference: str) -> int:
    """Clearing pays the pledgor its surplus (民法典第438条) out of the pledgor account, once."""
    cleaned = reference.strip()
    if not cleaned or len(cleaned) > MAX_REFERENCE_LENGTH:
        raise DomainError(
            "reference_required",
            f"reference must be 1 to {MAX_REFERENCE_LENGTH} characters",
            field="reference",
        )
    if not case.surplus_fen:
        raise Conflict("no_surplus", f"disposal case {case.id} has no surplus for the pledgor", field="id")
    if case.surplus_paid_at is not None:
        raise Conflict(
            "surplus_already_paid",
            f"the surplus was paid out on {case.surplus_paid_at.isoformat()}",
            field="id",
        )
    await ledger.post_transfer(
        unit,
        f"disposal:{case.id}:surplus_payout",
        debit_account_id=await ledger.account_id(
            unit.session, ledger.center_account_key(ledger.PLEDGOR_SURPLUS)
        ),
        credit_account_id=await ledger.account_id(unit.session, ledger.center_account_key(ledger.EXTERNAL)),
        amount_fen=case.surplus_fen,
        code="pledgor_surplus_payout",
        reference=cleaned,
    )
    case.surplus_paid_at = unit.now
    case.surplus_reference = cleaned
    unit.record(
        "disposal.surplus_paid", f"disposal:{case.id}", {"amount_fen": case.surplus_fen, "reference": cleaned}
    )
    return case.surplus_fen

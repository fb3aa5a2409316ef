"""A compensation fund: made by an admin with its own ledger account, funded by clearing."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import uuid4

from sqlalchemy import select

from transfer import ledger
from transfer.kernel.errors import Conflict, DomainError, NotFound
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.models import Account, LedgerTransfer
from transfer.models.compensation import CompensationFund

MAX_NAME_LENGTH = 200
MAX_REGION_LENGTH = 100
COVERS = ("principal",)


@dataclass(frozen=True, slots=True)
class FundSpec:
    name: str
    region: str
    fund_share_bps: int
    per_loan_cap_fen: int
    ip_share_min_bps: int | None = None
    covers: str = "principal"


def _text(value: str, field: str, limit: int) -> str:
    cleaned = value.strip()
    if not cleaned or len(cleaned) > limit:
        raise DomainError("invalid_text", f"{field} must be 1 to {limit} characters", field=field)
    return cleaned


def _bps(value: int, field: str, *, allow_zero: bool) -> int:
    low = 0 if allow_zero else 1
    if not low <= value <= 10_000:
        raise DomainError("bps_out_of_range", f"{field} must be {low} to 10000 basis points", field=field)
    return value


async def create_fund(unit: UnitOfWork, spec: FundSpec, admin_id: int) -> CompensationFund:
    name = _text(spec.name, "name", MAX_NAME_LENGTH)
    region = _text(spec.region, "region", MAX_REGION_LENGTH)
    _bps(spec.fund_share_bps, "fund_share_bps", allow_zero=False)
    if spec.ip_share_min_bps is not None:
        _bps(spec.ip_share_min_bps, "ip_share_min_bps", allow_zero=True)
    if spec.per_loan_cap_fen <= 0:
        raise DomainError("amount_not_positive", "per_loan_cap must be positive", field="per_loan_cap")
    if spec.covers not in COVERS:
        raise DomainError("unknown_cover", "a fund covers principal only", field="covers")
    taken = await unit.session.execute(select(CompensationFund.id).where(CompensationFund.name == name))
    if taken.scalar_one_or_none() is not None:
        raise Conflict("fund_name_taken", f"a compensation fund named {name!r} exists", field="name")
    # The account exists before the fund that names it; its key takes the fund's id once known.
    account = Account(
        key=f"fund:new:{uuid4().hex}",
        participant_id=None,
        code=ledger.COMPENSATION_FUND,
        non_negative=True,
        balance_fen=0,
    )
    unit.session.add(account)
    await unit.session.flush()
    fund = CompensationFund(
        name=name,
        region=region,
        fund_share_bps=spec.fund_share_bps,
        per_loan_cap_fen=spec.per_loan_cap_fen,
        ip_share_min_bps=spec.ip_share_min_bps,
        covers=spec.covers,
        account_id=account.id,
        created_by=admin_id,
        created_at=unit.now,
    )
    unit.session.add(fund)
    await unit.session.flush()
    account.key = ledger.fund_account_key(fund.id)
    unit.record(
        "compensation.fund_created",
        f"compensation_fund:{fund.id}",
        {
            "name": name,
            "region": region,
            "fund_share_bps": fund.fund_share_bps,
            "per_loan_cap_fen": fund.per_loan_cap_fen,
            "ip_share_min_bps": fund.ip_share_min_bps,
        },
    )
    return fund


async def get_fund(unit: UnitOfWork, fund_id: int) -> CompensationFund:
    fund = await unit.session.get(CompensationFund, fund_id)
    if fund is None:
        raise NotFound("fund_not_found", f"compensation fund {fund_id} does not exist", field="fund_id")
    return fund


async def fund_money(unit: UnitOfWork, fund_id: int, amount_fen: int, reference: str) -> LedgerTransfer:
    """Money paid into the fund (its budget), recorded by clearing: a reference is booked once."""
    fund = await get_fund(unit, fund_id)
    transfer = await ledger.post_transfer(
        unit,
        f"fund:{fund.id}:funds:{reference}",
        debit_account_id=await ledger.account_id(unit.session, ledger.center_account_key(ledger.EXTERNAL)),
        credit_account_id=fund.account_id,
        amount_fen=amount_fen,
        code="compensation_funds",
        reference=reference,
    )
    unit.record(
        "compensation.funded",
        f"compensation_fund:{fund.id}",
        {"transfer_id": transfer.id, "amount_fen": amount_fen, "reference": reference},
    )
    return transfer


async def fund_balance_fen(unit: UnitOfWork, fund: CompensationFund, *, lock: bool) -> int:
    """The fund's balance as this unit will leave it (its pending movements included). With `lock`,
    the fund's row is locked first: every payment out of the fund is serialized on it, so two
    defaults never spend the same balance; its ledger account is locked only at commit, in the
    account order every transaction keeps."""
    if lock:
        await unit.session.execute(
            select(CompensationFund.id).where(CompensationFund.id == fund.id).with_for_update()
        )
    query = select(Account.balance_fen).where(Account.id == fund.account_id)
    stored = int((await unit.session.execute(query)).scalar_one())
    return stored + unit.balance_deltas_fen.get(fund.account_id, 0)

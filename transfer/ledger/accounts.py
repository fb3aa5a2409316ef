"""The chart of accounts: each participant's available and held accounts, the center's own, and reading their balances."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from transfer.kernel.errors import NotFound
from transfer.models import Account

AVAILABLE = "available"


HELD = "held"


PARTICIPANT_ACCOUNT_CODES = (AVAILABLE, HELD)


# Center accounts: fees earned, money in escrow between parties, and the outside world (banks'
# settlement accounts), which goes negative as funds come in so the books still sum to zero.
FEE_INCOME = "fee_income"


ESCROW = "escrow"


EXTERNAL = "external_settlement"


# A disposal's surplus for the pledgor (民法典第438条), who is not a participant: held here until
# clearing pays it out to the pledgor's bank.
PLEDGOR_SURPLUS = "pledgor_surplus"


CENTER_ACCOUNT_CODES = (FEE_INCOME, ESCROW, EXTERNAL, PLEDGOR_SURPLUS)


PENDING = "pending"


POSTED = "posted"


VOIDED = "voided"


def participant_account_key(participant_id: int, code: str) -> str:
    return f"participant:{participant_id}:{code}"


def center_account_key(code: str) -> str:
    return f"center:{code}"


@dataclass(frozen=True, slots=True)
class Balances:
    available_fen: int
    held_fen: int


async def open_participant_accounts(session: AsyncSession, participant_id: int) -> None:
    session.add_all(
        Account(
            key=participant_account_key(participant_id, code),
            participant_id=participant_id,
            code=code,
            non_negative=True,
            balance_fen=0,
        )
        for code in PARTICIPANT_ACCOUNT_CODES
    )
    await session.flush()


async def ensure_center_accounts(session: AsyncSession) -> None:
    existing = set(
        (
            await session.execute(
                select(Account.code).where(
                    Account.key.in_([center_account_key(c) for c in CENTER_ACCOUNT_CODES])
                )
            )
        ).scalars()
    )
    for code in CENTER_ACCOUNT_CODES:
        if code not in existing:
            session.add(
                Account(
                    key=center_account_key(code),
                    participant_id=None,
                    code=code,
                    non_negative=code != EXTERNAL,
                    balance_fen=0,
                )
            )
    await session.flush()


async def account_id(session: AsyncSession, key: str) -> int:
    found = (await session.execute(select(Account.id).where(Account.key == key))).scalar_one_or_none()
    if found is None:
        raise NotFound("account_not_found", f"no ledger account {key}")
    return found


async def participant_account_id(session: AsyncSession, participant_id: int, code: str) -> int:
    found = await session.execute(
        select(Account.id).where(Account.key == participant_account_key(participant_id, code))
    )
    account = found.scalar_one_or_none()
    if account is None:
        raise NotFound("participant_not_found", f"participant {participant_id} does not exist", field="id")
    return account


async def balances(session: AsyncSession, participant_id: int) -> Balances:
    rows = await session.execute(
        select(Account.code, Account.balance_fen).where(Account.participant_id == participant_id)
    )
    by_code = {code: balance for code, balance in rows.all()}
    return Balances(available_fen=by_code.get(AVAILABLE, 0), held_fen=by_code.get(HELD, 0))


async def ledger_sum_fen(session: AsyncSession) -> int:
    return int((await session.execute(select(func.coalesce(func.sum(Account.balance_fen), 0)))).scalar_one())

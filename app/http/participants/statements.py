from __future__ import annotations

import msgspec

from app.http.participants.schemas import BalancesOut
from transfer.clearing.statements import Statement
from transfer.kernel.money import format_fen


class StatementLineOut(msgspec.Struct):
    at: str
    transfer_id: str
    code: str
    reference: str | None
    account: str
    amount: str


class StatementOut(msgspec.Struct):
    participant_id: int
    date: str
    calendar: str
    # China's working calendar: is the day a working day, and the first working day from it.
    working_day: bool
    value_date: str
    opening: BalancesOut
    closing: BalancesOut
    lines: list[StatementLineOut]
    truncated: bool

    @classmethod
    def of(cls, statement: Statement) -> StatementOut:
        return cls(
            participant_id=statement.participant_id,
            date=statement.day.isoformat(),
            calendar="Asia/Shanghai",
            working_day=statement.working_day,
            value_date=statement.value_date.isoformat(),
            opening=BalancesOut.of(statement.opening),
            closing=BalancesOut.of(statement.closing),
            lines=[
                StatementLineOut(
                    line.at.isoformat(),
                    line.transfer_id,
                    line.code,
                    line.reference,
                    line.account,
                    format_fen(line.amount_fen),
                )
                for line in statement.lines
            ],
            truncated=statement.truncated,
        )

"""The demo's participants: fixed keys (the README's curl lines, scripts/fuzz and .ci/run use them),
created once with their opening funds, long enough ago for the demo's history to happen after."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from transfer import ledger
from transfer.kernel.unit_of_work import UnitOfWork
from transfer.registry import participants

# The market opened this long before the seed: every past step of the demo comes after it.
OPENED_AGO_S = 240 * 86_400


class DemoParticipant(NamedTuple):
    name: str
    roles: list[str]
    api_key: str
    funds_fen: int  # opening funds


ADMIN_KEY = "ipx_demo_admin_key_0000000000"
CLEARING_KEY = "ipx_demo_clearing_key_00000000"
BANK_KEY = "ipx_demo_bank_key_000000000000"
BIDDER_A_KEY = "ipx_demo_bidder_a_key_00000000"
BIDDER_B_KEY = "ipx_demo_bidder_b_key_00000000"
AGENCY_KEY = "ipx_demo_agency_key_0000000000"
BANK_B_KEY = "ipx_demo_bank_b_key_0000000000"
BIDDER_C_KEY = "ipx_demo_bidder_c_key_00000000"
BIDDER_D_KEY = "ipx_demo_bidder_d_key_00000000"

# (name, roles, API key, opening funds in fen); scripts/fuzz fuzzes the API as each of them.
DEMO_PARTICIPANTS = (
    DemoParticipant("Demo Admin", ["admin"], ADMIN_KEY, 0),
    DemoParticipant("Demo Clearing Desk", ["clearing"], CLEARING_KEY, 0),
    DemoParticipant("Demo Bank of Hangzhou", ["bank"], BANK_KEY, 50_000_000_00),
    DemoParticipant("Demo Bidder Alpha AMC", ["bidder", "bank"], BIDDER_A_KEY, 20_000_000_00),
    DemoParticipant("Demo Bidder Beta Trust", ["bidder"], BIDDER_B_KEY, 20_000_000_00),
    DemoParticipant("Demo IP Operating Agency", ["agency", "bidder"], AGENCY_KEY, 30_000_000_00),
    DemoParticipant("Demo Bank of Suzhou", ["bank"], BANK_B_KEY, 50_000_000_00),
    DemoParticipant("Demo Bidder Gamma Capital", ["bidder"], BIDDER_C_KEY, 20_000_000_00),
    DemoParticipant("Demo Bidder Delta Holdings", ["bidder"], BIDDER_D_KEY, 20_000_000_00),
)
# The bidders the demo bids for by itself (app/demo/bidders.py); Alpha and Beta are left to people.
SIMULATED_BIDDER_KEYS = (BIDDER_C_KEY, BIDDER_D_KEY, BIDDER_B_KEY)


@dataclass(frozen=True, slots=True)
class DemoIds:
    """The demo participants' ids, by API key."""

    by_key: dict[str, int]

    def __getitem__(self, api_key: str) -> int:
        return self.by_key[api_key]


def opened_at(now: datetime) -> datetime:
    return now - timedelta(seconds=OPENED_AGO_S)


async def demo_ids(session: AsyncSession) -> DemoIds | None:
    """The ids if every demo participant exists, else None."""
    found = {}
    for participant in DEMO_PARTICIPANTS:
        row = await participants.find_by_api_key(session, participant.api_key)
        if row is None:
            return None
        found[participant.api_key] = row.id
    return DemoIds(found)


async def create_missing(unit: UnitOfWork) -> int:
    """Create the demo participants that do not exist yet, each with its opening funds; returns
    how many were created (0 on a second start)."""
    created_count = 0
    for participant in DEMO_PARTICIPANTS:
        if await participants.find_by_api_key(unit.session, participant.api_key) is not None:
            continue
        created = await participants.create_participant(
            unit,
            name=participant.name,
            roles=participant.roles,
            api_key=participant.api_key,
            qualified_investor="bidder" in participant.roles,
        )
        if participant.funds_fen:
            await ledger.record_funds(
                # A bank reference is one receipt across the center: one per participant.
                unit,
                created.participant.id,
                participant.funds_fen,
                f"demo-opening-{created.participant.id}",
            )
        created_count += 1
    return created_count

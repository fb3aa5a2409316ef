"""A demo market for a local try-out: known demo keys, funded bidders. Never for production."""

from __future__ import annotations

import structlog

from app.context import AppContext
from transfer import ledger, participants
from transfer.unit_of_work import UnitOfWork

log = structlog.get_logger("ipx.demo")

# (name, roles, API key, opening funds in fen). Fixed keys so the README's curl lines just work.
DEMO_PARTICIPANTS = (
    ("Demo Admin", ["admin"], "ipx_demo_admin_key_0000000000", 0),
    ("Demo Clearing Desk", ["clearing"], "ipx_demo_clearing_key_00000000", 0),
    ("Demo Bank of Hangzhou", ["bank"], "ipx_demo_bank_key_000000000000", 50_000_000_00),
    ("Demo Bidder Alpha AMC", ["bidder", "bank"], "ipx_demo_bidder_a_key_00000000", 20_000_000_00),
    ("Demo Bidder Beta Trust", ["bidder"], "ipx_demo_bidder_b_key_00000000", 20_000_000_00),
    ("Demo IP Operating Agency", ["agency", "bidder"], "ipx_demo_agency_key_0000000000", 30_000_000_00),
)


async def seed_demo_market(context: AppContext) -> list[tuple[str, str]]:
    """Create the demo participants once; later starts find them and change nothing."""

    async def work(unit: UnitOfWork) -> list[tuple[str, str]]:
        seeded = []
        for name, roles, api_key, funds_fen in DEMO_PARTICIPANTS:
            existing = await participants.find_by_api_key(unit.session, api_key)
            if existing is None:
                created = await participants.create_participant(
                    unit, name=name, roles=roles, api_key=api_key, qualified_investor="bidder" in roles
                )
                if funds_fen:
                    await ledger.record_funds(unit, created.participant.id, funds_fen, "demo-opening-balance")
            seeded.append((name, api_key))
        return seeded

    seeded = await context.transact(work, actor_id=None)
    for name, api_key in seeded:
        log.info("demo participant", name=name, api_key=api_key)
    return seeded

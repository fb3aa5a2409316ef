"""Who may buy in the market: a participant with a market role (bank, bidder, agency).

DESIGN §1 names the buyers: banks (loans and shares), bidders (banks, AMCs, trusts, companies) and
operating agencies. Clearing staff and admins run the center; they reconcile and settle what
others trade, so a participant holding only those roles neither offers on a listing nor takes an
open licence (a participant may hold several roles: one market role is enough).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from transfer.kernel.errors import Forbidden
from transfer.models import Participant

MARKET_ROLES = frozenset({"bank", "bidder", "agency"})


def has_market_standing(roles: Iterable[str]) -> bool:
    return not MARKET_ROLES.isdisjoint(roles)


async def refuse_without_market_standing(session: AsyncSession, participant_id: int) -> Participant:
    """The participant, if a market role gives it standing to buy; else a 403 naming the rule."""
    participant = await session.get(Participant, participant_id)
    if participant is None or not has_market_standing(participant.role_set):
        raise Forbidden(
            "market_role_required",
            "the clearing and admin roles are not market participants: buying needs the role"
            f" {' or '.join(sorted(MARKET_ROLES))}",
        )
    return participant

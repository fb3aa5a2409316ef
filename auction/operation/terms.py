"""Checking what an agency offers: price, validity and earn-out, each refusal naming its field."""

from __future__ import annotations

from datetime import datetime, timedelta

from auction.operation.policy import OperationPolicy
from auction.operation.pools import EarnOutTerms
from transfer.kernel.errors import DomainError
from transfer.kernel.money import MAX_AMOUNT_FEN

BPS_WHOLE = 10_000


def check_price(price_fen: int, field: str) -> int:
    if not 0 < price_fen <= MAX_AMOUNT_FEN:
        raise DomainError(
            "amount_out_of_range", f"{field} must be positive and at most the largest amount", field=field
        )
    return price_fen


def check_valid_until(valid_until: datetime, now: datetime, policy: OperationPolicy, field: str) -> datetime:
    if valid_until <= now:
        raise DomainError(
            "valid_until_past", f"{field} must lie after the server's time {now.isoformat()}", field=field
        )
    latest = now + timedelta(seconds=policy.max_validity_s)
    if valid_until > latest:
        raise DomainError(
            "valid_until_too_far",
            f"{field} must lie within {policy.max_validity_s} s (IPX_BUYOUT_MAX_VALIDITY_S), by {latest.isoformat()}",
            field=field,
        )
    return valid_until


def check_earn_out(terms: EarnOutTerms | None, now: datetime, policy: OperationPolicy) -> EarnOutTerms | None:
    if terms is None:
        return None
    if not 0 < terms.revenue_share_bps <= BPS_WHOLE:
        raise DomainError(
            "share_out_of_range",
            f"revenue_share_bps must lie between 1 and {BPS_WHOLE}",
            field="earn_out.revenue_share_bps",
        )
    check_price(terms.cap_fen, "earn_out.cap")
    if terms.until <= now:
        raise DomainError("until_past", "earn_out.until must lie in the future", field="earn_out.until")
    if terms.until > now + timedelta(seconds=policy.earn_out_max_s):
        raise DomainError(
            "until_too_far",
            f"earn_out.until must lie within {policy.earn_out_max_s} s (IPX_EARN_OUT_MAX_S)",
            field="earn_out.until",
        )
    return terms

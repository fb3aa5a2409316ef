"""Buyout bodies and answers: money as yuan strings, times ISO-8601 with offset."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar.openapi.spec import OpenAPIType, Schema

from app.http.auctions.schemas import require_aware
from app.http.input_bounds import Id, Yuan
from auction.operation.commitments import COLLATERAL_KINDS, CommitmentSpec, earn_out_of, kinds_of
from auction.operation.models import BuyoutCommitment, BuyoutOffer
from auction.operation.offers import OfferSpec
from auction.operation.pools import EarnOutTerms
from transfer.kernel.money import format_fen, parse_yuan

Bps = Annotated[int, msgspec.Meta(ge=0, le=10_000)]


class EarnOutIn(msgspec.Struct, forbid_unknown_fields=True):
    revenue_share_bps: Bps
    cap: Yuan
    until: datetime

    def to_terms(self) -> EarnOutTerms:
        return EarnOutTerms(
            revenue_share_bps=self.revenue_share_bps,
            cap_fen=parse_yuan(self.cap, "earn_out.cap"),
            until=require_aware(self.until, "earn_out.until"),
        )


class OfferIn(msgspec.Struct, forbid_unknown_fields=True):
    price: Yuan
    pool_id: Id
    valid_until: datetime
    earn_out: EarnOutIn | None = None
    as_opening_bid: bool = False

    def to_spec(self) -> OfferSpec:
        return OfferSpec(
            price_fen=parse_yuan(self.price, "price"),
            pool_id=self.pool_id,
            valid_until=require_aware(self.valid_until, "valid_until"),
            earn_out=None if self.earn_out is None else self.earn_out.to_terms(),
            as_opening_bid=self.as_opening_bid,
        )


class EarnOutTermsOut(msgspec.Struct):
    revenue_share_bps: int
    cap: str
    until: str


class OfferOut(msgspec.Struct):
    id: int
    case_id: int
    agency_id: int
    pool_id: int
    price: str
    valid_until: str
    state: str
    as_opening_bid: bool
    commitment_id: int | None
    earn_out: EarnOutTermsOut | None
    end_reason: str | None
    created_at: str
    ended_at: str | None

    @classmethod
    def of(cls, offer: BuyoutOffer) -> OfferOut:
        earn_out = None
        if offer.earn_out_share_bps is not None:
            assert offer.earn_out_cap_fen is not None and offer.earn_out_until is not None
            earn_out = EarnOutTermsOut(
                offer.earn_out_share_bps, format_fen(offer.earn_out_cap_fen), offer.earn_out_until.isoformat()
            )
        return cls(
            id=offer.id,
            case_id=offer.case_id,
            agency_id=offer.agency_id,
            pool_id=offer.pool_id,
            price=format_fen(offer.price_fen),
            valid_until=offer.valid_until.isoformat(),
            state=offer.state,
            as_opening_bid=offer.as_opening_bid,
            commitment_id=offer.commitment_id,
            earn_out=earn_out,
            end_reason=offer.end_reason,
            created_at=offer.created_at.isoformat(),
            ended_at=None if offer.ended_at is None else offer.ended_at.isoformat(),
        )


class OfferPage(msgspec.Struct):
    items: list[OfferOut]
    total: int
    limit: int
    offset: int


class CommitmentIn(msgspec.Struct, forbid_unknown_fields=True):
    pool_id: Id
    # The generator does not read an item's own Meta, so the list states its items' values.
    kinds: Annotated[
        list[Annotated[str, msgspec.Meta(max_length=40)]],
        msgspec.Meta(
            min_length=1,
            max_length=20,
            extra_json_schema={
                "extra": {"items": Schema(type=OpenAPIType.STRING, enum=sorted(COLLATERAL_KINDS))}
            },
        ),
    ]
    price_bps_of_appraisal: Bps
    max_price_per_case: Yuan
    budget: Yuan
    valid_until: datetime
    earn_out: EarnOutIn | None = None

    def to_spec(self) -> CommitmentSpec:
        return CommitmentSpec(
            pool_id=self.pool_id,
            kinds=self.kinds,
            price_bps_of_appraisal=self.price_bps_of_appraisal,
            max_price_per_case_fen=parse_yuan(self.max_price_per_case, "max_price_per_case"),
            budget_fen=parse_yuan(self.budget, "budget"),
            valid_until=require_aware(self.valid_until, "valid_until"),
            earn_out=None if self.earn_out is None else self.earn_out.to_terms(),
        )


class CommitmentOut(msgspec.Struct):
    id: int
    agency_id: int
    pool_id: int
    kinds: list[str]
    price_bps_of_appraisal: int
    max_price_per_case: str
    # budget = unheld + offered (held by live offers) + spent + released (given back at its end)
    budget: str
    unheld: str
    offered: str
    spent: str
    released: str
    valid_until: str
    state: str
    earn_out: EarnOutTermsOut | None
    created_at: str
    ended_at: str | None

    @classmethod
    def of(cls, commitment: BuyoutCommitment) -> CommitmentOut:
        terms = earn_out_of(commitment)
        return cls(
            id=commitment.id,
            agency_id=commitment.agency_id,
            pool_id=commitment.pool_id,
            kinds=sorted(kinds_of(commitment)),
            price_bps_of_appraisal=commitment.price_bps_of_appraisal,
            max_price_per_case=format_fen(commitment.max_price_per_case_fen),
            budget=format_fen(commitment.budget_fen),
            unheld=format_fen(commitment.unheld_fen),
            offered=format_fen(commitment.offered_fen),
            spent=format_fen(commitment.spent_fen),
            released=format_fen(commitment.released_fen),
            valid_until=commitment.valid_until.isoformat(),
            state=commitment.state,
            earn_out=None
            if terms is None
            else EarnOutTermsOut(terms.revenue_share_bps, format_fen(terms.cap_fen), terms.until.isoformat()),
            created_at=commitment.created_at.isoformat(),
            ended_at=None if commitment.ended_at is None else commitment.ended_at.isoformat(),
        )


class CommitmentPage(msgspec.Struct):
    items: list[CommitmentOut]
    total: int
    limit: int
    offset: int

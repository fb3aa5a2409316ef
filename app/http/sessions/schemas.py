"""Centralized session bodies and answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from app.http.auctions.schemas import AuctionOut, require_aware
from app.http.input_bounds import Id, Yuan, YuanOrZero, text
from auction.disposal.sessions import MAX_CASES_PER_LOT, MAX_LOTS, MAX_TITLE_LENGTH, LotSpec, SessionSpec
from transfer.kernel.money import parse_yuan


class LotIn(msgspec.Struct, forbid_unknown_fields=True):
    disposal_ids: Annotated[list[Id], msgspec.Meta(min_length=1, max_length=MAX_CASES_PER_LOT)]
    increment: Yuan
    deposit: YuanOrZero
    start_price: Yuan | None = None


class SessionIn(msgspec.Struct, forbid_unknown_fields=True):
    title: Annotated[str, text(MAX_TITLE_LENGTH, min_length=1, stripped=True)]
    starts_at: datetime
    first_lot_ends_at: datetime
    lots: Annotated[list[LotIn], msgspec.Meta(min_length=1, max_length=MAX_LOTS)]
    stagger_s: Annotated[int, msgspec.Meta(ge=0, le=86_400)] | None = None

    def to_spec(self) -> SessionSpec:
        return SessionSpec(
            title=self.title,
            starts_at=require_aware(self.starts_at, "starts_at"),
            first_lot_ends_at=require_aware(self.first_lot_ends_at, "first_lot_ends_at"),
            stagger_s=self.stagger_s,
            lots=tuple(
                LotSpec(
                    case_ids=tuple(lot.disposal_ids),
                    increment_fen=parse_yuan(lot.increment, f"lots[{i}].increment"),
                    deposit_fen=parse_yuan(lot.deposit, f"lots[{i}].deposit", allow_zero=True),
                    start_price_fen=None
                    if lot.start_price is None
                    else parse_yuan(lot.start_price, f"lots[{i}].start_price"),
                )
                for i, lot in enumerate(self.lots)
            ),
        )


class SessionRegistrationIn(msgspec.Struct, forbid_unknown_fields=True):
    lot_ids: Annotated[list[Id], msgspec.Meta(min_length=1, max_length=MAX_LOTS)]


class SessionLotOut(msgspec.Struct):
    lot_id: int
    position: int
    disposal_ids: list[int]
    minimum_start: str
    auction: AuctionOut


class SessionOut(msgspec.Struct):
    id: int
    title: str
    state: str
    starts_at: str
    first_lot_ends_at: str
    stagger_s: int
    lot_count: int
    lots: list[SessionLotOut]


class SessionSummaryOut(msgspec.Struct):
    id: int
    title: str
    starts_at: str
    first_lot_ends_at: str
    stagger_s: int
    lot_count: int


class SessionPage(msgspec.Struct):
    items: list[SessionSummaryOut]
    total: int
    limit: int
    offset: int


class LotRegistrationOut(msgspec.Struct):
    lot_id: int
    auction_id: int
    deposit: str
    deposit_state: str


class SessionRegistrationOut(msgspec.Struct):
    session_id: int
    paddle: int
    lots: list[LotRegistrationOut]

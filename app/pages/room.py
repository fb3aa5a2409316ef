"""The auction room: anyone watches; a logged-in bidder registers and bids from the page.

The bid and the registration run the very services the API runs (the English driver path where it
is on, else the unit of work under the lot's gate, as app/http/auctions/controller.py does). A form
posted by the room's script gets JSON back; without the script, the browser is sent back to the
room with the outcome as a flash message.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from app.bidding.submit import submit_bid
from app.context import AppContext
from app.http.auctions.schemas import BidOut, RegistrationOut
from app.http.auth import Actor
from app.http.problems import STATUS_BY_KIND
from app.pages import i18n
from app.pages.formatting import countdown_text, yuan
from app.pages.rendering import language, page
from app.pages.room_view import RoomState, read_room
from app.pages.sessions import flash, viewer_of
from auction.policy import AuctionState
from auction.registration import register
from transfer.kernel.errors import DomainError
from transfer.kernel.money import MoneyFormatError, parse_yuan
from transfer.kernel.unit_of_work import UnitOfWork

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


class PageRefusal(Exception):
    """A refusal the room shows in words: its code, the reader's sentence, the HTTP status."""

    def __init__(self, code: str, message: str, status: int, field: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.status, self.field = code, message, status, field


def _money_field(form: dict[str, Any], name: str, *, required: bool, lang: str) -> int | None:
    """A typed amount: separators, spaces and a ¥ sign are forgiven, anything else is refused."""
    raw = str(form.get(name) or "").replace(",", "").replace("，", "").replace("¥", "").strip()
    if not raw:
        if required:
            raise PageRefusal(
                "amount_required", i18n.refusal_text("amount_required", "", lang, {}), 422, name
            )
        return None
    try:
        return parse_yuan(raw, name)
    except MoneyFormatError as error:
        message = i18n.refusal_text("money_format", error.reason, lang, {})
        raise PageRefusal("money_format", message, 422, name) from error


def _refusal(error: DomainError, lang: str) -> PageRefusal:
    amounts = {k: yuan(str(v)) for k, v in error.extra.items() if isinstance(v, str)}
    message = i18n.refusal_text(error.code, error.message, lang, amounts)
    return PageRefusal(error.code, message, STATUS_BY_KIND[error.kind], error.field)


def _wants_json(request: Request[Any, Any, Any]) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _answer(
    request: Request[Any, Any, Any],
    auction_id: int,
    ok: bool,
    message: str,
    status: int,
    level: str | None = None,
    **extra: Any,
) -> Response[bytes] | Redirect:
    """level: how the message is shown (success, warning, error); by `ok` unless given."""
    level = level or ("success" if ok else "error")
    if _wants_json(request):
        body = {"ok": ok, "message": message, "level": level, **extra}
        return Response(msgspec.json.encode(body), status_code=status, media_type="application/json")
    flash(request, message, level)
    return Redirect(path=f"/auctions/{auction_id}", status_code=303)


def _bid_message(placed: BidOut, amount_fen: int, max_amount_fen: int | None, lang: str) -> tuple[str, str]:
    """What the bidder bid and where it stands now, never just a price: a bid answered at once by
    a rival's proxy is accepted, yet leaves the bidder behind, and is a warning."""
    t = i18n.translator(lang)
    amount, price = yuan(amount_fen), yuan(placed.current_price)
    proxy = t("bid_proxy_up_to", maximum=yuan(max_amount_fen)) if max_amount_fen is not None else ""
    if placed.state == AuctionState.AWAITING_PAYMENT:
        return t("bid_won_at_once", price=price), "success"
    if placed.leading is None:
        return t("bid_sealed_in", amount=amount) + proxy, "success"
    if placed.leading:
        return t("bid_leading", amount=amount, price=price) + proxy, "success"
    return t("bid_outbid_at_once", amount=amount, price=price) + proxy, "warning"


def _bidder_or_refusal(viewer: Actor | None, lang: str) -> Actor:
    if viewer is None:
        raise PageRefusal("login_required", i18n.translator(lang)("login_to_bid"), 401)
    if "bidder" not in viewer.roles:
        raise PageRefusal("forbidden", i18n.translator(lang)("not_a_bidder"), 403)
    return viewer


class RoomController(Controller):
    path = "/auctions"
    include_in_schema = False

    @get("/{auction_id:int}", name="room")
    async def room(self, request: Request[Any, Any, Any], ctx: AppContext, auction_id: int) -> Template:
        viewer = await viewer_of(request, ctx)
        room = await read_room(ctx, auction_id, viewer)
        seconds_left = max(0.0, (datetime.fromisoformat(room.auction.ends_at) - ctx.clock()).total_seconds())
        lang = language(request)
        return page(
            request,
            "room.html.j2",
            viewer,
            room=room,
            view=room.auction,
            # Inside a <script> element: "<" escaped, so no text of a lot can close the element.
            state_json=msgspec.json.encode(room).decode().replace("<", "\\u003c"),
            countdown=countdown_text(seconds_left, i18n.translator(lang)("day_unit")),
        )

    @get("/{auction_id:int}/state", name="room_state")
    async def state(self, request: Request[Any, Any, Any], ctx: AppContext, auction_id: int) -> RoomState:
        """The room as the script reloads it after a reconnect (or a bid event, for a bidder)."""
        viewer = await viewer_of(request, ctx)
        return await read_room(ctx, auction_id, viewer)

    @post("/{auction_id:int}/registration", name="room_register", status_code=200)
    async def register(
        self, request: Request[Any, Any, Any], ctx: AppContext, auction_id: int
    ) -> Response[bytes] | Redirect:
        lang = language(request)
        try:
            bidder = _bidder_or_refusal(await viewer_of(request, ctx), lang)

            async def work(unit: UnitOfWork) -> RegistrationOut:
                return RegistrationOut.of(await register(unit, auction_id, bidder.id, ctx.auction_policy))

            try:
                registration = await ctx.transact(work, actor_id=bidder.id)
            except DomainError as error:
                raise _refusal(error, lang) from error
        except PageRefusal as refusal:
            return _answer(request, auction_id, False, refusal.message, refusal.status, code=refusal.code)
        message = f"{i18n.translator(lang)('registered')} {registration.paddle}"
        return _answer(request, auction_id, True, message, 201, paddle=registration.paddle)

    @post("/{auction_id:int}/bids", name="room_bid", status_code=200)
    async def bid(
        self, request: Request[Any, Any, Any], ctx: AppContext, auction_id: int, data: Form
    ) -> Response[bytes] | Redirect:
        lang = language(request)
        try:
            bidder = _bidder_or_refusal(await viewer_of(request, ctx), lang)
            amount_fen = _money_field(data, "amount", required=True, lang=lang)
            max_amount_fen = _money_field(data, "max_amount", required=False, lang=lang)
            assert amount_fen is not None
            try:
                placed = await submit_bid(ctx, bidder.id, auction_id, amount_fen, max_amount_fen)
            except DomainError as error:
                raise _refusal(error, lang) from error
        except PageRefusal as refusal:
            return _answer(
                request,
                auction_id,
                False,
                refusal.message,
                refusal.status,
                code=refusal.code,
                field=refusal.field,
            )
        message, level = _bid_message(placed, amount_fen, max_amount_fen, lang)
        return _answer(request, auction_id, True, message, 201, level=level, bid=msgspec.to_builtins(placed))

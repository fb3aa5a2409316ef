"""What a bidder is told of an accepted bid in the room: the amount it bid and where that leaves it
(leading, or answered at once by a rival's proxy, as a warning), in either language, with and
without the script. Both databases."""

from __future__ import annotations

import httpx

from app.http.request_id import RequestIdMiddleware
from tests.api.auction_support import AuctionHouse
from tests.api.page_support import HTML, Visitor, api_key_of, visitor


async def _bid(browser: Visitor, room: str, amount: str, max_amount: str = "") -> httpx.Response:
    return await browser.post_form(
        f"{room}/bids", {"amount": amount, "max_amount": max_amount}, from_page=room
    )


async def test_a_bid_answered_at_once_by_a_rival_proxy_says_so_as_a_warning(
    app: RequestIdMiddleware, house: AuctionHouse
) -> None:
    _, bidders, auction = await house.open_lot(2)
    room = f"/auctions/{auction['id']}"
    async with visitor(app) as alpha, visitor(app) as beta:
        await alpha.log_in(api_key_of(bidders[0][1]))
        await beta.log_in(api_key_of(bidders[1][1]))

        leading = await _bid(alpha, room, "1000.00", "1500.00")
        behind = await _bid(beta, room, "1100.00")

    assert leading.status_code == 201, leading.text
    assert (leading.json()["message"], leading.json()["level"]) == (
        "出价 ¥1,000.00 已受理，您以当前价 ¥1,000.00 领先（代理最高价 ¥1,500.00）",
        "success",
    )
    assert behind.status_code == 201, behind.text
    assert (behind.json()["message"], behind.json()["level"]) == (
        "出价 ¥1,100.00 已受理，但其他竞买人的代理出价更高：当前价 ¥1,110.00，您未领先",
        "warning",
    )
    assert (behind.json()["bid"]["leading"], behind.json()["bid"]["current_price"]) == (False, "1110.00")


async def test_without_the_script_the_flash_carries_the_same_words_in_english(
    app: RequestIdMiddleware, house: AuctionHouse
) -> None:
    _, bidders, auction = await house.open_lot(2)
    room = f"/auctions/{auction['id']}"
    async with visitor(app) as alpha, visitor(app) as beta:
        await alpha.log_in(api_key_of(bidders[0][1]))
        await _bid(alpha, room, "1000.00", "1500.00")
        await beta.log_in(api_key_of(bidders[1][1]))
        await beta.http.get(f"/lang/en?next={room}", headers=HTML)
        token = await beta.token(room)

        posted = await beta.http.post(
            f"{room}/bids", data={"amount": "1,200", "_csrf_token": token}, headers=HTML
        )
        after = await beta.page(room)
        again = await beta.page(room)

    assert (posted.status_code, posted.headers["location"]) == (303, room)
    assert (
        '<p class="flash warning" role="status">Your bid of ¥1,200.00 is in, but another bidder&#39;s proxy '
        "maximum is higher: the price is ¥1,210.00 and you are not leading</p>"
    ) in after.text
    assert "Your bid of" not in again.text  # a flash is shown once


async def test_a_sealed_bid_is_confirmed_without_a_price(
    app: RequestIdMiddleware, house: AuctionHouse
) -> None:
    _, bidders, auction = await house.open_lot(1, kind="sealed_first_price")
    room = f"/auctions/{auction['id']}"
    async with visitor(app) as browser:
        await browser.log_in(api_key_of(bidders[0][1]))
        sealed = await _bid(browser, room, "1230.00")

    assert sealed.status_code == 201, sealed.text
    assert (sealed.json()["message"], sealed.json()["level"]) == (
        "密封出价 ¥1,230.00 已提交，开标前他人不可见",
        "success",
    )

"""The live room's words as the server writes them, on both databases: the standing line, an ended
lot, the sentences for screen readers, the expired form's answer to the script, the heartbeat the
script watches. tests/browser/test_room_behaviour_in_chromium.py drives the same in Chromium."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest

from app.db import Database
from app.http.request_id import RequestIdMiddleware
from app.pages.i18n import LANGUAGE_COOKIE
from app.settings import Settings, load_settings
from tests.api.auction_support import AuctionHouse
from tests.api.page_support import HTML, JSON, api_key_of, visitor
from tests.conftest import ADMIN_KEY

# Not the default (15 s): the page must carry the server's interval, not one of its own.
HEARTBEAT_S = 7.0


@pytest.fixture
def settings(database: Database) -> Settings:
    return load_settings(
        {},
        database_url=database.url,
        admin_api_key=ADMIN_KEY,
        scheduler_enabled=False,
        auction_min_duration_s=0,
        live_heartbeat_s=HEARTBEAT_S,
    )


def shown(page: httpx.Response, test_id: str) -> str:
    """The text of the element with this data-testid (elements without markup inside)."""
    found = re.search(rf'data-testid="{test_id}"[^>]*>([^<]*)<', page.text)
    assert found is not None, f"no {test_id} on the page"
    return found.group(1).strip()


def is_hidden(page: httpx.Response, element_id: str) -> bool:
    found = re.search(rf'<p id="{element_id}"([^>]*)>', page.text)
    assert found is not None, f"no #{element_id} on the page"
    return " hidden" in found.group(1)


async def test_a_registered_bidder_who_never_bid_reads_not_bid_yet_and_outbid_is_for_one_who_bid(
    app: RequestIdMiddleware, house: AuctionHouse
) -> None:
    _, bidders, auction = await house.open_lot(3)
    (_, alpha), (_, beta), (_, gamma) = bidders
    assert (await house.bid(auction["id"], alpha, "1000.00")).status_code == 201
    assert (await house.bid(auction["id"], beta, "1010.00")).status_code == 201
    room = f"/auctions/{auction['id']}"

    async with visitor(app) as outbid, visitor(app) as leader, visitor(app) as newcomer:
        await outbid.log_in(api_key_of(alpha))
        await leader.log_in(api_key_of(beta))
        await newcomer.log_in(api_key_of(gamma))
        outbid_page, leader_page, newcomer_page = (
            await outbid.page(room),
            await leader.page(room),
            await newcomer.page(room),
        )
        newcomer_state = await newcomer.state(auction["id"])
        outbid_state = await outbid.state(auction["id"])
        newcomer.http.cookies.set(LANGUAGE_COOKIE, "en", domain="ipx.test")
        newcomer_english = await newcomer.page(room)

    assert shown(newcomer_page, "you-leading") == "您尚未出价"
    assert "您已被超越" not in newcomer_page.text
    assert shown(newcomer_english, "you-leading") == "You have not bid yet"
    assert shown(outbid_page, "you-leading") == "您已被超越"
    assert shown(leader_page, "you-leading") == "您当前领先"
    assert (newcomer_state["viewer_has_bid"], outbid_state["viewer_has_bid"]) == (False, True)


async def test_an_ended_room_reads_as_ended_for_the_winner_the_loser_and_a_watcher(
    app: RequestIdMiddleware, house: AuctionHouse
) -> None:
    ends_at = (house.clock() + timedelta(minutes=5)).isoformat()
    _, bidders, sold = await house.open_lot(2, ends_at=ends_at)
    (_, alpha), (_, beta) = bidders
    _, seller = await house.bank()
    unsold = await house.create(seller, ends_at=(house.clock() + timedelta(minutes=5)).isoformat())
    assert (await house.bid(sold["id"], alpha, "1000.00")).status_code == 201
    assert (await house.bid(sold["id"], beta, "1010.00")).status_code == 201
    house.clock.advance(600)
    await house.tick()

    async with visitor(app) as loser, visitor(app) as winner, visitor(app) as watcher:
        await loser.log_in(api_key_of(alpha))
        await winner.log_in(api_key_of(beta))
        loser_page = await loser.page(f"/auctions/{sold['id']}")
        winner_page = await winner.page(f"/auctions/{sold['id']}")
        watcher_page = await watcher.page(f"/auctions/{sold['id']}")
        unsold_page = await watcher.page(f"/auctions/{unsold['id']}")

    for page in (loser_page, winner_page, watcher_page):
        assert (shown(page, "price-label"), shown(page, "price")) == ("成交价", "¥1,010.00")
        assert shown(page, "countdown") == shown(page, "countdown-announce") == "已结束"
        assert shown(page, "price-announce") == "成交价 ¥1,010.00，买受人竞买号 2"
        assert "当前价" not in shown(page, "price-label")
    assert shown(winner_page, "you-leading") == "您已竞得"
    assert "您当前领先" not in winner_page.text
    assert shown(loser_page, "you-leading") == "您未竞得"
    assert "您已被超越" not in loser_page.text
    assert is_hidden(watcher_page, "login-to-bid-line") and not is_hidden(watcher_page, "bidding-over")
    assert shown(watcher_page, "bidding-over") == "拍卖已结束，不再接受报名和出价"
    assert (shown(unsold_page, "price-label"), shown(unsold_page, "price")) == ("成交价", "流拍")
    assert shown(unsold_page, "countdown") == "已结束"
    assert is_hidden(unsold_page, "login-to-bid-line")


async def test_the_room_speaks_the_price_with_its_label_and_leader_and_the_time_left_in_words(
    app: RequestIdMiddleware, house: AuctionHouse
) -> None:
    _, bidders, auction = await house.open_lot(1)  # ends an hour after it was put up, a minute ago
    room = f"/auctions/{auction['id']}"
    async with visitor(app) as watcher:
        before = await watcher.page(room)
        assert (await house.bid(auction["id"], bidders[0][1], "1000.00")).status_code == 201
        house.clock.advance(1)
        after = await watcher.page(room)
        watcher.http.cookies.set(LANGUAGE_COOKIE, "en", domain="ipx.test")
        english = await watcher.page(room)

    assert shown(before, "price-announce") == ""  # no price before the first bid: nothing to say
    assert shown(before, "countdown-announce") == "剩余 59 分"
    assert shown(after, "price-announce") == "当前价 ¥1,000.00，领先竞买号 1"
    assert shown(after, "countdown-announce") == "剩余 58 分 59 秒"
    assert shown(english, "price-announce") == "Current price ¥1,000.00, leading paddle 1"
    assert shown(english, "countdown-announce") == "58 minutes 59 seconds left"
    for region in ("price-announce", "countdown-announce"):
        tag = re.search(rf'<[^>]*data-testid="{region}"[^>]*>', after.text)
        assert tag is not None, region
        assert 'aria-live="polite"' in tag.group(0) and 'aria-atomic="true"' in tag.group(0)
    # The figures themselves are no longer regions of their own announcing bare numbers.
    for figure in ("price", "leader"):
        tag = re.search(rf'<dd[^>]*data-testid="{figure}"[^>]*>', after.text)
        assert tag is not None and "aria-live" not in tag.group(0)


async def test_a_script_post_with_an_expired_form_gets_a_problem_document_in_the_page_s_language(
    app: RequestIdMiddleware, house: AuctionHouse
) -> None:
    _, bidders, auction = await house.open_lot(1)
    room = f"/auctions/{auction['id']}"
    async with visitor(app) as browser:
        await browser.log_in(api_key_of(bidders[0][1]))
        forged = {"amount": "1000.00", "_csrf_token": "x" * 80}
        chinese = await browser.http.post(f"{room}/bids", data=forged, headers=JSON)
        browser.http.cookies.set(LANGUAGE_COOKIE, "en", domain="ipx.test")
        english = await browser.http.post(f"{room}/bids", data=forged, headers=JSON)
        navigating = await browser.http.post(f"{room}/bids", data=forged, headers=HTML)

    for answer in (chinese, english):
        assert answer.status_code == 403
        assert answer.headers["content-type"].startswith("application/problem+json")
        problem = answer.json()
        assert (problem["type"], problem["code"]) == ("urn:ipx:problem:forbidden", "forbidden")
        assert problem["status"] == 403
    assert chinese.json()["detail"] == "表单已过期或来源不明，请刷新页面后重试"
    assert english.json()["detail"] == "The form expired or came from elsewhere; reload and retry"
    assert navigating.status_code == 403 and "The form expired or came from elsewhere" in navigating.text
    assert (await house.view(auction["id"], bidders[0][1]))["bid_count"] == 0


async def test_a_script_post_whose_session_is_gone_is_told_login_required_without_a_csrf_refusal(
    app: RequestIdMiddleware, house: AuctionHouse
) -> None:
    """What room.js turns into "登录已过期" with a link to /login?next=<the room>: the form of a page
    opened logged in, posted after the session ended elsewhere."""
    _, bidders, auction = await house.open_lot(1)
    room = f"/auctions/{auction['id']}"
    async with visitor(app) as browser:
        await browser.log_in(api_key_of(bidders[0][1]))
        token = await browser.token(room)
        await browser.post_form("/logout", {}, from_page=room, accept=HTML)
        answer = await browser.http.post(
            f"{room}/bids", data={"amount": "1000.00", "_csrf_token": token}, headers=JSON
        )

    assert (answer.status_code, answer.json()["code"]) == (401, "login_required")


async def test_the_room_carries_the_server_s_heartbeat_for_its_stall_watch(
    app: RequestIdMiddleware, house: AuctionHouse
) -> None:
    _, _, auction = await house.open_lot(0)
    async with visitor(app) as watcher:
        page = await watcher.page(f"/auctions/{auction['id']}")
        state = await watcher.state(auction["id"])

    assert f'data-heartbeat-s="{HEARTBEAT_S}"' in page.text
    assert state["heartbeat_s"] == HEARTBEAT_S

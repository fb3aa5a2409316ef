"""The live room's behaviour in Chromium: the amount field after a bid, the standing line of a new
registrant, an expired form or login, an ended lot, what a screen reader hears, a stalled stream.

The module's server sends a heartbeat every second (IPX_LIVE_HEARTBEAT_S=1), so the room's stall
watch (a few heartbeats of silence) acts within seconds."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from tests.browser.conftest import Api, CuttableProxy, People, screenshot
from tests.browser.test_pages_in_chromium import SEEN_WITHIN_MS, _bid, _mark, _not_reloaded, _wait_until

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    return {"IPX_LIVE_HEARTBEAT_S": "1"}


async def _live(page: Any) -> None:
    await page.get_by_test_id("connection").filter(has_text="实时连接正常").wait_for(timeout=SEEN_WITHIN_MS)


async def _amount_becomes(page: Any, value: str) -> None:
    await page.wait_for_function(
        "(value) => document.getElementById('amount').value === value", arg=value, timeout=SEEN_WITHIN_MS
    )


async def _accepted(page: Any, amount: str) -> None:
    """Bids from the form and asserts it was accepted (the accepted message's words are not this
    module's subject: app/pages/room.py writes them)."""
    message = await _bid(page, amount)
    assert await page.get_by_test_id("bid-message").get_attribute("class") == "message ok", message


async def _lot_with_bidders(
    api: Api, title: str, count: int, *, ends_in_s: float = 3_600, **rules: Any
) -> tuple[dict[str, Any], list[str]]:
    _, bank = await api.participant(["bank"], f"{title} Bank")
    keys = []
    for number in range(count):
        _, key = await api.participant(["bidder"], f"{title} Bidder {number}", funds="10000.00")
        keys.append(key)
    auction = await api.auction(bank, title, starts_in_s=0.5, ends_in_s=ends_in_s, **rules)
    return auction, keys


async def test_the_amount_field_follows_the_minimum_unless_the_bidder_is_typing_and_a_low_bid_offers_it(
    api: Api, people: People
) -> None:
    auction, (mine, rival, third) = await _lot_with_bidders(api, "商标 第20000001号", 3)
    for key in (mine, rival, third):
        await api.register(auction["id"], key)
    page = await people.person(mine)
    await page.goto(f"/auctions/{auction['id']}")
    await _live(page)
    await _wait_until(auction["starts_at"], 0.2)
    amount = page.get_by_label("出价金额（元）")

    await _accepted(page, "1000.00")
    await _amount_becomes(page, "1010.00")  # its own bid answered: on to the next minimum
    await api.bid(auction["id"], rival, "1010.00")
    await _amount_becomes(page, "1020.00")  # a rival's bid arrived: the same

    await amount.fill("1500.00")  # typing: focus in the field, an edited value
    await api.bid(auction["id"], third, "1020.00")
    await page.get_by_role("button", name="¥1,030.00").wait_for(timeout=SEEN_WITHIN_MS)
    assert await amount.input_value() == "1500.00"

    await amount.fill("1000.00")
    await amount.press("Enter")
    message = page.get_by_test_id("bid-message")
    await message.filter(has_text="出价低于最低有效出价 ¥1,030.00").wait_for(timeout=SEEN_WITHIN_MS)
    offer = page.get_by_test_id("bid-offer").get_by_role("button", name="改为最低有效出价 ¥1,030.00")
    await offer.click()
    assert await amount.input_value() == "1030.00"
    await screenshot(page, "room-offer-minimum")
    await page.get_by_role("button", name="确认出价").click()
    await page.locator("#bid-message.ok").filter(has_text=re.compile(".+")).wait_for(timeout=SEEN_WITHIN_MS)
    await _amount_becomes(page, "1040.00")


async def test_a_new_registrant_reads_not_bid_yet_and_a_confirmation_with_the_deposit_held(
    api: Api, people: People
) -> None:
    auction, (alpha, beta, newcomer) = await _lot_with_bidders(api, "发明专利 ZL2023 1 0000004.2", 3)
    for key in (alpha, beta):
        await api.register(auction["id"], key)
    await _wait_until(auction["starts_at"], 0.2)
    await api.bid(auction["id"], alpha, "1000.00")
    await api.bid(auction["id"], beta, "1010.00")
    page = await people.person(newcomer)
    await page.goto(f"/auctions/{auction['id']}")

    await page.get_by_role("button", name="报名并冻结保证金").click()
    registered = page.get_by_test_id("registered")
    await registered.filter(has_text=re.compile(".+")).wait_for(timeout=SEEN_WITHIN_MS)
    assert await registered.inner_text() == "报名成功，竞买号 3，已冻结保证金 ¥100.00"
    standing = page.get_by_test_id("you-leading")
    assert await standing.inner_text() == "您尚未出价"
    await _live(page)
    await screenshot(page, "room-registered")

    await api.bid(auction["id"], alpha, "1020.00")  # a live bid, and the standing is read again
    await page.get_by_test_id("price").filter(has_text="¥1,020.00").wait_for(timeout=SEEN_WITHIN_MS)
    await page.wait_for_load_state("networkidle")
    assert await standing.inner_text() == "您尚未出价"
    await _accepted(page, "1030.00")
    await standing.filter(has_text="您当前领先").wait_for(timeout=SEEN_WITHIN_MS)
    await api.bid(auction["id"], beta, "1040.00")
    await standing.filter(has_text="您已被超越").wait_for(timeout=SEEN_WITHIN_MS)
    await page.reload()  # the confirmation is the answer to that registration, not the room's news
    assert await page.get_by_test_id("registered").inner_text() == ""


async def test_an_expired_form_and_a_lost_login_say_so_in_words_with_the_way_back(
    api: Api, people: People
) -> None:
    auction, (key,) = await _lot_with_bidders(api, "外观设计专利 ZL2023 3 0000005.9", 1)
    await api.register(auction["id"], key)
    page = await people.person(key)
    room = f"/auctions/{auction['id']}"
    await page.goto(room)
    await _live(page)
    await _wait_until(auction["starts_at"], 0.2)

    # What a restart with another secret amounts to: the form's token no longer matches a cookie.
    await page.context.clear_cookies(name=re.compile(r"^ipx_csrf_"))
    assert await _bid(page, "1000.00") == "表单已过期或来源不明，请刷新页面后重试 刷新页面"
    reload_link = page.get_by_test_id("bid-message").get_by_role("link", name="刷新页面")
    assert await reload_link.get_attribute("href") == page.url
    await screenshot(page, "room-form-expired")
    await reload_link.click()
    await _live(page)
    await _accepted(page, "1000.00")

    other_tab = await page.context.new_page()
    await other_tab.goto("/auctions")
    await other_tab.get_by_role("button", name="退出").click()
    await other_tab.wait_for_load_state()
    assert await _bid(page, "1010.00") == "登录已过期，请重新登录 重新登录"
    login = page.get_by_test_id("bid-message").get_by_role("link", name="重新登录")
    assert await login.get_attribute("href") == f"/login?next={room.replace('/', '%2F')}"
    await screenshot(page, "room-login-expired")


async def test_an_ended_room_reads_as_ended_live_for_the_winner_the_loser_and_a_watcher(
    api: Api, people: People
) -> None:
    _, bank = await api.participant(["bank"], "Ended Bank")
    _, loser_key = await api.participant(["bidder"], "Ended Loser", funds="10000.00")
    _, winner_key = await api.participant(["bidder"], "Ended Winner", funds="10000.00")
    loser = await people.person(loser_key)
    winner = await people.person(winner_key)
    watcher = await people.person()
    unsold_watcher = await people.person()
    # Put up once everyone is logged in: the lots end a few seconds after they start, and a bid
    # in the first seconds does not extend them.
    short = {"starts_in_s": 0.5, "ends_in_s": 8, "extension_window_s": 1, "extension_s": 1}
    auction = await api.auction(bank, "软件著作权 2023SR0000006", **short)
    unsold = await api.auction(bank, "集成电路布图设计 BS.23500007.0", **short)
    for key in (loser_key, winner_key):
        await api.register(auction["id"], key)
    room = f"/auctions/{auction['id']}"
    for page in (loser, winner, watcher):
        await page.goto(room)
    await unsold_watcher.goto(f"/auctions/{unsold['id']}")
    for page in (loser, winner, watcher, unsold_watcher):
        await _live(page)
        await _mark(page)
    await _wait_until(auction["starts_at"], 0.2)
    await api.bid(auction["id"], loser_key, "1000.00")
    await api.bid(auction["id"], winner_key, "1010.00")
    assert await watcher.get_by_test_id("login-to-bid").is_visible()

    for page in (loser, winner, watcher):
        await page.get_by_test_id("outcome").filter(has_text="已成交").wait_for(timeout=15_000)
    await unsold_watcher.get_by_test_id("outcome").filter(has_text="流拍").wait_for(timeout=15_000)

    for page in (loser, winner, watcher):
        assert await page.get_by_test_id("price-label").inner_text() == "成交价"
        assert await page.get_by_test_id("price").inner_text() == "¥1,010.00"
        assert await page.get_by_test_id("countdown").inner_text() == "已结束"
        assert "实时连接正常" not in await page.get_by_test_id("connection").inner_text()
        assert await _not_reloaded(page)
    assert await winner.get_by_test_id("you-leading").inner_text() == "您已竞得"
    assert await loser.get_by_test_id("you-leading").inner_text() == "您未竞得"
    assert await watcher.get_by_test_id("login-to-bid").is_hidden()
    assert await watcher.get_by_test_id("bidding-over").inner_text() == "拍卖已结束，不再接受报名和出价"
    assert await unsold_watcher.get_by_test_id("price-label").inner_text() == "成交价"
    assert await unsold_watcher.get_by_test_id("price").inner_text() == "流拍"
    assert await unsold_watcher.get_by_test_id("countdown").inner_text() == "已结束"
    assert "实时连接正常" not in await unsold_watcher.get_by_test_id("connection").inner_text()
    assert await unsold_watcher.get_by_test_id("login-to-bid").is_hidden()
    await screenshot(winner, "room-winner-ended")
    await screenshot(unsold_watcher, "room-unsold-ended")


async def test_the_live_regions_speak_labelled_sentences_and_the_time_left_in_words(
    api: Api, people: People, server_url: str, proxy: CuttableProxy
) -> None:
    auction, (alpha, beta) = await _lot_with_bidders(
        api, "实用新型专利 ZL2023 2 0000008.3", 2, ends_in_s=70, extension_window_s=1, extension_s=1
    )
    for key in (alpha, beta):
        await api.register(auction["id"], key)
    chinese = await people.person()
    english = await people.person()
    await english.context.add_cookies(
        [{"name": "ipx_lang", "value": "en", "url": f"http://127.0.0.1:{proxy.port}"}]
    )
    for page in (chinese, english):
        await page.goto(f"/auctions/{auction['id']}")
    await _live(chinese)
    await english.get_by_test_id("connection").filter(has_text="Live").wait_for(timeout=SEEN_WITHIN_MS)
    for page in (chinese, english):
        for region in ("price-announce", "countdown-announce"):
            node = page.get_by_test_id(region)
            assert (await node.get_attribute("aria-live"), await node.get_attribute("aria-atomic")) == (
                "polite",
                "true",
            )
        assert await page.locator("#leader[aria-live], #price[aria-live]").count() == 0
    await _wait_until(auction["starts_at"], 0.2)

    await api.bid(auction["id"], alpha, "1000.00")
    await api.bid(auction["id"], beta, "1010.00")
    price = chinese.get_by_test_id("price-announce")
    await price.filter(has_text="当前价 ¥1,010.00，领先竞买号 2").wait_for(timeout=SEEN_WITHIN_MS)
    english_price = english.get_by_test_id("price-announce")
    await english_price.filter(has_text="Current price ¥1,010.00, leading paddle 2").wait_for(
        timeout=SEEN_WITHIN_MS
    )

    # A minute before the end, the time left is said once, in words, in each page's language.
    await _wait_until(auction["ends_at"], -60)
    await (
        chinese.get_by_test_id("countdown-announce")
        .filter(has_text=re.compile("^剩余 1 分$"))
        .wait_for(timeout=SEEN_WITHIN_MS)
    )
    await (
        english.get_by_test_id("countdown-announce")
        .filter(has_text=re.compile("^1 minute left$"))
        .wait_for(timeout=SEEN_WITHIN_MS)
    )
    await asyncio.sleep(1.5)
    assert await chinese.get_by_test_id("countdown-announce").inner_text() == "剩余 1 分"  # not every tick


async def test_a_stalled_stream_is_seen_as_lost_reopened_and_catches_up(
    api: Api, people: People, proxy: CuttableProxy
) -> None:
    auction, (key,) = await _lot_with_bidders(api, "植物新品种权 CNA20230009.1", 1)
    await api.register(auction["id"], key)
    watcher = await people.person()
    await watcher.goto(f"/auctions/{auction['id']}")
    await _live(watcher)
    await _mark(watcher)
    await watcher.evaluate(
        """() => {
            window.__connection = [];
            const node = document.getElementById("connection");
            new MutationObserver(() => window.__connection.push(node.textContent))
                .observe(node, { childList: true, characterData: true, subtree: true });
        }"""
    )
    await _wait_until(auction["starts_at"], 0.2)

    assert proxy.stall("/events") >= 1  # open, silent: no event, no heartbeat, no close
    await api.bid(auction["id"], key, "1000.00")
    await watcher.get_by_test_id("price").filter(has_text="¥1,000.00").wait_for(timeout=SEEN_WITHIN_MS)

    seen = await watcher.evaluate("window.__connection")
    assert "连接中断，正在重连…" in seen, seen
    assert await watcher.get_by_test_id("connection").inner_text() == "实时连接正常"
    assert await watcher.locator("#history tr").count() == 1
    assert await _not_reloaded(watcher)

"""The pages in a real browser: two bidders against each other, a watcher, refusals, a cut stream,
the clearing desk against the API, CSRF and the login redirect. Each test says what a person sees."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import datetime
from typing import Any

import pytest

from tests.api.market_support import negotiated_trade, register_loan
from tests.browser.conftest import Api, CuttableProxy, People, screenshot

pytestmark = pytest.mark.asyncio(loop_scope="module")
# How long a page may take to show what the server already did (a live event, a reload).
SEEN_WITHIN_MS = 10_000


async def _mark(page: Any) -> None:
    """A flag that a reload or navigation would wipe: the live updates must keep it."""
    await page.evaluate("window.__notReloaded = true")


async def _not_reloaded(page: Any) -> bool:
    return bool(await page.evaluate("window.__notReloaded === true"))


async def _bid(page: Any, amount: str, max_amount: str | None = None) -> str:
    await page.get_by_label("出价金额（元）").fill(amount)
    if max_amount is not None:
        await page.get_by_label("代理最高价（元，选填）").fill(max_amount)
    await page.get_by_role("button", name="确认出价").click()
    message = page.get_by_test_id("bid-message")
    await message.filter(has_text=re.compile(".+")).wait_for(timeout=SEEN_WITHIN_MS)
    return str(await message.inner_text())


async def _history_paddles(page: Any) -> list[str]:
    return [
        str(await row.locator("td").first.inner_text()) for row in await page.locator("#history tr").all()
    ]


async def _wait_until(instant: str, margin_s: float = 0.0) -> None:
    delay = datetime.fromisoformat(instant).timestamp() + margin_s - time.time()
    if delay > 0:
        await asyncio.sleep(delay)


async def test_two_bidders_see_each_others_bids_the_extension_and_the_close_and_a_watcher_sees_no_secret(
    api: Api, people: People
) -> None:
    """Two bidders in two contexts and an anonymous watcher on one lot: each bid, the extension in
    the last window and the close appear without a reload; the loser's page says it lost; the
    watcher never sees a maximum or a name."""
    _, bank = await api.participant(["bank"], "杭州银行 Seller Bank")
    _, alpha_key = await api.participant(["bidder"], "Alpha 资产管理", funds="10000.00")
    _, beta_key = await api.participant(["bidder"], "Beta 信托", funds="10000.00")
    alpha = await people.person(alpha_key)
    beta = await people.person(beta_key)
    watcher = await people.person()
    auction = await api.auction(
        bank,
        "发明专利 ZL2020 1 0000001.X 拍卖",
        starts_in_s=1,
        ends_in_s=11,
        extension_window_s=4,
        extension_s=4,
    )
    beta_paddle = await api.register(auction["id"], beta_key)
    room = f"/auctions/{auction['id']}"
    watched_states: list[str] = []

    async def keep_state(response: Any) -> None:
        if response.url.endswith("/state"):
            watched_states.append(await response.text())

    watcher.on("response", keep_state)
    await alpha.goto(room)
    await alpha.get_by_role("button", name="报名并冻结保证金").click()
    await alpha.get_by_test_id("your-paddle").wait_for()
    alpha_paddle = await alpha.get_by_test_id("your-paddle").inner_text()
    for page in (alpha, beta, watcher):
        if page is not alpha:
            await page.goto(room)
        await page.get_by_test_id("connection").filter(has_text="实时连接正常").wait_for()
        await _mark(page)
    await _wait_until(auction["starts_at"], 0.2)

    assert await _bid(alpha, "1000.00") == "出价 ¥1,000.00 已受理，您以当前价 ¥1,000.00 领先"
    await beta.locator("#history tr").first.filter(has_text=alpha_paddle).wait_for(timeout=SEEN_WITHIN_MS)
    await beta.get_by_role("button", name="¥1,010.00").click()
    assert await _bid(beta, "1010.00") == "出价 ¥1,010.00 已受理，您以当前价 ¥1,010.00 领先"
    await (
        alpha.locator("#history tr").first.filter(has_text=str(beta_paddle)).wait_for(timeout=SEEN_WITHIN_MS)
    )
    await alpha.get_by_test_id("you-leading").filter(has_text="您已被超越").wait_for(timeout=SEEN_WITHIN_MS)
    await screenshot(beta, "room-bidder")

    await _wait_until(auction["ends_at"], -2.5)  # inside the last 4 s window
    assert (
        await _bid(alpha, "1020.00", max_amount="1500.00")
        == "出价 ¥1,020.00 已受理，您以当前价 ¥1,020.00 领先（代理最高价 ¥1,500.00）"
    )
    for page in (alpha, beta, watcher):
        await page.get_by_test_id("extended").wait_for(state="visible", timeout=SEEN_WITHIN_MS)
        await page.get_by_test_id("price").filter(has_text="¥1,020.00").wait_for(timeout=SEEN_WITHIN_MS)
    await alpha.get_by_test_id("your-max").filter(has_text="¥1,500.00").wait_for(timeout=SEEN_WITHIN_MS)
    await screenshot(watcher, "room-watcher")

    for page in (alpha, beta, watcher):
        await page.get_by_test_id("outcome").filter(has_text="已成交").wait_for(timeout=15_000)
    assert "¥1,020.00" in await watcher.get_by_test_id("outcome").inner_text()
    assert await alpha.get_by_test_id("verdict").inner_text() == "恭喜，您已竞得此拍品"
    assert await beta.get_by_test_id("verdict").inner_text() == "拍卖已结束，您未竞得此拍品"
    await beta.get_by_test_id("deposit-state").filter(has_text="已退还").wait_for(timeout=SEEN_WITHIN_MS)
    assert await _history_paddles(watcher) == [alpha_paddle, str(beta_paddle), alpha_paddle]
    for page in (alpha, beta, watcher):
        assert await _not_reloaded(page)
    await screenshot(beta, "room-loser")

    for page in (beta, watcher):
        shown = await page.content()
        assert "1,500.00" not in shown and "1500.00" not in shown
        assert "Alpha 资产管理" not in shown
    watcher_text = await watcher.content() + "".join(watched_states)
    assert watched_states, "the watcher's page reloaded its state at least once (on connecting)"
    assert "Beta 信托" not in watcher_text and "Alpha 资产管理" not in watcher_text
    assert "1500.00" not in watcher_text and '"you"' not in watched_states[-1]
    assert await watcher.get_by_test_id("verdict").is_hidden()


async def test_a_refused_bid_shows_its_reason_in_words(api: Api, people: People) -> None:
    _, bank = await api.participant(["bank"], "Refusal Bank")
    _, bidder_key = await api.participant(["bidder"], "Refused Bidder", funds="10000.00")
    auction = await api.auction(bank, "商标 第12345678号", starts_in_s=0.5, ends_in_s=3_600)
    await api.register(auction["id"], bidder_key)
    page = await people.person(bidder_key)
    await page.goto(f"/auctions/{auction['id']}")
    await _wait_until(auction["starts_at"], 0.2)

    assert await _bid(page, "1005.00") == "出价不在加价幅度上，最近的有效出价为 ¥1,000.00 或 ¥1,010.00"
    assert await _bid(page, "九百元") == "金额格式不正确，请输入元，最多两位小数"
    assert await _bid(page, "1000.00") == "出价 ¥1,000.00 已受理，您以当前价 ¥1,000.00 领先"
    assert await _bid(page, "1000.00") == "出价低于最低有效出价 ¥1,010.00"
    await screenshot(page, "room-refusal")


async def test_a_cut_stream_reconnects_and_shows_the_bids_missed_meanwhile(
    api: Api, people: People, proxy: CuttableProxy
) -> None:
    _, bank = await api.participant(["bank"], "Stream Bank")
    _, bidder_key = await api.participant(["bidder"], "Stream Bidder", funds="10000.00")
    auction = await api.auction(bank, "实用新型专利 ZL2021 2 0000002.1", starts_in_s=0.5, ends_in_s=3_600)
    await api.register(auction["id"], bidder_key)
    watcher = await people.person()
    await watcher.goto(f"/auctions/{auction['id']}")
    await watcher.get_by_test_id("connection").filter(has_text="实时连接正常").wait_for()
    await _mark(watcher)
    await _wait_until(auction["starts_at"], 0.2)

    proxy.cut()
    await watcher.get_by_test_id("connection").filter(has_text="连接中断").wait_for(timeout=SEEN_WITHIN_MS)
    await api.bid(auction["id"], bidder_key, "1000.00")
    await api.bid(auction["id"], bidder_key, "1100.00")
    await asyncio.sleep(0.5)
    assert await watcher.locator("#history tr").count() == 0  # nothing arrives while cut
    proxy.restore()

    await watcher.get_by_test_id("connection").filter(has_text="实时连接正常").wait_for(timeout=20_000)
    await watcher.locator("#history tr").nth(1).wait_for(timeout=SEEN_WITHIN_MS)
    assert await watcher.locator("#history tr").count() == 2
    assert await watcher.get_by_test_id("bid-count").inner_text() == "2"
    assert (
        await watcher.get_by_test_id("price").inner_text() == "¥1,000.00"
    )  # the leader raised its own maximum
    assert await _not_reloaded(watcher)


async def test_a_page_without_a_session_goes_to_login_and_the_desk_totals_equal_the_api(
    api: Api, people: People
) -> None:
    _, seller_key = await api.participant(["bank"], "中原银行 Desk Seller")
    _, buyer_key = await api.participant(["bank"], "Desk Buyer Bank")
    loan = await register_loan(api.http, api.bearer(seller_key))
    await negotiated_trade(api.http, loan["id"], api.bearer(seller_key), api.bearer(buyer_key))
    _, clearing_key = await api.clearing()
    page = await people.person()

    await page.goto("/desk/clearing")
    assert "/login?next=%2Fdesk%2Fclearing" in page.url
    await screenshot(page, "login")
    await page.get_by_label("API 密钥").fill(clearing_key)
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url("**/desk/clearing")

    period_from = await page.get_by_label("起始日期").input_value()
    period_to = await page.get_by_label("截止日期").input_value()
    report = (
        await api.http.get(
            f"/api/v1/clearing/fee-waivers?from={period_from}&to={period_to}",
            headers=api.bearer(clearing_key),
        )
    ).json()
    assert report["trades"] >= 1 and report["totals"]["waived"] != "0.00"
    for figure in ("gross", "waived", "charged"):
        whole, fraction = report["totals"][figure].split(".")
        assert await page.get_by_test_id(f"total-{figure}").inner_text() == f"¥{int(whole):,}.{fraction}"
    assert await page.get_by_test_id("total-trades").inner_text() == str(report["trades"])
    chart = page.get_by_test_id("chart-by-institution")
    assert await chart.locator("rect").count() == len(report["by_institution"])
    await screenshot(page, "clearing-desk")


async def test_a_form_post_without_its_csrf_token_is_refused(api: Api, people: People) -> None:
    _, bank = await api.participant(["bank"], "CSRF Bank")
    _, bidder_key = await api.participant(["bidder"], "CSRF Bidder", funds="10000.00")
    auction = await api.auction(bank, "外观设计专利 ZL2022 3 0000003.0", starts_in_s=0.2, ends_in_s=3_600)
    await api.register(auction["id"], bidder_key)
    page = await people.person(bidder_key)
    await page.goto(f"/auctions/{auction['id']}")
    await _wait_until(auction["starts_at"], 0.2)

    # A form like one another site could make the browser send: the session cookie goes with it,
    # the page's CSRF token does not.
    async with page.expect_response(lambda response: response.url.endswith("/bids")) as answer:
        await page.evaluate(
            """(action) => {
                const form = Object.assign(document.createElement("form"), {method: "post", action});
                form.append(Object.assign(document.createElement("input"), {name: "amount", value: "1000.00"}));
                document.body.append(form);
                form.submit();
            }""",
            f"/auctions/{auction['id']}/bids",
        )
    refused = await answer.value

    assert refused.status == 403
    assert await page.get_by_test_id("error-message").inner_text() == "表单已过期或来源不明，请刷新页面后重试"
    view = (await api.http.get(f"/api/v1/auctions/{auction['id']}", headers=api.bearer(bidder_key))).json()
    assert view["bid_count"] == 0
    await page.goto("/auctions?phase=live")
    await screenshot(page, "catalogue")
    await page.goto("/auctions/999999999")
    assert await page.get_by_test_id("error-message").inner_text() == "没有找到该页面"

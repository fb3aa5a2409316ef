"""The catalogue's centralized sessions on both databases: the demo's session with its lots by
phase, each lot's collateral, region, appraisal, start price and the API's current price, filters
by collateral kind and region, and the ended tab once the lots have closed."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import httpx

from app.context import AppContext
from app.demo import seed_demo_market
from app.demo.participants import BIDDER_A_KEY
from app.demo.session_seed import SESSION_LOT_COUNT, STAGGER_S
from app.http.request_id import RequestIdMiddleware
from app.pages.formatting import yuan
from app.scheduler import close_due_auctions
from tests.api.page_support import visitor
from tests.conftest import FakeClock, auth

_ROW = re.compile(
    r'<tr data-testid="session-lot" data-auction-id="(\d+)" data-lot-phase="(\w+)">(.*?)</tr>', re.S
)
_PRICE = re.compile(r'data-testid="session-lot-price">([^<]+)<')


def _session_rows(html: str, session_id: int) -> dict[int, tuple[str, str, str]]:
    """auction id → (lot phase, price cell, the row's html) within the session's article."""
    start = html.index(f'data-session-id="{session_id}"')
    article = html[start : html.index("</article>", start)]
    rows = {}
    for auction_id, phase, cells in _ROW.findall(article):
        price = _PRICE.search(cells)
        assert price is not None
        rows[int(auction_id)] = (phase, price.group(1), cells)
    return rows


async def _session(client: httpx.AsyncClient, session_id: int) -> dict[str, Any]:
    response = await client.get(f"/api/v1/sessions/{session_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_the_catalogue_lists_the_session_and_its_lots_with_the_apis_current_prices(
    app: RequestIdMiddleware, client: httpx.AsyncClient, context: AppContext, clock: FakeClock
) -> None:
    report = await seed_demo_market(context)
    assert report.session_id is not None
    before = await _session(client, report.session_id)
    lots = [lot["auction"] for lot in before["lots"]]
    # A person bids on two lots, so their current prices differ from the start.
    for lot, steps in ((lots[0], 0), (lots[2], 3)):
        amount = int(lot["start_price"].replace(".", "")) + steps * int(lot["increment"].replace(".", ""))
        response = await client.post(
            f"/api/v1/auctions/{lot['id']}/bids",
            json={"amount": f"{amount // 100}.{amount % 100:02d}"},
            headers=auth(BIDDER_A_KEY),
        )
        assert response.status_code == 201, response.text
    api = await _session(client, report.session_id)

    async with visitor(app) as browser:
        live = await browser.page("/auctions?phase=live")
        trademarks = await browser.page("/auctions?phase=live&kind=trademark")
        zhejiang = await browser.page("/auctions?phase=live&region=33")
        upcoming = await browser.page("/auctions?phase=upcoming")
        unknown = await browser.page("/auctions?phase=live&region=99&kind=nonsense")
        browser.http.cookies.set("ipx_lang", "en", domain="ipx.test")
        english = await browser.page("/auctions?phase=live&region=33")

    assert live.status_code == 200
    rows = _session_rows(live.text, report.session_id)
    assert list(rows) == [lot["auction"]["id"] for lot in api["lots"]]
    assert len(rows) == SESSION_LOT_COUNT
    for lot in api["lots"]:
        auction = lot["auction"]
        phase, price, cells = rows[auction["id"]]
        assert phase == "live"
        assert price == yuan(auction["current_price"])
        assert yuan(auction["start_price"]) in cells
        assert f'href="/auctions/{auction["id"]}"' in cells
        assert f'data-ends-at="{auction["ends_at"]}"' in cells
        for item in auction["lot"]["collateral"]:
            assert item["registry_number"] in cells and yuan(item["appraisal"]) in cells
    assert api["lots"][2]["auction"]["current_price"] != api["lots"][2]["auction"]["start_price"]
    assert rows[lots[2]["id"]][1] == yuan(api["lots"][2]["auction"]["current_price"])
    assert f"{STAGGER_S} 秒" in live.text and "集中拍卖专场" in live.text

    with_trademark = {
        lot["auction"]["id"]
        for lot in api["lots"]
        if any(item["kind"] == "trademark" for item in lot["auction"]["lot"]["collateral"])
    }
    assert len(with_trademark) == 2
    assert set(_session_rows(trademarks.text, report.session_id)) == with_trademark
    # Region: the province of the borrowers' credit codes; lots 1 and 6 are Zhejiang's (浙江).
    zhejiang_rows = _session_rows(zhejiang.text, report.session_id)
    assert list(zhejiang_rows) == [api["lots"][0]["auction"]["id"], api["lots"][5]["auction"]["id"]]
    assert all("浙江" in cells for _, _, cells in zhejiang_rows.values())
    assert 'value="33" selected' in zhejiang.text
    assert f'data-session-id="{report.session_id}"' not in upcoming.text
    assert len(_session_rows(unknown.text, report.session_id)) == SESSION_LOT_COUNT
    assert "Centralized sessions" in english.text and "Zhejiang" in english.text

    # Every lot past its end and closed: the session moves to the ended tab with final prices.
    clock.set(max(datetime.fromisoformat(lot["auction"]["ends_at"]) for lot in api["lots"]))
    clock.advance(1)
    await close_due_auctions(context)
    ended_api = await _session(client, report.session_id)
    async with visitor(app) as browser:
        ended = await browser.page("/auctions?phase=ended")
        live_after = await browser.page("/auctions?phase=live")

    ended_rows = _session_rows(ended.text, report.session_id)
    assert {phase for phase, _, _ in ended_rows.values()} == {"ended"}
    for lot in ended_api["lots"]:
        assert ended_rows[lot["auction"]["id"]][1] == yuan(lot["auction"]["final_price"])
    assert ended_api["lots"][0]["auction"]["final_price"] == lots[0]["start_price"]
    assert f'data-session-id="{report.session_id}"' not in live_after.text

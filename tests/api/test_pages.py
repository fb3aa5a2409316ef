"""The pages over HTTP on both databases: login and sessions, CSRF, the room, the catalogue, the
clearing desk. The browser tests (tests/browser) drive the same pages in Chromium."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import text

from app.http.request_id import RequestIdMiddleware
from app.pages.sessions import SESSION_COOKIE
from tests.api.auction_support import AuctionHouse
from tests.api.market_support import negotiated_trade, register_loan
from tests.api.page_support import HTML, JSON, api_key_of, visitor
from tests.conftest import Market


async def test_login_sets_an_httponly_samesite_session_cookie_with_a_new_id(
    app: RequestIdMiddleware, client: httpx.AsyncClient, market: Market
) -> None:
    _, bidder = await market.participant(["bidder"], name="Bidder Login")
    async with visitor(app) as browser:
        browser.http.cookies.set(SESSION_COOKIE, "planted-by-someone-else", domain="ipx.test")
        response = await browser.log_in(api_key_of(bidder), next_path="/auctions")

        assert response.status_code == 303
        assert response.headers["location"] == "/auctions"
        cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE))
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie
        assert "planted-by-someone-else" not in cookie
        catalogue = await browser.page("/auctions")
        assert "Bidder Login" in catalogue.text
        # The key itself is never sent back to the browser.
        assert api_key_of(bidder) not in catalogue.text + str(response.headers)


async def test_an_unknown_key_is_refused_and_opens_no_session(
    app: RequestIdMiddleware, client: httpx.AsyncClient
) -> None:
    async with visitor(app) as browser:
        response = await browser.log_in("ipx_not_a_key_of_anyone_00000000")

        assert response.status_code == 401
        assert "密钥无效或已停用" in response.text
        assert not any(c.startswith(SESSION_COOKIE) for c in response.headers.get_list("set-cookie"))
        desk = await browser.page("/desk/clearing")
        assert desk.status_code == 303


async def test_a_page_needing_a_session_redirects_to_login_then_back(
    app: RequestIdMiddleware, client: httpx.AsyncClient, market: Market
) -> None:
    clearing = await market.clearing()
    async with visitor(app) as browser:
        desk = await browser.page("/desk/clearing?date=2026-06-01")
        assert desk.status_code == 303
        assert desk.headers["location"] == "/login?next=%2Fdesk%2Fclearing%3Fdate%3D2026-06-01"

        login_page = await browser.page(desk.headers["location"])
        assert 'value="/desk/clearing?date=2026-06-01"' in login_page.text
        logged_in = await browser.log_in(api_key_of(clearing), next_path="/desk/clearing?date=2026-06-01")
        assert logged_in.headers["location"] == "/desk/clearing?date=2026-06-01"
        assert (await browser.page("/desk/clearing?date=2026-06-01")).status_code == 200


async def test_logout_ends_the_session(
    app: RequestIdMiddleware, client: httpx.AsyncClient, market: Market
) -> None:
    clearing = await market.clearing()
    async with visitor(app) as browser:
        await browser.log_in(api_key_of(clearing))
        assert (await browser.page("/desk/clearing")).status_code == 200

        response = await browser.post_form("/logout", {}, from_page="/desk/clearing", accept=HTML)

        assert response.status_code == 303
        assert (await browser.page("/desk/clearing")).status_code == 303


async def test_revoking_the_key_a_page_session_logged_in_with_ends_that_session_only(
    app: RequestIdMiddleware, client: httpx.AsyncClient, market: Market
) -> None:
    clearing = await market.clearing()
    spare = await client.post("/api/v1/participants/me/keys", json={"name": "desk"}, headers=clearing)
    assert spare.status_code == 201, spare.text
    spare_key = spare.json()["api_key"]
    async with visitor(app) as with_spare, visitor(app) as with_first:
        await with_spare.log_in(spare_key)
        await with_first.log_in(api_key_of(clearing))
        assert (await with_spare.page("/desk/clearing")).status_code == 200
        assert (await with_first.page("/desk/clearing")).status_code == 200

        revoked = await client.delete(f"/api/v1/participants/me/keys/{spare.json()['id']}", headers=clearing)
        assert revoked.status_code == 200, revoked.text

        # The session opened with the revoked key is over at its next request; the other stays.
        after = await with_spare.page("/desk/clearing")
        assert (after.status_code, after.headers["location"]) == (303, "/login?next=%2Fdesk%2Fclearing")
        assert (await with_first.page("/desk/clearing")).status_code == 200
        # Logging in again with the revoked key is refused.
        assert (await with_spare.log_in(spare_key)).status_code == 401


async def test_a_suspended_participant_s_page_session_ends_at_its_next_request(
    app: RequestIdMiddleware, client: httpx.AsyncClient, market: Market
) -> None:
    clearing = await market.clearing()
    async with visitor(app) as browser:
        await browser.log_in(api_key_of(clearing))
        assert (await browser.page("/desk/clearing")).status_code == 200
        me = (await client.get("/api/v1/participants/me", headers=clearing)).json()["id"]
        suspended = await client.post(f"/api/v1/participants/{me}/suspend", headers=market.admin)
        assert suspended.status_code == 200, suspended.text

        assert (await browser.page("/desk/clearing")).status_code == 303


async def test_a_redirect_after_login_never_leaves_the_site(
    app: RequestIdMiddleware, client: httpx.AsyncClient, market: Market
) -> None:
    _, bidder = await market.participant(["bidder"])
    async with visitor(app) as browser:
        for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
            response = await browser.log_in(api_key_of(bidder), next_path=target)
            assert response.headers["location"] == "/", target
        language = await browser.http.get("/lang/en?next=//evil.example", headers=HTML)
        assert language.headers["location"] == "/"


async def test_a_form_post_without_a_csrf_token_is_refused_and_changes_nothing(
    app: RequestIdMiddleware, house: AuctionHouse
) -> None:
    _, bidders, auction = await house.open_lot(1)
    async with visitor(app) as browser:
        await browser.log_in(api_key_of(bidders[0][1]))
        room = f"/auctions/{auction['id']}"

        without = await browser.http.post(f"{room}/bids", data={"amount": "1000.00"}, headers=HTML)
        forged = await browser.http.post(
            f"{room}/bids", data={"amount": "1000.00", "_csrf_token": "x" * 80}, headers=JSON
        )
        login = await browser.http.post("/login", data={"api_key": "whatever"}, headers=HTML)

        assert without.status_code == 403
        assert "表单已过期或来源不明" in without.text
        assert forged.status_code == 403
        assert forged.json()["code"] == "forbidden"
        assert login.status_code == 403
    assert (await house.view(auction["id"], bidders[0][1]))["bid_count"] == 0


async def test_the_json_api_keeps_bearer_keys_without_csrf(house: AuctionHouse) -> None:
    _, bidders, auction = await house.open_lot(1)

    response = await house.bid(auction["id"], bidders[0][1], "1000.00")

    assert response.status_code == 201, response.text
    assert "set-cookie" not in response.headers


async def test_the_room_is_public_and_a_maximum_is_shown_to_its_bidder_alone(
    app: RequestIdMiddleware, house: AuctionHouse
) -> None:
    _, bidders, auction = await house.open_lot(2)
    (_, alpha), (_, beta) = bidders
    assert (await house.bid(auction["id"], alpha, "1000.00", max_amount="1570.00")).status_code == 201
    assert (await house.bid(auction["id"], beta, "1010.00")).status_code == 201
    room = f"/auctions/{auction['id']}"

    async with visitor(app) as anonymous, visitor(app) as leader, visitor(app) as other:
        await leader.log_in(api_key_of(alpha))
        await other.log_in(api_key_of(beta))
        anonymous_page = await anonymous.page(room)
        leader_page = await leader.page(room)
        other_page = await other.page(room)
        anonymous_state = await anonymous.state(auction["id"])
        leader_state = await leader.state(auction["id"])
        other_state = await other.state(auction["id"])

    assert anonymous_page.status_code == 200
    assert "¥1,020.00" in anonymous_page.text  # the proxy bid for alpha: beta's 1010 + 10
    for page_text in (anonymous_page.text, other_page.text):
        assert "1,570.00" not in page_text
        assert "1570.00" not in page_text
        assert "Bidder 0" not in page_text  # the leader's name
    assert "Bidder 1" not in anonymous_page.text
    assert "¥1,570.00" in leader_page.text
    assert "you" not in anonymous_state["auction"] and "seller_id" not in anonymous_state["auction"]
    assert other_state["auction"]["you"]["your_max"] is None
    assert leader_state["auction"]["you"] == {
        "paddle": 1,
        "deposit_state": "held",
        "leading": True,
        "your_max": "1570.00",
        "your_sealed_bid": None,
    }
    assert [(b["paddle"], b["price_after"]) for b in anonymous_state["history"]] == [
        (2, "1020.00"),
        (1, "1000.00"),
    ]
    assert anonymous_state["next_amounts"] == ["1030.00", "1040.00", "1050.00"]


async def test_a_bid_from_the_room_is_refused_with_its_reason_and_an_accepted_one_moves_the_price(
    app: RequestIdMiddleware, house: AuctionHouse
) -> None:
    _, bidders, auction = await house.open_lot(1)
    room = f"/auctions/{auction['id']}"
    async with visitor(app) as browser:
        await browser.log_in(api_key_of(bidders[0][1]))

        async def bid(amount: str, max_amount: str = "") -> httpx.Response:
            return await browser.post_form(
                f"{room}/bids", {"amount": amount, "max_amount": max_amount}, from_page=room
            )

        low = await bid("990.00")
        off_grid = await bid("1,005.00")
        bad_text = await bid("a thousand")
        empty = await bid("")
        bad_max = await bid("1000.00", "995.00")
        accepted = await bid("¥1,000.00")

    assert (low.status_code, low.json()["code"]) == (409, "below_minimum")  # as the API answers
    assert low.json()["message"] == "出价低于最低有效出价 ¥1,000.00"
    assert off_grid.json()["code"] == "off_grid"
    assert off_grid.json()["message"] == "出价不在加价幅度上，最近的有效出价为 ¥1,000.00 或 ¥1,010.00"
    assert (bad_text.status_code, bad_text.json()["field"]) == (422, "amount")
    assert (empty.json()["code"], empty.json()["field"]) == ("amount_required", "amount")
    assert bad_max.json()["code"] == "max_below_amount"
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["bid"]["current_price"] == "1000.00"
    view = await house.view(auction["id"], bidders[0][1])
    assert (view["bid_count"], view["current_price"]) == (1, "1000.00")


async def test_a_bid_on_a_closed_lot_says_so_and_a_form_without_script_gets_a_flash(
    app: RequestIdMiddleware, house: AuctionHouse
) -> None:
    _, bidders, auction = await house.open_lot(1, ends_at=(house.clock() + timedelta(minutes=5)).isoformat())
    house.clock.advance(600)
    await house.tick()
    room = f"/auctions/{auction['id']}"
    async with visitor(app) as browser:
        await browser.log_in(api_key_of(bidders[0][1]))
        token = await browser.token(room)
        response = await browser.http.post(
            f"{room}/bids", data={"amount": "1000.00", "_csrf_token": token}, headers=HTML
        )
        assert (response.status_code, response.headers["location"]) == (303, room)
        after = await browser.page(room)

    assert "拍卖已结束，不能再出价" in after.text
    assert "流拍" in after.text


async def test_registration_from_the_room_holds_the_deposit_and_gives_a_paddle(
    app: RequestIdMiddleware, house: AuctionHouse
) -> None:
    _, seller = await house.bank()
    _, bidder = await house.market.participant(["bidder"], funds="5000.00")
    auction = await house.create(seller)
    room = f"/auctions/{auction['id']}"
    async with visitor(app) as browser:
        await browser.log_in(api_key_of(bidder))
        assert "报名并冻结保证金" in (await browser.page(room)).text

        first = await browser.post_form(f"{room}/registration", {}, from_page=room)
        again = await browser.post_form(f"{room}/registration", {}, from_page=room)
        page_after = await browser.page(room)

    assert (first.status_code, first.json()["paddle"]) == (201, 1)
    assert again.json()["code"] == "already_registered"
    assert 'id="bid-form"' in page_after.text
    balances = await house.market.balances(bidder)
    assert (balances["available"], balances["held"]) == ("4900.00", "100.00")


async def test_a_participant_without_the_bidder_role_can_neither_register_nor_bid(
    app: RequestIdMiddleware, house: AuctionHouse
) -> None:
    _, seller = await house.bank()
    auction = await house.create(seller)
    house.clock.advance(60)
    room = f"/auctions/{auction['id']}"
    async with visitor(app) as bank_browser, visitor(app) as anonymous:
        await bank_browser.log_in(api_key_of(seller))
        register = await bank_browser.post_form(f"{room}/registration", {}, from_page=room)
        bid = await bank_browser.post_form(f"{room}/bids", {"amount": "1000.00"}, from_page=room)
        anonymous_bid = await anonymous.post_form(f"{room}/bids", {"amount": "1000.00"}, from_page="/login")
        missing = await anonymous.page("/auctions/999999")

    assert (register.status_code, register.json()["code"]) == (403, "forbidden")
    assert (bid.status_code, bid.json()["code"]) == (403, "forbidden")
    assert (anonymous_bid.status_code, anonymous_bid.json()["code"]) == (401, "login_required")
    assert missing.status_code == 404
    assert (await house.view(auction["id"], seller))["registrations"] == 0


async def test_the_catalogue_lists_lots_by_phase_with_collateral_and_filters_by_kind(
    app: RequestIdMiddleware, house: AuctionHouse
) -> None:
    _, seller = await house.bank()
    loan = await register_loan(house.http, seller)
    patent_id, estate_id = (c["id"] for c in loan["collateral"])
    now = house.clock()
    live = await house.listing_lot(
        seller,
        loan["id"],
        lot={"title": "Live patent lot", "collateral_ids": [patent_id]},
        starts_at=now.isoformat(),
    )
    upcoming = await house.listing_lot(
        seller,
        loan["id"],
        lot={"title": "Upcoming workshop lot", "collateral_ids": [estate_id]},
        starts_at=(now + timedelta(hours=2)).isoformat(),
        ends_at=(now + timedelta(hours=5)).isoformat(),
    )
    house.clock.advance(1)

    async with visitor(app) as browser:
        live_page = await browser.page("/auctions?phase=live")
        upcoming_page = await browser.page("/auctions?phase=upcoming")
        filtered = await browser.page("/auctions?phase=live&kind=real_estate")
        bad = await browser.page("/auctions?phase=nonsense&kind=<script>")
        browser.http.cookies.set("ipx_lang", "en", domain="ipx.test")
        english = await browser.page("/auctions?phase=live")

    assert f"/auctions/{live['id']}" in live_page.text
    assert f"/auctions/{upcoming['id']}" not in live_page.text
    assert "发明专利" in live_page.text and "ZL202010000001.X" in live_page.text
    assert "¥3,000,000.00" in live_page.text  # the patent's appraisal
    assert f"/auctions/{upcoming['id']}" in upcoming_page.text and "不动产" in upcoming_page.text
    assert "暂无拍品" in filtered.text
    assert "Invention patent" in english.text and "Time left" in english.text
    assert bad.status_code == 200 and "<script>" not in bad.text


def _spreadsheet_rows(response: httpx.Response) -> list[list[str]]:
    """A desk's CSV as a spreadsheet reads it: UTF-8 behind its byte-order mark, one charset."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


async def _desk_trades(house: AuctionHouse) -> tuple[dict[str, str], list[dict[str, object]]]:
    """Two trades on 2026-06-01 (an IP-pledge loan, fees waived) and 2026-07-02 (no IP, charged)."""
    trades = []
    for instant, collateral_kind in (
        (datetime(2026, 6, 1, 2, 0, tzinfo=UTC), "invention_patent"),
        (datetime(2026, 7, 2, 2, 0, tzinfo=UTC), "real_estate"),
    ):
        house.clock.set(instant)
        _, bank = await house.market.participant(["bank"], name=f"Bank {collateral_kind}")
        _, buyer = await house.market.participant(["bank"])
        collateral = [
            {
                "kind": collateral_kind,
                "registry_number": f"REG-{collateral_kind}",
                "title": "Pledged right",
                "right_holder": "Borrower Co.",
                "appraisal": "900000.00",
                "appraised_on": "2024-12-01",
                **({"filed_on": "2020-06-15"} if collateral_kind.endswith("_patent") else {}),
            }
        ]
        loan = await register_loan(house.http, bank, collateral=collateral)
        trades.append(await negotiated_trade(house.http, loan["id"], bank, buyer))
    return await house.market.clearing(), trades


async def test_the_clearing_desk_shows_the_api_totals_by_month_and_institution_with_csv(
    app: RequestIdMiddleware, house: AuctionHouse
) -> None:
    clearing, _ = await _desk_trades(house)
    period = "from=2026-05-01&to=2026-07-31"
    api = (await house.http.get(f"/api/v1/clearing/fee-waivers?{period}", headers=clearing)).json()

    async with visitor(app) as browser:
        await browser.log_in(api_key_of(clearing))
        desk = await browser.page(f"/desk/clearing?{period}&date=2026-06-01")
        by_month = await browser.page(f"/desk/clearing/by-month.csv?{period}")
        by_institution = await browser.page(f"/desk/clearing/by-institution.csv?{period}")
        lines = await browser.page(f"/desk/clearing/fee-lines.csv?{period}")
        api_lines = await house.http.get(
            f"/api/v1/clearing/fee-waivers?{period}&format=csv", headers=clearing
        )

    assert desk.status_code == 200
    for figure in ("gross", "waived", "charged"):
        amount = api["totals"][figure]
        whole, fraction = amount.split(".")
        assert f"¥{int(whole):,}.{fraction}" in desk.text, figure
    months = _spreadsheet_rows(by_month)
    assert months[0] == ["月份", "应收", "减免（免收）", "实收"]
    assert [row[0] for row in months[1:]] == ["2026-06", "2026-07"]
    assert sum(int(row[2].replace(".", "")) for row in months[1:]) == int(
        api["totals"]["waived"].replace(".", "")
    )
    assert months[2][2] == "0.00"  # July's trade has no IP collateral: nothing waived
    institutions = _spreadsheet_rows(by_institution)[1:]
    assert {row[0] for row in institutions} >= {"Bank invention_patent", "Bank real_estate"}
    api_by_institution = {v["waived"] for v in api["by_institution"].values()}
    assert {row[2] for row in institutions} == api_by_institution
    # The desk's fee lines are the API's, line by line and to the fen; the API's CSV stays the
    # machines' (codes, no byte-order mark).
    desk_lines = _spreadsheet_rows(lines)
    machine_lines = list(csv.reader(io.StringIO(api_lines.text)))
    assert machine_lines[0][0] == "line_id" and not api_lines.content.startswith(b"\xef\xbb\xbf")
    assert desk_lines[0][0] == "费用行编号" and len(desk_lines) == len(machine_lines) > 1
    assert [(r[0], r[1], r[2], r[5], r[9], r[10], r[11]) for r in desk_lines[1:]] == [
        (r[0], r[1], r[2], r[5], r[9], r[10], r[11]) for r in machine_lines[1:]
    ]
    assert 'role="img"' in desk.text and "<svg" in desk.text
    assert 'data-value-fen="' in desk.text


async def test_the_clearing_desk_highlights_the_breaks_of_the_day(
    app: RequestIdMiddleware, house: AuctionHouse
) -> None:
    clearing, _ = await _desk_trades(house)
    async with house.context.database.write_engine.begin() as connection:
        await connection.execute(
            text("UPDATE fee_lines SET charged_fen = 100, waived_fen = gross_fen - 100 WHERE id = 1")
        )
    api = (await house.http.get("/api/v1/clearing/reconciliation?date=2026-06-01", headers=clearing)).json()

    async with visitor(app) as browser:
        await browser.log_in(api_key_of(clearing))
        desk = await browser.page("/desk/clearing?date=2026-06-01")
        breaks_csv = await browser.page("/desk/clearing/reconciliation.csv?date=2026-06-01")
        clean_day = await browser.page("/desk/clearing?date=2026-05-01")

    assert api["clean"] is False
    assert desk.text.count('<tr class="break">') == len(api["breaks"])
    rows = _spreadsheet_rows(breaks_csv)
    assert rows[0] == ["日期", "差异类型", "差异代码", "对象", "说明"]
    assert {row[2] for row in rows[1:]} == {b["kind"] for b in api["breaks"]}
    assert 'data-testid="recon-clean"' in clean_day.text


async def test_the_clearing_desk_refuses_other_roles_and_bad_dates_without_a_500(
    app: RequestIdMiddleware, client: httpx.AsyncClient, market: Market
) -> None:
    _, bank = await market.participant(["bank"])
    clearing = await market.clearing()
    async with visitor(app) as bank_browser, visitor(app) as clerk:
        await bank_browser.log_in(api_key_of(bank))
        await clerk.log_in(api_key_of(clearing))
        refused = await bank_browser.page("/desk/clearing")
        refused_csv = await bank_browser.page("/desk/clearing/fee-lines.csv")
        reversed_period = await clerk.page("/desk/clearing?from=2026-07-01&to=2026-06-01")
        not_a_date = await clerk.page("/desk/clearing?from=someday")
        far = await clerk.http.get("/desk/clearing?from=2300-01-01", headers=JSON)

    assert refused.status_code == 403 and "clearing" in refused.text
    assert refused_csv.status_code == 403
    assert reversed_period.status_code == 422 and "to must not be before from" in reversed_period.text
    assert not_a_date.status_code == 400
    assert far.status_code == 422 and far.json()["code"] == "date_out_of_range"


async def test_the_language_switch_keeps_the_page_and_english_labels_follow(
    app: RequestIdMiddleware, client: httpx.AsyncClient
) -> None:
    async with visitor(app) as browser:
        chinese = await browser.page("/login")
        switched = await browser.http.get("/lang/en?next=/login", headers=HTML)
        english = await browser.page("/login")
        unknown = await browser.http.get("/lang/xx?next=/login", headers=HTML)
        back = await browser.page("/login")

    assert 'lang="zh-CN"' in chinese.text and "API 密钥" in chinese.text
    assert switched.headers["location"] == "/login"
    assert 'lang="en"' in english.text and "API key" in english.text
    assert unknown.status_code == 303 and 'lang="zh-CN"' in back.text


async def test_a_lot_title_that_looks_like_markup_is_shown_as_text(
    app: RequestIdMiddleware, house: AuctionHouse
) -> None:
    _, seller = await house.bank()
    title = "</script><script>alert('x')</script> & <b>patent</b>"
    auction = await house.create(seller, lot={"title": title, "description": "<img src=x onerror=alert(1)>"})

    async with visitor(app) as browser:
        room = await browser.page(f"/auctions/{auction['id']}")
        catalogue = await browser.page("/auctions?phase=upcoming")

    assert room.status_code == 200
    for page_text in (room.text, catalogue.text):
        assert "<script>alert" not in page_text and "<b>patent</b>" not in page_text
        assert "&lt;b&gt;patent&lt;/b&gt;" in page_text
    assert "<img src=x" not in room.text
    state_json = room.text.split('id="room-state">', 1)[1].split("</script>", 1)[0]
    assert "<" not in state_json and "\\u003c/script>" in state_json


async def test_the_room_of_a_sealed_or_descending_auction_hides_what_is_hidden_and_takes_an_amount(
    app: RequestIdMiddleware, house: AuctionHouse
) -> None:
    _, seller = await house.bank()
    _, bidder = await house.market.participant(["bidder"], funds="10000.00")
    sealed = await house.create(seller, kind="sealed_first_price")
    descending = await house.create(
        seller, kind="descending", start_price="2000.00", decrement="100.00", step_s=60, floor_price="1500.00"
    )
    for auction in (sealed, descending):
        await house.register(auction["id"], bidder)
    house.clock.advance(60)
    assert (await house.bid(sealed["id"], bidder, "1230.00")).status_code == 201

    async with visitor(app) as anonymous, visitor(app) as browser:
        await browser.log_in(api_key_of(bidder))
        sealed_anonymous = await anonymous.page(f"/auctions/{sealed['id']}")
        sealed_state = await anonymous.state(sealed["id"])
        sealed_mine = await browser.page(f"/auctions/{sealed['id']}")
        descending_mine = await browser.page(f"/auctions/{descending['id']}")
        descending_state = await browser.state(descending["id"])

    assert sealed_anonymous.status_code == sealed_mine.status_code == descending_mine.status_code == 200
    assert "1,230.00" not in sealed_anonymous.text
    assert 'data-testid="your-sealed-bid">¥1,230.00<' in sealed_mine.text  # its own envelope alone
    assert sealed_state["sealed_until_close"] is True and sealed_state["history"] == []
    assert 'id="max_amount"' not in descending_mine.text  # a proxy maximum is for English lots only
    assert descending_state["next_amounts"] == [descending_state["auction"]["minimum_bid"]]


async def test_no_other_site_may_frame_a_page(app: RequestIdMiddleware, client: httpx.AsyncClient) -> None:
    async with visitor(app) as browser:
        for path in ("/", "/login", "/auctions?phase=ended"):
            answer = await browser.page(path)
            assert answer.status_code == 200, path
            assert answer.headers["x-frame-options"] == "DENY"
            assert answer.headers["content-security-policy"] == "frame-ancestors 'none'"
    api = await client.get("/api/v1/clock")
    assert "x-frame-options" not in api.headers  # the JSON API is not a page


async def test_a_browser_at_a_path_that_names_nothing_gets_the_error_page_in_its_language(
    app: RequestIdMiddleware, client: httpx.AsyncClient
) -> None:
    async with visitor(app) as browser:
        pages = {
            path: await browser.page(path)
            for path in ("/auctions/abc", "/nosuchpage", "/auctions/-1", "/auctions/0")
        }
        await browser.http.get("/lang/en?next=/", headers=HTML)
        english = await browser.page("/auctions/2x")
        script = await browser.http.get("/auctions/abc", headers=JSON)
        api = await browser.http.get("/api/v1/nosuch", headers=HTML)

    for path, answer in pages.items():
        assert (answer.status_code, answer.headers["content-type"].split(";")[0]) == (
            404 if "abc" in path or "nosuch" in path else 422,
            "text/html",
        ), path
        assert "出错了" in answer.text and "must be an integer" not in answer.text, path
    assert english.status_code == 404 and "text/html" in english.headers["content-type"]
    assert "出错了" not in english.text
    # A script, and anything under /api/, still gets the problem document.
    assert script.headers["content-type"].startswith("application/problem+json")
    assert api.headers["content-type"].startswith("application/problem+json")

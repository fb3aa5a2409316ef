"""Centralized sessions: staggered lots, bundles of cases, one paddle per session, public browsing."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from tests.api.disposal_support import DAY_S, DisposalDesk
from tests.conftest import Market
from transfer.kernel.audit_tables import AuditEvent

pytestmark = __import__("pytest").mark.db


def _session_body(
    desk: DisposalDesk, lots: list[dict[str, Any]], notice_s: int = 30 * DAY_S + 60
) -> dict[str, Any]:
    starts_at = desk.clock() + timedelta(seconds=notice_s)
    return {
        "title": "IP disposal session, December",
        "starts_at": starts_at.isoformat(),
        "first_lot_ends_at": (starts_at + timedelta(days=1)).isoformat(),
        "lots": lots,
    }


def _lot(*case_ids: int, deposit: str = "100000.00", **extra: str) -> dict[str, Any]:
    return {"disposal_ids": list(case_ids), "increment": "10000.00", "deposit": deposit, **extra}


async def _three_lot_session(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk
) -> tuple[dict[str, Any], dict[str, dict[str, Any]], dict[str, dict[str, str]]]:
    _, bank_1 = await market.participant(["bank"], name="Bank One")
    _, bank_2 = await market.participant(["bank", "bidder"], funds="500000.00", name="Bank Two")
    cases = {
        "a": await desk.case_on_patent(bank_1, "ZL202110000011.X"),
        "b": await desk.case_on_patent(bank_1, "ZL202110000012.X", appraisal="1000000.00"),
        "c": await desk.case_on_patent(bank_2, "ZL202110000013.X", appraisal="500000.00"),
        "d": await desk.case_on_patent(bank_2, "ZL202110000014.X"),
    }
    body = _session_body(
        desk,
        [
            _lot(cases["a"]["id"], deposit="70000.00"),
            _lot(cases["b"]["id"], cases["c"]["id"]),
            _lot(cases["d"]["id"], deposit="70000.00"),
        ],
    )
    response = await client.post("/api/v1/sessions", json=body, headers=market.admin)
    assert response.status_code == 201, response.text
    return response.json(), cases, {"bank_1": bank_1, "bank_2": bank_2}


async def _events(desk: DisposalDesk, kind: str) -> int:
    async with desk.context.database.read() as session:
        query = select(func.count()).select_from(AuditEvent).where(AuditEvent.type == kind)
        return int((await session.execute(query)).scalar_one())


async def test_a_session_staggers_its_lots_and_refuses_what_breaks_a_rounds_limits(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk
) -> None:
    _, bank = await market.participant(["bank"])
    one = await desk.case_on_patent(bank, "ZL202110000021.X")
    two = await desk.case_on_patent(bank, "ZL202110000022.X", appraisal="500000.00")

    forbidden = await client.post(
        "/api/v1/sessions", json=_session_body(desk, [_lot(one["id"])]), headers=bank
    )
    assert forbidden.status_code == 403, forbidden.text
    low = await client.post(
        "/api/v1/sessions",
        json=_session_body(desk, [_lot(one["id"], two["id"], start_price="1040000.00")]),
        headers=market.admin,
    )
    assert low.status_code == 422 and low.json()["code"] == "start_price_below_minimum", low.text
    assert low.json()["errors"][0]["field"] == "lots[0].start_price"
    short = await client.post(
        "/api/v1/sessions", json=_session_body(desk, [_lot(one["id"])], notice_s=DAY_S), headers=market.admin
    )
    assert short.status_code == 422 and short.json()["code"] == "notice_too_short", short.text
    assert short.json()["errors"][0]["field"] == "lots[0].disposal_ids"
    twice = await client.post(
        "/api/v1/sessions", json=_session_body(desk, [_lot(one["id"]), _lot(one["id"])]), headers=market.admin
    )
    assert twice.status_code == 422 and twice.json()["code"] == "case_repeated", twice.text
    missing = await client.post(
        "/api/v1/sessions", json=_session_body(desk, [_lot(999_999)]), headers=market.admin
    )
    assert missing.status_code == 404, missing.text
    # Refusals changed nothing: both cases still wait for their first round.
    assert (await desk.case(one["id"], bank))["steps"] == []

    body = _session_body(desk, [_lot(one["id"], deposit="70000.00"), _lot(two["id"], deposit="35000.00")])
    body["stagger_s"] = 120
    response = await client.post("/api/v1/sessions", json=body, headers=market.admin)
    assert response.status_code == 201, response.text
    session = response.json()
    first, second = session["lots"]
    assert (first["auction"]["start_price"], second["auction"]["start_price"]) == ("700000.00", "350000.00")
    ends = [datetime.fromisoformat(lot["auction"]["ends_at"]) for lot in session["lots"]]
    assert ends[1] - ends[0] == timedelta(seconds=120)
    assert session["state"] == "upcoming"
    case = await desk.case(one["id"], bank)
    assert case["state"] == "in_round" and case["steps"][0]["auction_id"] == first["auction"]["id"]
    again = await client.post(
        "/api/v1/sessions", json=_session_body(desk, [_lot(one["id"])]), headers=market.admin
    )
    assert again.status_code == 409 and again.json()["code"] == "round_not_expected", again.text


async def test_a_bundle_sells_once_and_its_price_is_split_by_appraisal_then_each_case_waterfall(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk
) -> None:
    session, cases, banks = await _three_lot_session(client, market, desk)
    lot_a, bundle, lot_d = session["lots"]
    assert bundle["disposal_ids"] == [cases["b"]["id"], cases["c"]["id"]]
    assert bundle["minimum_start"] == "1050000.00" and bundle["auction"]["start_price"] == "1050000.00"

    # Anyone browses the session; nobody is named.
    public = await client.get(f"/api/v1/sessions/{session['id']}")
    assert public.status_code == 200, public.text
    assert "seller_id" not in str(public.json())
    listed = await client.get("/api/v1/sessions?state=upcoming")
    assert [item["id"] for item in listed.json()["items"]] == [session["id"]]
    assert (await client.get("/api/v1/sessions?state=ended")).json()["items"] == []
    assert (await client.get("/api/v1/sessions?state=bogus")).status_code == 422

    _, x = await market.participant(["bidder"], funds="3000000.00")
    _, y = await market.participant(["bidder"], funds="3000000.00")
    path = f"/api/v1/sessions/{session['id']}/registrations"
    reg_x = await client.post(path, json={"lot_ids": [lot_a["lot_id"], bundle["lot_id"]]}, headers=x)
    assert reg_x.status_code == 201, reg_x.text
    assert reg_x.json()["paddle"] == 1 and [lot["deposit"] for lot in reg_x.json()["lots"]] == [
        "70000.00",
        "100000.00",
    ]
    assert (await market.balances(x))["held"] == "170000.00"
    direct = await desk.register(bundle["auction"]["id"], y)
    assert direct.status_code == 201 and direct.json()["paddle"] == 2, direct.text
    reg_y = await client.post(path, json={"lot_ids": [lot_d["lot_id"]]}, headers=y)
    assert reg_y.json()["paddle"] == 2, reg_y.text
    creditor = await desk.register(bundle["auction"]["id"], banks["bank_2"])
    assert creditor.status_code == 403 and creditor.json()["code"] == "seller_cannot_bid", creditor.text
    stranger_lot = await client.post(path, json={"lot_ids": [999_999]}, headers=x)
    assert stranger_lot.status_code == 422 and stranger_lot.json()["code"] == "lot_not_in_session", (
        stranger_lot.text
    )

    desk.travel_to(session["starts_at"])
    assert (await client.get(f"/api/v1/sessions/{session['id']}")).json()["state"] == "live"
    await desk.bid(bundle["auction"]["id"], x, "1050000.00")
    # A bid in the bundle's last window moves only the bundle's end.
    desk.travel_to(bundle["auction"]["ends_at"], after_s=-60)
    answer = await desk.bid(bundle["auction"]["id"], y, "1200000.00")
    assert answer["extended"] is True
    view = (await client.get(f"/api/v1/sessions/{session['id']}")).json()
    assert view["lots"][2]["auction"]["ends_at"] == lot_d["auction"]["ends_at"]
    assert view["lots"][1]["auction"]["ends_at"] > bundle["auction"]["ends_at"]
    assert view["lots"][1]["auction"]["leading_paddle"] == 2

    desk.travel_to(view["lots"][1]["auction"]["ends_at"], after_s=600)
    await desk.tick()
    pay = f"/api/v1/auctions/{bundle['auction']['id']}/payments"
    paid = await client.post(pay, json={}, headers=y)
    assert paid.status_code in (200, 201), paid.text
    await desk.tick()

    case_b = await desk.case(cases["b"]["id"], banks["bank_1"])
    case_c = await desk.case(cases["c"]["id"], banks["bank_2"])
    # 1,200,000.00 split 2:1 by appraisal.
    assert (case_b["proceeds"]["price"], case_c["proceeds"]["price"]) == ("800000.00", "400000.00")
    assert case_b["state"] == case_c["state"] == "settled"
    for case, price_fen in ((case_b, 80_000_000), (case_c, 40_000_000)):
        assert sum(int(line["amount"].replace(".", "")) for line in case["waterfall"]) == price_fen
    assert await _events(desk, "disposal.settled") == 2
    # Lot a had no bid: its case failed round 1 and waits for round 2.
    case_a = await desk.case(cases["a"]["id"], banks["bank_1"])
    assert case_a["state"] == "awaiting_round" and case_a["steps"][0]["result"] == "unsold"
    assert (await client.get(f"/api/v1/sessions/{session['id']}")).json()["state"] == "ended"
    await desk.books_are_whole()


async def test_closers_and_the_payment_racing_on_a_bundle_split_its_proceeds_once(
    client: httpx.AsyncClient, market: Market, desk: DisposalDesk
) -> None:
    session, cases, banks = await _three_lot_session(client, market, desk)
    bundle = session["lots"][1]
    _, x = await market.participant(["bidder"], funds="3000000.00")
    assert (await desk.register(bundle["auction"]["id"], x)).status_code == 201
    desk.travel_to(session["starts_at"])
    await desk.bid(bundle["auction"]["id"], x, "1050000.00")
    desk.travel_to(bundle["auction"]["ends_at"])
    pay = f"/api/v1/auctions/{bundle['auction']['id']}/payments"
    results = await asyncio.gather(desk.tick(), desk.tick(), client.post(pay, json={}, headers=x))
    if results[2].status_code not in (200, 201):
        assert results[2].status_code == 403, results[2].text
        assert (await client.post(pay, json={}, headers=x)).status_code in (200, 201)
    await asyncio.gather(desk.tick(), desk.tick())
    assert await _events(desk, "disposal.settled") == 2
    case_b = await desk.case(cases["b"]["id"], banks["bank_1"])
    assert case_b["proceeds"]["price"] == "700000.00"
    await desk.books_are_whole()

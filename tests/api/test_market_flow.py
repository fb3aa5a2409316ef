"""The transfer center end to end: two IP-pledge loans, a subscription of 30 % of one income right
to three buyers, the other whole loan by auction, DvP settlement fee-free inside the waiver window
(and with fees outside it), a repayment to every holder to the fen, and a clean reconciliation."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import date, timedelta

from tests.api.auction_support import AuctionHouse
from tests.api.market_support import post_ok, register_loan


async def test_the_done_means_scenario(house: AuctionHouse) -> None:
    http, market, clock = house.http, house.market, house.clock
    # The scenario's clock moves an hour on; run late in a Shanghai evening, its trades fall on two
    # trade dates, so the fee-waiver report spans from the day it started.
    started_on = _today(clock)
    bank_id, bank = await market.participant(["bank"], name="Bank of Hangzhou")
    buyers = [
        await market.participant(["bank", "bidder"], funds="5000000.00", name=f"Buyer {i}") for i in range(3)
    ]
    clearing = await market.clearing()
    first = await register_loan(http, bank)
    second = await register_loan(
        http,
        bank,
        collateral=[
            {
                "kind": "trademark",
                "registry_number": "TM-12345678",
                "title": "锂安 trademark, class 9",
                "right_holder": "Hangzhou Lithium Separator Technology Co., Ltd.",
                "appraisal": "4500000.00",
                "appraised_on": "2024-12-01",
            }
        ],
    )
    assert (first["is_ip_pledge"], first["ip_share_ppm"], second["ip_share_ppm"]) == (
        True,
        750_000,
        1_000_000,
    )

    # 30 % of the first loan's income right by subscription; the book is oversubscribed 1.5 times.
    book = await post_ok(
        http,
        "/api/v1/listings",
        {
            "loan_id": first["id"],
            "kind": "income_right",
            "mode": "subscription",
            "share_ppm": 300_000,
            "asking_price": "1200000.00",
            "min_unit_ppm": 10_000,
            "closes_at": (clock() + timedelta(hours=1)).isoformat(),
        },
        bank,
    )
    for (_, headers), wanted in zip(buyers, (200_000, 150_000, 100_000), strict=True):
        await post_ok(http, f"/api/v1/listings/{book['id']}/offers", {"share_ppm": wanted}, headers)
    allocation = await post_ok(http, f"/api/v1/listings/{book['id']}/close", {}, bank, status=200)
    allocated = [(t["buyer_id"], t["share_ppm"], t["price"]) for t in allocation["trades"]]
    assert allocated == [
        (buyers[0][0], 130_000, "520000.00"),
        (buyers[1][0], 100_000, "400000.00"),
        (buyers[2][0], 70_000, "280000.00"),
    ]

    # The second loan, whole, by auction.
    listing = await post_ok(
        http,
        "/api/v1/listings",
        {
            "loan_id": second["id"],
            "kind": "whole_loan",
            "mode": "auction",
            "asking_price": "3000000.00",
            "auction": {
                "kind": "english",
                "start_price": "3000000.00",
                "increment": "10000.00",
                "deposit": "300000.00",
                "starts_at": (clock() + timedelta(seconds=10)).isoformat(),
                "ends_at": (clock() + timedelta(hours=1)).isoformat(),
            },
        },
        bank,
    )
    auction_id = listing["auction_id"]
    for _, headers in buyers[:2]:
        await house.register(auction_id, headers)
    clock.advance(10)
    await house.bid(auction_id, buyers[0][1], "3000000.00", max_amount="3100000.00")
    await house.bid(auction_id, buyers[1][1], "3050000.00")
    clock.advance(3600)
    await house.tick()
    assert (await house.view(auction_id, bank))["state"] == "sold"
    trades = (await http.get(f"/api/v1/trades?listing_id={listing['id']}", headers=clearing)).json()["items"]
    assert [(t["buyer_id"], t["price"], t["kind"]) for t in trades] == [
        (buyers[0][0], "3060000.00", "whole_loan")
    ]

    # Clearing settles everything, fee-free inside the waiver window.
    everything = (await http.get("/api/v1/trades?status=pending", headers=clearing)).json()["items"]
    assert len(everything) == 4
    for trade in everything:
        settled = await post_ok(http, f"/api/v1/trades/{trade['id']}/settle", {}, clearing, status=200)
        assert settled["status"] == "settled"
        assert {(f["rule"], f["charged"]) for f in settled["fees"]} == {("ip_pledge_waiver_2025", "0.00")}
        assert all(f["gross"] == f["waived"] != "0.00" for f in settled["fees"])
    assert await market.balances(bank) == {"available": "4260000.00", "held": "0.00"}
    assert [(await market.balances(headers))["available"] for _, headers in buyers] == [
        "1420000.00",  # 5,000,000.00 - 520,000.00 (income right) - 3,060,000.00 (the whole loan)
        "4600000.00",
        "4720000.00",
    ]
    loan_one = (await http.get(f"/api/v1/loans/{first['id']}", headers=bank)).json()
    assert sorted((r["holder_id"], r["share_ppm"]) for r in loan_one["income_rights"]) == sorted(
        [(bank_id, 700_000), (buyers[0][0], 130_000), (buyers[1][0], 100_000), (buyers[2][0], 70_000)]
    )
    loan_two = (await http.get(f"/api/v1/loans/{second['id']}", headers=buyers[0][1])).json()
    assert loan_two["creditor_id"] == buyers[0][0]
    assert loan_two["income_rights"] == [{"holder_id": buyers[0][0], "share_ppm": 1_000_000}]

    # The next repayment lands at every holder to the fen.
    # The servicer pays it out of the cash clearing booked as received from the borrower.
    before = {pid: (await market.balances(h))["available"] for pid, h in [(bank_id, bank), *buyers]}
    body = {"principal": "100000.00", "interest": "12345.67", "received_on": clock().date().isoformat()}
    await market.fund(bank_id, "112345.67")
    repayment = await post_ok(http, f"/api/v1/loans/{first['id']}/repayments", body, bank)
    lines = {line["holder_id"]: line for line in repayment["distribution"]}
    assert {pid: (lines[pid]["principal"], lines[pid]["interest"]) for pid in lines} == {
        bank_id: ("70000.00", "8641.97"),
        buyers[0][0]: ("13000.00", "1604.94"),
        buyers[1][0]: ("10000.00", "1234.57"),
        buyers[2][0]: ("7000.00", "864.19"),
    }
    assert repayment["outstanding_principal"] == "3900000.00"
    for pid, headers in [(bank_id, bank), *buyers]:
        after_fen = _fen((await market.balances(headers))["available"])
        assert after_fen - _fen(before[pid]) == _fen(lines[pid]["total"])

    # The day reconciles.
    report = (
        await http.get(f"/api/v1/clearing/reconciliation?date={_today(clock)}", headers=clearing)
    ).json()
    assert report["clean"] is True, report
    assert report["summary"] == "clean: no breaks"
    assert report["trades_settled"] == 4

    # Outside the waiver window the same kind of trade pays fees.
    house.context.settings = dataclasses.replace(house.context.settings, fee_waiver_start=date(2019, 1, 1))
    resale = await post_ok(
        http,
        "/api/v1/listings",
        {
            "loan_id": first["id"],
            "kind": "income_right",
            "mode": "negotiated",
            "share_ppm": 130_000,
            "asking_price": "1000000.00",
        },
        buyers[0][1],
    )
    offer = await post_ok(
        http, f"/api/v1/listings/{resale['id']}/offers", {"price": "1000000.00"}, buyers[2][1]
    )
    trade = await post_ok(http, f"/api/v1/offers/{offer['id']}/accept", {}, buyers[0][1])
    fees = {
        (f["item"], f["payer"]): (f["gross"], f["waived"], f["charged"], f["rule"]) for f in trade["fees"]
    }
    assert fees == {
        ("registration", "seller"): ("200.00", "0.00", "200.00", "schedule"),
        ("listing", "seller"): ("1000.00", "0.00", "1000.00", "schedule"),
        ("transaction", "seller"): ("500.00", "0.00", "500.00", "schedule"),
        ("transaction", "buyer"): ("500.00", "0.00", "500.00", "schedule"),
    }
    await post_ok(http, f"/api/v1/trades/{trade['id']}/settle", {}, clearing, status=200)
    waivers = (
        await http.get(f"/api/v1/clearing/fee-waivers?from={started_on}&to={_today(clock)}", headers=clearing)
    ).json()
    assert waivers["trades"] == 5
    assert waivers["totals"]["charged"] == "2200.00"
    csv_answer = await http.get(
        f"/api/v1/clearing/fee-waivers?from={started_on}&to={_today(clock)}&format=csv", headers=clearing
    )
    assert csv_answer.headers["content-type"] == "text/csv; charset=utf-8"
    csv_text = csv_answer.text
    assert csv_text.splitlines()[0].startswith("line_id,trade_id,trade_date")
    assert len(csv_text.splitlines()) == 1 + 5 * 4
    await asyncio.sleep(0)


def _fen(amount: str) -> int:
    whole, _, cents = amount.partition(".")
    return int(whole) * 100 + int(cents or 0)


def _today(clock: object) -> str:
    from transfer.rules.fee_waiver import shanghai_trade_date

    return shanghai_trade_date(clock()).isoformat()  # type: ignore[operator]

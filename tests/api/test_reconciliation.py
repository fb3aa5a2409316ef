"""Reconciliation, break by break: each change to a settled day is named, on the trade it touches.

A day of three settled trades (one IP-pledge trade with its fees waived, two charging the default
schedule) reconciles clean; then one record is changed behind the application's back and the report
must name exactly the breaks that change causes. The control totals let a clean day through in a few
scans; these tests show that what they let through is clean, including changes that cancel in the
plain sums (only the weighted sum sees them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, text, update

from tests.api.auction_support import AuctionHouse
from tests.api.market_support import negotiated_trade, post_ok, register_loan
from transfer.models import LedgerTransfer
from transfer.models.market import FeeLine, Trade

# 10:00 in Shanghai on 2026-06-01, inside the waiver window that starts on 2025-03-01.
TRADED_AT = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
URL = "/api/v1/clearing/reconciliation?date=2026-06-01"


def _non_ip_collateral(trade_number: int) -> list[dict[str, str]]:
    return [
        {
            "kind": "equipment",
            "registry_number": f"EQ-2024-{trade_number}",
            "title": "Coating line",
            "right_holder": "Hangzhou Lithium Separator Technology Co., Ltd.",
            "appraisal": "900000.00",
            "appraised_on": "2024-12-01",
        }
    ]


# The default schedule on a 500,000.00 trade: registration 200.00 + listing 1,000.00 (minimum) +
# transaction 500.00 (minimum) for the seller, transaction 500.00 for the buyer.
SELLER_FEES_FEN = 170_000
BUYER_FEES_FEN = 50_000


@dataclass(frozen=True)
class Day:
    waived: int
    charging: int
    other_charging: int


async def _settled_trade(house: AuctionHouse, number: int, *, ip_pledge: bool) -> int:
    _, bank = await house.market.participant(["bank"])
    _, buyer = await house.market.participant(["bank"], funds="600000.00")
    collateral = {} if ip_pledge else {"collateral": _non_ip_collateral(number)}
    loan = await register_loan(house.http, bank, **collateral)
    trade = await negotiated_trade(house.http, loan["id"], bank, buyer)
    clearing = await house.market.clearing()
    await post_ok(house.http, f"/api/v1/trades/{trade['id']}/settle", {}, clearing, status=200)
    return int(trade["id"])


async def _day(house: AuctionHouse) -> Day:
    house.clock.set(TRADED_AT)
    day = Day(
        waived=await _settled_trade(house, 1, ip_pledge=True),
        charging=await _settled_trade(house, 2, ip_pledge=False),
        other_charging=await _settled_trade(house, 3, ip_pledge=False),
    )
    report = await _reconcile(house)
    assert report["clean"] is True, report
    return day


async def _reconcile(house: AuctionHouse) -> dict[str, Any]:
    response = await house.http.get(URL, headers=await house.market.clearing())
    assert response.status_code == 200, response.text
    return dict(response.json())


async def _change(house: AuctionHouse, *statements: Any) -> None:
    async with house.context.database.write_engine.begin() as connection:
        for statement in statements:
            await connection.execute(statement)


async def _breaks(house: AuctionHouse) -> set[tuple[str, str]]:
    return {(b["kind"], b["subject"]) for b in (await _reconcile(house))["breaks"]}


async def _first_line(house: AuctionHouse, trade_id: int, payer: str = "seller") -> int:
    async with house.context.database.read() as session:
        line = await session.execute(
            select(FeeLine.id)
            .where(FeeLine.trade_id == trade_id, FeeLine.payer == payer)
            .order_by(FeeLine.id)
        )
        return int(line.scalars().first() or 0)


async def test_a_clean_day_and_the_fee_totals_each_trade_stores(house: AuctionHouse) -> None:
    day = await _day(house)

    report = await _reconcile(house)
    async with house.context.database.read() as session:
        totals = {
            row[0]: tuple(row[1:])
            for row in await session.execute(
                select(
                    Trade.id,
                    Trade.fee_line_count,
                    Trade.seller_fees_charged_fen,
                    Trade.buyer_fees_charged_fen,
                    Trade.fees_waived_fen,
                )
            )
        }

    assert (report["clean"], report["trades_settled"], report["trades_created"]) == (True, 3, 3)
    assert totals == {
        day.waived: (4, 0, 0, SELLER_FEES_FEN + BUYER_FEES_FEN),
        day.charging: (4, SELLER_FEES_FEN, BUYER_FEES_FEN, 0),
        day.other_charging: (4, SELLER_FEES_FEN, BUYER_FEES_FEN, 0),
    }


async def test_a_fee_line_charged_under_the_waiver(house: AuctionHouse) -> None:
    day = await _day(house)
    line = await _first_line(house, day.waived)

    await _change(
        house,
        update(FeeLine)
        .where(FeeLine.id == line)
        .values(charged_fen=100, waived_fen=FeeLine.gross_fen - 100, rule="schedule"),
    )

    subject = f"trade:{day.waived}"
    assert await _breaks(house) == {
        ("fee_lines_do_not_match_trade", subject),
        ("fee_waiver_exception", subject),
    }


async def test_a_fee_line_waived_although_chargeable(house: AuctionHouse) -> None:
    day = await _day(house)
    line = await _first_line(house, day.charging, payer="buyer")

    await _change(
        house, update(FeeLine).where(FeeLine.id == line).values(waived_fen=FeeLine.gross_fen, charged_fen=0)
    )

    report = await _reconcile(house)
    subject = f"trade:{day.charging}"
    assert {(b["kind"], b["subject"], b["detail"]) for b in report["breaks"]} == {
        (
            "fee_lines_do_not_match_trade",
            subject,
            "fee lines: 4 lines, seller charged 170000 fen, buyer charged 0 fen, waived 50000 fen;"
            " trade: 4 lines, seller charged 170000 fen, buyer charged 50000 fen, waived 0 fen",
        ),
        ("fee_waiver_exception", subject, "waived although chargeable"),
    }


async def test_fee_line_changes_that_cancel_in_the_day_totals(house: AuctionHouse) -> None:
    day = await _day(house)
    lines = [await _first_line(house, day.charging), await _first_line(house, day.other_charging)]

    # 1.00 moves from one trade's registration fee to the other's: every plain sum is unchanged.
    await _change(
        house,
        *(
            update(FeeLine)
            .where(FeeLine.id == line)
            .values(gross_fen=FeeLine.gross_fen + delta_fen, charged_fen=FeeLine.charged_fen + delta_fen)
            for line, delta_fen in zip(lines, (-100, 100), strict=True)
        ),
    )

    assert await _breaks(house) == {
        ("fee_lines_do_not_match_trade", f"trade:{day.charging}"),
        ("fee_lines_do_not_match_trade", f"trade:{day.other_charging}"),
    }


async def test_a_trade_whose_fee_lines_are_gone(house: AuctionHouse) -> None:
    day = await _day(house)

    await _change(house, delete(FeeLine).where(FeeLine.trade_id == day.charging))

    assert await _breaks(house) == {("trade_without_fee_records", f"trade:{day.charging}")}


async def test_stored_fee_totals_that_breach_the_waiver(house: AuctionHouse) -> None:
    day = await _day(house)

    await _change(house, update(Trade).where(Trade.id == day.waived).values(buyer_fees_charged_fen=100))

    report = await _reconcile(house)
    subject = f"trade:{day.waived}"
    assert {(b["kind"], b["subject"]) for b in report["breaks"]} == {
        ("fee_waiver_exception", subject),
        ("fee_lines_do_not_match_trade", subject),
        ("fee_leg_mismatch", subject),
    }
    assert {
        "kind": "fee_leg_mismatch",
        "subject": subject,
        "detail": "buyer fees charged 100 fen, ledger leg 0 fen",
    } in report["breaks"]


async def test_fee_legs_swapped_between_the_sides(house: AuctionHouse) -> None:
    day = await _day(house)
    seller_leg, buyer_leg = (f"trade:{day.charging}:fees:{side}" for side in ("seller", "buyer"))

    # The day's leg total is unchanged; each side's leg is wrong.
    await _change(
        house,
        update(LedgerTransfer).where(LedgerTransfer.id == seller_leg).values(amount_fen=BUYER_FEES_FEN),
        update(LedgerTransfer).where(LedgerTransfer.id == buyer_leg).values(amount_fen=SELLER_FEES_FEN),
    )

    report = await _reconcile(house)
    subject = f"trade:{day.charging}"
    leg_breaks = {b["detail"] for b in report["breaks"] if b["kind"] == "fee_leg_mismatch"}
    assert leg_breaks == {
        f"seller fees charged {SELLER_FEES_FEN} fen, ledger leg {BUYER_FEES_FEN} fen",
        f"buyer fees charged {BUYER_FEES_FEN} fen, ledger leg {SELLER_FEES_FEN} fen",
    }
    assert {b["subject"] for b in report["breaks"] if b["kind"] == "fee_leg_mismatch"} == {subject}
    # The balances were not touched, so the seller's and the buyer's no longer match their transfers.
    assert {b["kind"] for b in report["breaks"]} == {"fee_leg_mismatch", "balance_does_not_match_transfers"}


async def test_a_price_leg_of_the_wrong_amount(house: AuctionHouse) -> None:
    day = await _day(house)

    await _change(
        house,
        update(LedgerTransfer)
        .where(LedgerTransfer.id == f"trade:{day.waived}:price")
        .values(amount_fen=LedgerTransfer.amount_fen - 1),
    )

    report = await _reconcile(house)
    assert {
        "kind": "price_leg_mismatch",
        "subject": f"trade:{day.waived}",
        "detail": "price 50000000 fen, ledger 49999999 fen in 1 legs",
    } in report["breaks"]
    assert {b["kind"] for b in report["breaks"]} == {"price_leg_mismatch", "balance_does_not_match_transfers"}


async def test_legs_of_a_trade_not_settled_that_day(house: AuctionHouse) -> None:
    day = await _day(house)

    await _change(
        house,
        update(Trade).where(Trade.id == day.other_charging).values(settled_at=TRADED_AT + timedelta(days=1)),
    )

    report = await _reconcile(house)
    assert report["trades_settled"] == 2
    assert {(b["kind"], b["subject"]) for b in report["breaks"]} == {
        ("ledger_legs_without_settled_trade", f"trade:{day.other_charging}")
    }


async def test_a_settled_trade_whose_legs_are_gone(house: AuctionHouse) -> None:
    day = await _day(house)

    await _change(house, delete(LedgerTransfer).where(LedgerTransfer.reference == f"trade:{day.charging}"))

    report = await _reconcile(house)
    subject = f"trade:{day.charging}"
    assert {(b["kind"], b["subject"]) for b in report["breaks"] if b["subject"].startswith("trade:")} == {
        ("settled_trade_without_ledger_legs", subject),
        ("fee_leg_mismatch", subject),
    }


async def test_a_day_without_trades_is_clean(house: AuctionHouse) -> None:
    await _day(house)

    response = await house.http.get(
        "/api/v1/clearing/reconciliation?date=2026-06-02", headers=await house.market.clearing()
    )

    report = response.json()
    assert (report["clean"], report["trades_created"], report["trades_settled"]) == (True, 0, 0)


async def test_a_trade_settled_the_day_after_it_was_made(house: AuctionHouse) -> None:
    house.clock.set(TRADED_AT)
    _, bank = await house.market.participant(["bank"])
    buyer_id, buyer = await house.market.participant(["bank"])
    loan = await register_loan(house.http, bank, collateral=_non_ip_collateral(1))
    trade = await negotiated_trade(house.http, loan["id"], bank, buyer)
    house.clock.set(TRADED_AT + timedelta(days=1))
    await house.market.fund(buyer_id, "600000.00")
    clearing = await house.market.clearing()
    await post_ok(house.http, f"/api/v1/trades/{trade['id']}/settle", {}, clearing, status=200)

    response = await house.http.get("/api/v1/clearing/reconciliation?date=2026-06-02", headers=clearing)

    report = response.json()
    assert (report["clean"], report["trades_created"], report["trades_settled"]) == (True, 0, 1)
    # The settlement posted the fees stored with the trade.
    await _change(
        house,
        update(LedgerTransfer)
        .where(LedgerTransfer.id == f"trade:{trade['id']}:fees:buyer")
        .values(amount_fen=BUYER_FEES_FEN + 1),
    )
    assert ("fee_leg_mismatch", f"trade:{trade['id']}") in await _breaks_on(house, "2026-06-02")


async def _breaks_on(house: AuctionHouse, day: str) -> set[tuple[str, str]]:
    response = await house.http.get(
        f"/api/v1/clearing/reconciliation?date={day}", headers=await house.market.clearing()
    )
    return {(b["kind"], b["subject"]) for b in response.json()["breaks"]}


async def test_a_day_whose_trade_ids_are_past_32_bits_reconciles_clean(house: AuctionHouse) -> None:
    # Reconciliation reads a leg's trade id out of its reference ("trade:<id>"): past 2^31 - 1 the
    # cast must not overflow.
    if not house.context.database.is_sqlite:
        await _change(house, text("SELECT setval(pg_get_serial_sequence('trades', 'id'), 2147483653, false)"))
    house.clock.set(TRADED_AT)
    trade_ids = [
        await _settled_trade(house, 4, ip_pledge=False),
        await _settled_trade(house, 5, ip_pledge=True),
    ]
    if not house.context.database.is_sqlite:
        assert trade_ids == [2**31 + 5, 2**31 + 6]
    report = await _reconcile(house)
    assert (report["clean"], report["trades_settled"]) == (True, 2), report
    # The legs are matched to their trade by the id read from the reference.
    await _change(
        house, update(Trade).where(Trade.id == trade_ids[0]).values(settled_at=TRADED_AT + timedelta(days=1))
    )
    assert await _breaks(house) == {("ledger_legs_without_settled_trade", f"trade:{trade_ids[0]}")}

"""The demo's small pure parts: its credit codes, filing dates, step order and a simulated bidder's
choice of amount; and the catalogue's provinces."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from app.demo.bidders import Pace, ceiling_fen, next_bid
from app.demo.participants import DEMO_PARTICIPANTS, SIMULATED_BIDDER_KEYS
from app.demo.timeline import ANNIVERSARY_AHEAD_DAYS, Step, credit_code, filed_on, in_order
from app.pages.regions import province_of, provinces_of, region_name
from auction.models import Auction
from transfer.rules.uscc import validate_uscc


def test_demo_credit_codes_are_valid_and_carry_their_division() -> None:
    for division, serial in (("330100", 1), ("440300", 9_999_999), ("110000", 42)):
        code = credit_code(division, serial)
        assert validate_uscc(code) is None, code
        assert code[2:8] == division


def test_a_demo_patents_anniversary_falls_ahead_of_today() -> None:
    today = date(2026, 12, 2)
    assert filed_on(today, 5) == date(2022, 4, 1)
    assert (date(2027, 4, 1) - today).days == ANNIVERSARY_AHEAD_DAYS
    # An anniversary on 29 February is moved to the 28th, so the date exists five years back.
    assert filed_on(date(2027, 11, 1), 5) == date(2023, 2, 28)


def test_steps_run_past_first_by_instant_then_the_present_in_given_order() -> None:
    now = datetime(2026, 12, 2, tzinfo=UTC)

    async def nothing(_unit: object) -> None:
        return None

    steps = [
        Step(None, "present 1", nothing),
        Step(now - timedelta(days=1), "yesterday", nothing),
        Step(None, "present 2", nothing),
        Step(now - timedelta(days=9), "last week", nothing),
    ]
    assert [s.label for s in in_order(steps, now)] == ["last week", "yesterday", "present 1", "present 2"]


def test_the_demo_keeps_its_keys_and_the_fuzzers_four_fields() -> None:
    keys = [key for _, _, key, _ in DEMO_PARTICIPANTS]
    assert len(set(keys)) == len(keys)
    assert "ipx_demo_bank_key_000000000000" in keys and "ipx_demo_clearing_key_00000000" in keys
    assert set(SIMULATED_BIDDER_KEYS) <= set(keys)


def _lot(**values: object) -> Auction:
    defaults: dict[str, object] = {
        "id": 7,
        "start_price_fen": 1_000_000_00,
        "increment_fen": 10_000_00,
        "reserve_price_fen": None,
        "price_fen": None,
        "leader_id": None,
        "leader_max_fen": None,
        "runner_up_max_fen": None,
        "floor_fen": None,
        "reserve_met": False,
        "bid_count": 0,
        "last_sequence": 0,
    }
    return Auction(**{**defaults, **values})


def test_a_simulated_bid_is_on_the_grid_within_the_bidders_ceiling() -> None:
    rng = random.Random(3)
    pace = Pace(proxy_per_mille=500, step_up_per_mille=500)
    for price_fen in (None, 1_050_000_00, 1_300_000_00, 1_345_000_00):
        lot = _lot(price_fen=price_fen, leader_id=None if price_fen is None else 99)
        least_fen = lot.start_price_fen if price_fen is None else price_fen + lot.increment_fen
        for _ in range(50):
            chosen = next_bid(lot, 5, rng, pace)
            if chosen is None:
                assert least_fen > ceiling_fen(5, lot)
                continue
            amount_fen, max_fen = chosen
            assert least_fen <= amount_fen <= ceiling_fen(5, lot)
            assert (amount_fen - lot.start_price_fen) % lot.increment_fen == 0
            if max_fen is not None:
                assert amount_fen < max_fen <= ceiling_fen(5, lot)
                assert (max_fen - lot.start_price_fen) % lot.increment_fen == 0


def test_a_simulated_bidder_never_outbids_itself_and_stops_at_its_ceiling() -> None:
    rng = random.Random(1)
    assert next_bid(_lot(price_fen=1_000_000_00, leader_id=5), 5, rng, Pace()) is None
    ceiling = ceiling_fen(5, _lot())
    assert 1_050_000_00 <= ceiling <= 1_400_000_00
    assert next_bid(_lot(price_fen=ceiling, leader_id=8), 5, rng, Pace()) is None


def test_provinces_come_from_the_division_code() -> None:
    assert province_of("330100") == "33" and province_of("990000") is None
    assert provinces_of(["440300", None, "330200", "330100", "000000"]) == ["33", "44"]
    assert (region_name("33", "zh"), region_name("33", "en")) == ("浙江", "Zhejiang")

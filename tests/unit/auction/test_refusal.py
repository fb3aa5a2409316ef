from __future__ import annotations

from auction.rules import Refusal, RefusalReason, UnsoldReason


def test_refusal_codes_are_the_stable_strings_clients_depend_on() -> None:
    assert {reason.value for reason in RefusalReason} == {
        "not_started",
        "closed",
        "below_minimum",
        "off_grid",
        "max_below_amount",
        "max_off_grid",
        "max_not_raised",
        "already_sold",
    }


def test_every_refusal_reason_has_a_human_message() -> None:
    for reason in RefusalReason:
        assert reason.message
        assert Refusal(reason).message == reason.message


def test_unsold_reason_codes_are_stable_strings() -> None:
    assert {reason.value for reason in UnsoldReason} == {"no_bids", "reserve_not_met"}

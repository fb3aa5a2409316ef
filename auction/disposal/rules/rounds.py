"""The limits of a disposal case's auction rounds (DESIGN §3 "Online auction rules").

From 最高人民法院关于人民法院网络司法拍卖若干问题的规定 (2016), used as the defaults of a disposal:
round 1 starts at no less than 70 % of the appraisal (第10条) and is announced at least 30 days ahead,
IP being a property right (第12条); a failed round is re-run within 30 days, announced at least 15 days
ahead, at a start price cut by at most 20 % of the previous round's (第26条); after the second failure
there is no third auction (第26条: the creditor may take the collateral in payment, then a fixed-price
sale). Every number is a field of `RoundLimits`, one setting each.

A check that fails raises DomainError (422) naming the field, the limit and its setting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from transfer.kernel.errors import DomainError
from transfer.kernel.money import format_fen

BPS_WHOLE = 10_000
_DAY_S = 86_400


@dataclass(frozen=True, slots=True)
class RoundLimits:
    start_min_bps: int = 7_000  # IPX_DISPOSAL_START_MIN_BPS: round 1's floor, of the appraisal
    round_cut_max_bps: int = 2_000  # IPX_DISPOSAL_ROUND_CUT_MAX_BPS: a re-run's deepest cut
    notice_s: int = 2_592_000  # IPX_DISPOSAL_NOTICE_S: round 1's announcement (30 days)
    rerun_within_s: int = 2_592_000  # IPX_DISPOSAL_RERUN_WITHIN_S: re-run created within (30 days)
    rerun_notice_s: int = 1_296_000  # IPX_DISPOSAL_RERUN_NOTICE_S: a re-run's announcement (15 days)
    max_rounds: int = 2  # IPX_DISPOSAL_MAX_ROUNDS

    def __post_init__(self) -> None:
        if not 0 < self.start_min_bps <= BPS_WHOLE:
            raise ValueError(f"start_min_bps must be between 1 and {BPS_WHOLE}, got {self.start_min_bps}")
        if not 0 <= self.round_cut_max_bps < BPS_WHOLE:
            raise ValueError(
                f"round_cut_max_bps must be between 0 and {BPS_WHOLE - 1}, got {self.round_cut_max_bps}"
            )
        for name in ("notice_s", "rerun_within_s", "rerun_notice_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative, got {getattr(self, name)}")
        if self.max_rounds < 1:
            raise ValueError(f"max_rounds must be at least 1, got {self.max_rounds}")


@dataclass(frozen=True, slots=True)
class NextRound:
    round_no: int
    start_price_fen: int
    starts_at: datetime
    minimum_fen: int  # the least start price the round could have had


def round_minimum_fen(
    round_no: int, appraisal_sum_fen: int, previous_start_fen: int | None, limits: RoundLimits
) -> int:
    """The least start price of round `round_no`, in fen, rounded up to the fen.

    Round 1: `start_min_bps` of the summed appraisal (`previous_start_fen` is ignored). A later round:
    the previous round's start less at most `round_cut_max_bps` of it (`appraisal_sum_fen` is
    ignored). Raises DomainError `no_more_rounds` past `max_rounds`; ValueError for a round number
    below 1, a negative appraisal, or a later round without a positive previous start.
    """
    _check_round_no(round_no, limits)
    if round_no == 1:
        if appraisal_sum_fen < 0:
            raise ValueError(f"appraisal_sum_fen must not be negative, got {appraisal_sum_fen}")
        return _ceil_bps(appraisal_sum_fen, limits.start_min_bps)
    if previous_start_fen is None or previous_start_fen <= 0:
        raise ValueError(f"round {round_no} needs the previous round's positive start price")
    minimum_fen = _ceil_bps(previous_start_fen, BPS_WHOLE - limits.round_cut_max_bps)
    assert 0 < minimum_fen <= previous_start_fen
    return minimum_fen


def default_start_fen(minimum_fen: int, increment_fen: int) -> int:
    """The least whole multiple of the increment at or above the minimum (and never zero).

    A start price must be positive, so a minimum of zero gives one increment.
    """
    if increment_fen <= 0:
        raise DomainError("increment_not_positive", "increment must be greater than zero", field="increment")
    if minimum_fen < 0:
        raise ValueError(f"minimum_fen must not be negative, got {minimum_fen}")
    start_fen = max(1, -(-minimum_fen // increment_fen)) * increment_fen
    assert start_fen >= minimum_fen and start_fen % increment_fen == 0
    assert start_fen - minimum_fen < increment_fen or minimum_fen == 0
    return start_fen


def check_round(
    round_no: int,
    start_price_fen: int,
    starts_at: datetime,
    created_at: datetime,
    failed_at: datetime | None,
    minimum_fen: int,
    limits: RoundLimits,
) -> None:
    """Refuse a round that breaks a limit; `minimum_fen` is from `round_minimum_fen` (or a bundle's sum).

    `failed_at` is when the previous round failed (None for round 1, required after it). Checked in
    this order: the round number, a re-run created too late, the start price, the notice.
    ValueError (a caller's bug, not a client's input) for a round number below 1, a missing
    `failed_at`, or a round created before the previous one failed.
    """
    _check_round_no(round_no, limits)
    if round_no > 1:
        if failed_at is None:
            raise ValueError(f"round {round_no} needs the instant the previous round failed")
        if created_at < failed_at:
            raise ValueError("a round cannot be created before the previous round failed")
        latest_at = failed_at + timedelta(seconds=limits.rerun_within_s)
        if created_at > latest_at:
            raise DomainError(
                "rerun_too_late",
                f"round {round_no} must be created within {_duration(limits.rerun_within_s)} of the"
                f" previous round's failure at {failed_at.isoformat()}, i.e. by {latest_at.isoformat()}"
                " (IPX_DISPOSAL_RERUN_WITHIN_S)",
                field="round",
                extra={
                    "latest": latest_at.isoformat(),
                    "limit_s": limits.rerun_within_s,
                    "setting": "IPX_DISPOSAL_RERUN_WITHIN_S",
                },
            )
    if start_price_fen <= 0:
        raise DomainError(
            "start_price_not_positive", "start_price must be greater than zero", field="start_price"
        )
    if start_price_fen < minimum_fen:
        raise _below_minimum(round_no, minimum_fen, limits)
    notice_s, setting = (
        (limits.notice_s, "IPX_DISPOSAL_NOTICE_S")
        if round_no == 1
        else (limits.rerun_notice_s, "IPX_DISPOSAL_RERUN_NOTICE_S")
    )
    earliest_at = created_at + timedelta(seconds=notice_s)
    if starts_at < earliest_at:
        raise DomainError(
            "notice_too_short",
            f"starts_at must be at least {_duration(notice_s)} after round {round_no} is created,"
            f" i.e. not before {earliest_at.isoformat()} ({setting})",
            field="starts_at",
            extra={"earliest": earliest_at.isoformat(), "limit_s": notice_s, "setting": setting},
        )


def auto_next_round(
    previous_round_no: int,
    previous_start_fen: int,
    increment_fen: int,
    failed_at: datetime,
    now: datetime,
    limits: RoundLimits,
) -> NextRound | None:
    """The round the scheduler creates after a failure at `failed_at`: deepest cut, shortest notice.

    None when the failed round was the last one (the case goes on to take-in-payment). The start is
    the minimum rounded up to a whole increment, but never above the previous start (a coarse
    increment must not turn a cut into a rise). Raises DomainError `rerun_too_late` when `now` is past
    the re-run window: the scheduler missed it, and the case needs its creditor.
    """
    if previous_round_no < 1:
        raise ValueError(f"previous_round_no must be at least 1, got {previous_round_no}")
    round_no = previous_round_no + 1
    if round_no > limits.max_rounds:
        return None
    minimum_fen = round_minimum_fen(round_no, 0, previous_start_fen, limits)
    start_price_fen = min(default_start_fen(minimum_fen, increment_fen), previous_start_fen)
    starts_at = now + timedelta(seconds=limits.rerun_notice_s)
    check_round(round_no, start_price_fen, starts_at, now, failed_at, minimum_fen, limits)
    return NextRound(round_no, start_price_fen, starts_at, minimum_fen)


def _check_round_no(round_no: int, limits: RoundLimits) -> None:
    if round_no < 1:
        raise ValueError(f"round_no must be at least 1, got {round_no}")
    if round_no > limits.max_rounds:
        raise DomainError(
            "no_more_rounds",
            f"a disposal case has at most {limits.max_rounds} auction rounds (IPX_DISPOSAL_MAX_ROUNDS);"
            " after the last one fails the creditor may take the collateral in payment, else it goes"
            " to a fixed-price sale",
            field="round",
            extra={"max_rounds": limits.max_rounds, "setting": "IPX_DISPOSAL_MAX_ROUNDS"},
        )


def _below_minimum(round_no: int, minimum_fen: int, limits: RoundLimits) -> DomainError:
    if round_no == 1:
        bps, setting = limits.start_min_bps, "IPX_DISPOSAL_START_MIN_BPS"
        reason = f"round 1 starts at no less than {bps} bps ({bps / 100:g} %) of the appraisal"
    else:
        bps, setting = limits.round_cut_max_bps, "IPX_DISPOSAL_ROUND_CUT_MAX_BPS"
        reason = f"round {round_no} cuts the previous round's start by at most {bps} bps ({bps / 100:g} %)"
    return DomainError(
        "start_price_below_minimum",
        f"start_price must be at least {format_fen(minimum_fen)}: {reason} ({setting})",
        field="start_price",
        extra={"minimum": format_fen(minimum_fen), "limit_bps": bps, "setting": setting},
    )


def _ceil_bps(amount_fen: int, bps: int) -> int:
    return -(-amount_fen * bps // BPS_WHOLE)


def _duration(seconds: int) -> str:
    """`2592000 s (30 days)`: the setting's unit first, the reader's next."""
    days, rest_s = divmod(seconds, _DAY_S)
    if rest_s or days == 0:
        return f"{seconds} s"
    return f"{seconds} s ({days} day{'' if days == 1 else 's'})"

"""Pure rules of the transfer center: no I/O, no database, no clock (dates and instants are
arguments). Money is integer fen, shares are integer parts per million."""

from transfer.rules.business_days import MAX_BUSINESS_DAYS, add_business_days, is_business_day
from transfer.rules.collateral import (
    ALL_KINDS,
    IP_KINDS,
    NON_IP_KINDS,
    CollateralKind,
    ip_share_ppm,
    is_ip_kind,
    is_ip_pledge,
    is_known_kind,
)
from transfer.rules.distribution import DistributionLine, HolderShare, distribute_repayment
from transfer.rules.fee_schedule import (
    DEFAULT_FEE_SCHEDULE,
    DEFAULT_SCHEDULE_EFFECTIVE_FROM,
    PAYERS,
    FeeItem,
    Payer,
    bps_of_fen_half_up,
    gross_fee_fen,
    items_in_force,
)
from transfer.rules.fee_waiver import (
    SCHEDULE_RULE,
    SHANGHAI,
    WAIVER_RULE,
    FeeLine,
    add_calendar_years,
    compute_fee_lines,
    is_fee_waived,
    shanghai_trade_date,
    waiver_window,
)
from transfer.rules.largest_remainder import allocate, allocate_capped
from transfer.rules.shares import WHOLE_SHARE_PPM
from transfer.rules.subscription import (
    Subscription,
    SubscriptionAllocation,
    SubscriptionOutcome,
    allocate_subscriptions,
    subscription_request_error,
)
from transfer.rules.uscc import (
    USCC_ALPHABET,
    USCC_LENGTH,
    USCC_WEIGHTS,
    is_valid_uscc,
    normalize_uscc,
    uscc_check_character,
    validate_uscc,
)

__all__ = [
    "ALL_KINDS",
    "DEFAULT_FEE_SCHEDULE",
    "DEFAULT_SCHEDULE_EFFECTIVE_FROM",
    "IP_KINDS",
    "MAX_BUSINESS_DAYS",
    "NON_IP_KINDS",
    "PAYERS",
    "SCHEDULE_RULE",
    "SHANGHAI",
    "USCC_ALPHABET",
    "USCC_LENGTH",
    "USCC_WEIGHTS",
    "WAIVER_RULE",
    "WHOLE_SHARE_PPM",
    "CollateralKind",
    "DistributionLine",
    "FeeItem",
    "FeeLine",
    "HolderShare",
    "Payer",
    "Subscription",
    "SubscriptionAllocation",
    "SubscriptionOutcome",
    "add_business_days",
    "add_calendar_years",
    "allocate",
    "allocate_capped",
    "allocate_subscriptions",
    "bps_of_fen_half_up",
    "compute_fee_lines",
    "distribute_repayment",
    "gross_fee_fen",
    "ip_share_ppm",
    "is_business_day",
    "is_fee_waived",
    "is_ip_kind",
    "is_ip_pledge",
    "is_known_kind",
    "is_valid_uscc",
    "items_in_force",
    "normalize_uscc",
    "shanghai_trade_date",
    "subscription_request_error",
    "uscc_check_character",
    "validate_uscc",
    "waiver_window",
]

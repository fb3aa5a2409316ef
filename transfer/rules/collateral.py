"""Collateral kinds, and whether a loan is an IP-pledge loan.

A loan counts as an IP-pledge loan when any of its collateral is an IP right (DESIGN §3, fee waiver:
"any IP collateral"). Its IP share of appraised value matters where only the IP part is covered,
such as risk compensation on mixed collateral.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from transfer.rules.shares import WHOLE_SHARE_PPM


class CollateralKind(StrEnum):
    # IP rights (知识产权)
    INVENTION_PATENT = "invention_patent"
    UTILITY_PATENT = "utility_patent"
    DESIGN_PATENT = "design_patent"
    TRADEMARK = "trademark"
    COPYRIGHT = "copyright"
    SOFTWARE_COPYRIGHT = "software_copyright"
    PLANT_VARIETY = "plant_variety"
    GEOGRAPHIC_INDICATION = "geographic_indication"
    COLLECTIVE_MARK = "collective_mark"
    CERTIFICATION_MARK = "certification_mark"
    DATA_RIGHT = "data_right"
    IC_LAYOUT = "ic_layout"
    # Other security that often sits beside IP in a mixed pledge
    REAL_ESTATE = "real_estate"
    EQUIPMENT = "equipment"
    RECEIVABLE = "receivable"
    GUARANTEE = "guarantee"


IP_KINDS: frozenset[str] = frozenset(
    {
        CollateralKind.INVENTION_PATENT,
        CollateralKind.UTILITY_PATENT,
        CollateralKind.DESIGN_PATENT,
        CollateralKind.TRADEMARK,
        CollateralKind.COPYRIGHT,
        CollateralKind.SOFTWARE_COPYRIGHT,
        CollateralKind.PLANT_VARIETY,
        CollateralKind.GEOGRAPHIC_INDICATION,
        CollateralKind.COLLECTIVE_MARK,
        CollateralKind.CERTIFICATION_MARK,
        CollateralKind.DATA_RIGHT,
        CollateralKind.IC_LAYOUT,
    }
)
NON_IP_KINDS: frozenset[str] = frozenset(
    {
        CollateralKind.REAL_ESTATE,
        CollateralKind.EQUIPMENT,
        CollateralKind.RECEIVABLE,
        CollateralKind.GUARANTEE,
    }
)
ALL_KINDS: frozenset[str] = IP_KINDS | NON_IP_KINDS
assert not IP_KINDS & NON_IP_KINDS
assert frozenset(CollateralKind) == ALL_KINDS


def is_known_kind(kind: str) -> bool:
    return kind in ALL_KINDS


def is_ip_kind(kind: str) -> bool:
    """Whether `kind` is an IP right. An unknown kind raises ValueError rather than counting as
    non-IP, because silently calling it non-IP would charge fees the waiver forgives."""
    if kind not in ALL_KINDS:
        raise ValueError(f"unknown collateral kind {kind!r}")
    return kind in IP_KINDS


def is_ip_pledge(kinds: Iterable[str]) -> bool:
    """Whether a loan with collateral of these kinds is an IP-pledge loan: any IP collateral counts."""
    # A list, not a generator, so every kind is checked for validity even after the first IP kind.
    return any([is_ip_kind(kind) for kind in kinds])


def ip_share_ppm(items: Iterable[tuple[str, int]]) -> int:
    """The IP share of total appraised value, in ppm rounded half-up; 0 when nothing is appraised.

    `items` are (kind, appraisal_fen) pairs.
    """
    ip_appraisal_fen = 0
    total_appraisal_fen = 0
    for kind, appraisal_fen in items:
        if appraisal_fen < 0:
            raise ValueError(f"appraisal_fen must not be negative, got {appraisal_fen}")
        if is_ip_kind(kind):
            ip_appraisal_fen += appraisal_fen
        total_appraisal_fen += appraisal_fen
    if total_appraisal_fen == 0:
        return 0
    # floor(ip / total * 1e6 + 1/2) over the common denominator 2 * total.
    share_ppm = (ip_appraisal_fen * WHOLE_SHARE_PPM * 2 + total_appraisal_fen) // (2 * total_appraisal_fen)
    assert 0 <= share_ppm <= WHOLE_SHARE_PPM
    return share_ppm

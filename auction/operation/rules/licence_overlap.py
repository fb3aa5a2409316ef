"""Which licences of one right may stand together (DESIGN §3 "Pledge enforcement", 专利法第50条).

Two licences overlap when their territories meet (the same, or either is `all`), their fields of use
meet (likewise) and their dates overlap (both ends inclusive). An exclusive or sole licence stands
with no overlapping licence of any kind; an open licence (开放许可) stands with no exclusive or sole
licence whose dates it meets, whatever their territories and fields, and the reverse. Non-exclusive
licences (those taken from an open licence included) stand together.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

EVERYWHERE = "all"


class LicenceKind(StrEnum):
    EXCLUSIVE = "exclusive"
    SOLE = "sole"
    NON_EXCLUSIVE = "non_exclusive"
    OPEN = "open"


EXCLUDING_KINDS = frozenset({LicenceKind.EXCLUSIVE, LicenceKind.SOLE})


@dataclass(frozen=True, slots=True)
class LicenceTerms:
    licence_id: int  # 0 for the licence being asked for
    kind: LicenceKind
    territory: str
    field_of_use: str
    starts_on: date
    ends_on: date

    def __post_init__(self) -> None:
        if self.starts_on > self.ends_on:
            raise ValueError(f"a licence ends on or after it starts, got {self.starts_on} > {self.ends_on}")


def _meet(one: str, other: str) -> bool:
    return one == other or EVERYWHERE in (one, other)


def dates_overlap(one: LicenceTerms, other: LicenceTerms) -> bool:
    return one.starts_on <= other.ends_on and other.starts_on <= one.ends_on


def overlap(one: LicenceTerms, other: LicenceTerms) -> bool:
    return (
        _meet(one.territory, other.territory)
        and _meet(one.field_of_use, other.field_of_use)
        and dates_overlap(one, other)
    )


def conflicts(one: LicenceTerms, other: LicenceTerms) -> bool:
    """Whether the two licences of the same right cannot both stand (symmetric)."""
    kinds = {one.kind, other.kind}
    if LicenceKind.OPEN in kinds and kinds & EXCLUDING_KINDS:
        return dates_overlap(one, other)
    if kinds & EXCLUDING_KINDS:
        return overlap(one, other)
    return False


def first_conflict(wanted: LicenceTerms, standing: Iterable[LicenceTerms]) -> LicenceTerms | None:
    """The first standing licence (in the order given) that the wanted one conflicts with."""
    return next((licence for licence in standing if conflicts(wanted, licence)), None)

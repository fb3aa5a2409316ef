"""The licence overlap rule: examples from the issue, then properties (symmetry, who may stand)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auction.operation.rules.licence_overlap import (
    LicenceKind,
    LicenceTerms,
    conflicts,
    first_conflict,
    overlap,
)

JAN = date(2027, 1, 1)


def terms(
    kind: LicenceKind, territory: str = "CN", field: str = "batteries", days: tuple[int, int] = (0, 365)
) -> LicenceTerms:
    return LicenceTerms(
        0, kind, territory, field, JAN + timedelta(days=days[0]), JAN + timedelta(days=days[1])
    )


def test_an_exclusive_licence_refuses_the_same_place_and_field_or_all_on_overlapping_dates() -> None:
    exclusive = terms(LicenceKind.EXCLUSIVE)
    assert conflicts(exclusive, terms(LicenceKind.NON_EXCLUSIVE))
    assert conflicts(exclusive, terms(LicenceKind.NON_EXCLUSIVE, territory="all"))
    assert conflicts(exclusive, terms(LicenceKind.SOLE, field="all", days=(365, 400)))
    assert not conflicts(exclusive, terms(LicenceKind.NON_EXCLUSIVE, territory="US"))
    assert not conflicts(exclusive, terms(LicenceKind.EXCLUSIVE, field="medical"))
    assert not conflicts(exclusive, terms(LicenceKind.EXCLUSIVE, days=(366, 700)))


def test_an_open_licence_and_an_exclusive_or_sole_one_never_share_dates_whatever_the_place() -> None:
    opened = terms(LicenceKind.OPEN, territory="CN-GD", field="cars")
    assert conflicts(opened, terms(LicenceKind.SOLE, territory="US", field="medical"))
    assert not conflicts(opened, terms(LicenceKind.EXCLUSIVE, days=(400, 500)))
    assert not conflicts(opened, terms(LicenceKind.NON_EXCLUSIVE))
    assert not conflicts(opened, terms(LicenceKind.OPEN))


def test_the_first_conflict_is_named_and_bad_dates_are_refused() -> None:
    standing = [
        LicenceTerms(7, LicenceKind.NON_EXCLUSIVE, "US", "all", JAN, JAN),
        LicenceTerms(9, LicenceKind.SOLE, "CN", "all", JAN, JAN),
    ]
    found = first_conflict(terms(LicenceKind.NON_EXCLUSIVE), standing)
    assert found is not None and found.licence_id == 9
    with pytest.raises(ValueError, match="ends on or after"):
        LicenceTerms(0, LicenceKind.OPEN, "CN", "all", JAN, JAN - timedelta(days=1))


places = st.sampled_from(["all", "CN", "US"])
fields = st.sampled_from(["all", "batteries", "cars"])


@st.composite
def licences(draw: st.DrawFn) -> LicenceTerms:
    start = draw(st.integers(0, 50))
    return terms(
        draw(st.sampled_from(list(LicenceKind))),
        draw(places),
        draw(fields),
        (start, start + draw(st.integers(0, 50))),
    )


@given(licences(), licences())
def test_conflict_is_symmetric_and_only_an_exclusive_sole_or_open_pairing_conflicts(
    one: LicenceTerms, other: LicenceTerms
) -> None:
    assert conflicts(one, other) == conflicts(other, one)
    excluding = {LicenceKind.EXCLUSIVE, LicenceKind.SOLE}
    if not ({one.kind, other.kind} & excluding):
        assert not conflicts(one, other)
    if {one.kind, other.kind} & excluding and overlap(one, other):
        assert conflicts(one, other)


@given(st.lists(licences(), max_size=12))
def test_granting_in_any_order_leaves_no_two_standing_licences_in_conflict(asked: list[LicenceTerms]) -> None:
    standing: list[LicenceTerms] = []
    for licence in asked:
        if first_conflict(licence, standing) is None:
            standing.append(licence)
    assert not any(conflicts(a, b) for i, a in enumerate(standing) for b in standing[i + 1 :])

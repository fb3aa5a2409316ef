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
    dates_overlap,
    first_conflict,
    overlap,
)
from tests.unit.exact import exactly

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


def test_a_one_day_licence_stands_and_an_inverted_one_is_refused_with_its_dates() -> None:
    assert LicenceTerms(0, LicenceKind.SOLE, "CN", "all", JAN, JAN).ends_on == JAN
    with pytest.raises(
        ValueError, match=exactly("a licence ends on or after it starts, got 2027-01-02 > 2027-01-01")
    ):
        LicenceTerms(0, LicenceKind.SOLE, "CN", "all", JAN + timedelta(days=1), JAN)


def test_dates_overlap_on_a_shared_end_day_in_either_order_and_not_a_day_apart() -> None:
    early = terms(LicenceKind.NON_EXCLUSIVE, days=(0, 10))
    touching = terms(LicenceKind.NON_EXCLUSIVE, days=(10, 20))
    apart = terms(LicenceKind.NON_EXCLUSIVE, days=(11, 20))
    assert dates_overlap(early, touching) and dates_overlap(touching, early)
    assert not dates_overlap(early, apart) and not dates_overlap(apart, early)


def test_places_and_fields_meet_when_equal_or_either_is_all() -> None:
    base = terms(LicenceKind.EXCLUSIVE, territory="CN", field="cars")
    for territory, field, meets in [
        ("CN", "cars", True),
        ("all", "cars", True),
        ("CN", "all", True),
        ("US", "cars", False),
        ("CN", "batteries", False),
        ("US", "all", False),
    ]:
        other = terms(LicenceKind.NON_EXCLUSIVE, territory=territory, field=field)
        assert overlap(base, other) is meets, (territory, field)
        assert overlap(other, base) is meets, (territory, field)
    everywhere = terms(LicenceKind.EXCLUSIVE, territory="all", field="all")
    assert overlap(everywhere, terms(LicenceKind.NON_EXCLUSIVE, territory="US", field="batteries"))


def test_the_first_conflict_follows_the_order_given_and_none_means_it_may_stand() -> None:
    sole = LicenceTerms(3, LicenceKind.SOLE, "CN", "all", JAN, JAN)
    exclusive = LicenceTerms(4, LicenceKind.EXCLUSIVE, "all", "batteries", JAN, JAN)
    wanted = terms(LicenceKind.NON_EXCLUSIVE)
    assert first_conflict(wanted, [sole, exclusive]) is sole
    assert first_conflict(wanted, [exclusive, sole]) is exclusive
    assert first_conflict(wanted, [terms(LicenceKind.NON_EXCLUSIVE), terms(LicenceKind.OPEN)]) is None
    assert first_conflict(wanted, []) is None

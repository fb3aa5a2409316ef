"""The patent annual-fee table (专利年费) as data: terms and yearly fees by patent kind.

Source: DESIGN.md section 3, "Patent annuities" (专利法第42-44条 and the fees in yuan a year it
lists; designs filed on or after 2021-06-01 run 15 years). Every fee of the system comes from this
one table; nothing else holds a fee literal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

INVENTION = "invention_patent"
UTILITY = "utility_patent"
DESIGN = "design_patent"
PATENT_KINDS = frozenset({INVENTION, UTILITY, DESIGN})

# Designs filed on or after this day run 15 years (DESIGN.md section 3).
DESIGN_15_YEAR_FILED_FROM = date(2021, 6, 1)

YUAN_FEN = 100


@dataclass(frozen=True, slots=True)
class FeeBand:
    first_year: int
    last_year: int
    fee_fen: int


@dataclass(frozen=True, slots=True)
class PatentTerm:
    """How long a patent of a kind lives and what each of its years costs."""

    kind: str
    term_years: int
    bands: tuple[FeeBand, ...]

    def fee_fen(self, patent_year: int) -> int:
        for band in self.bands:
            if band.first_year <= patent_year <= band.last_year:
                return band.fee_fen
        raise ValueError(f"a {self.kind} has no patent year {patent_year} (term {self.term_years} years)")


def _bands(*rows: tuple[int, int, int]) -> tuple[FeeBand, ...]:
    return tuple(FeeBand(first, last, yuan * YUAN_FEN) for first, last, yuan in rows)


_UTILITY_AND_DESIGN_10 = _bands((1, 3, 600), (4, 5, 900), (6, 8, 1_200), (9, 10, 2_000))

INVENTION_TERM = PatentTerm(
    INVENTION,
    20,
    _bands((1, 3, 900), (4, 6, 1_200), (7, 9, 2_000), (10, 12, 4_000), (13, 15, 6_000), (16, 20, 8_000)),
)
UTILITY_TERM = PatentTerm(UTILITY, 10, _UTILITY_AND_DESIGN_10)
DESIGN_10_TERM = PatentTerm(DESIGN, 10, _UTILITY_AND_DESIGN_10)
DESIGN_15_TERM = PatentTerm(DESIGN, 15, (*_UTILITY_AND_DESIGN_10, FeeBand(11, 15, 3_000 * YUAN_FEN)))

# Fee reductions (DESIGN.md section 3): 85 % for a single small entity or individual, 70 % for
# joint applicants, on the annual fees of the first ten years from the grant year.
FEE_REDUCTION_BPS = frozenset({0, 7_000, 8_500})
REDUCED_YEARS_FROM_GRANT = 10


def term_of(kind: str, filed_on: date) -> PatentTerm:
    if kind == INVENTION:
        return INVENTION_TERM
    if kind == UTILITY:
        return UTILITY_TERM
    if kind == DESIGN:
        return DESIGN_15_TERM if filed_on >= DESIGN_15_YEAR_FILED_FROM else DESIGN_10_TERM
    raise ValueError(f"{kind!r} is not a patent kind")


def _assert_table() -> None:
    """Each term's bands cover its years 1..term exactly once, in order."""
    for term in (INVENTION_TERM, UTILITY_TERM, DESIGN_10_TERM, DESIGN_15_TERM):
        expected = 1
        for band in term.bands:
            assert band.first_year == expected and band.last_year >= band.first_year and band.fee_fen > 0
            expected = band.last_year + 1
        assert expected == term.term_years + 1, term.kind


_assert_table()

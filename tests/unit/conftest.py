"""The hypothesis profile scripts/mutate selects (`--hypothesis-profile=mutation`).

A mutation run judges hundreds of mutants one after the other under load, so its verdicts must depend
on the mutant only: the same examples for every mutant (derandomize), no example database carried
from one mutant to the next, and no deadline that a busy machine would trip for a correct rule.
"""

from hypothesis import settings

settings.register_profile("mutation", derandomize=True, database=None, deadline=None)

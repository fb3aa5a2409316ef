"""Garbage-collector settings for a serving process (`serve`, and each worker of `serve --workers`).

A bid allocates about a thousand short-lived objects, so with CPython's default thresholds
(700, 10, 10) the collector ran a young collection every few bids and a full one every few hundred,
walking every object the process holds each time: about 4 % of a bid's CPU, and full collections
showed up as stalls in the p99 latency under load (BENCHMARKS.md, session 3). So:

* gc.freeze() once the app is built: the modules, routes and settings of startup move to a
  permanent generation that no collection walks again;
* a young collection every 50,000 allocations instead of 700, and older ones ten times rarer
  than that. Reference counting still frees nearly everything at once; the collector only has
  cycles to find.

Tests and commands keep the defaults: only the serving entry points call this.
"""

from __future__ import annotations

import gc

GEN0_THRESHOLD = 50_000
GEN1_THRESHOLD = 50
GEN2_THRESHOLD = 100


def tune_for_serving() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(GEN0_THRESHOLD, GEN1_THRESHOLD, GEN2_THRESHOLD)

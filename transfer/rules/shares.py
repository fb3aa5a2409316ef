"""Shares of a loan's income right, in integer parts per million."""

from __future__ import annotations

# A whole loan's collections: income-right shares always sum to exactly this (DESIGN §4.3).
WHOLE_SHARE_PPM = 1_000_000

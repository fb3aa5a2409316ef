"""Patent annuities of pledged collateral (预缴年费): the computed schedule, the loan's annuity
escrow, the daily payment run with grace, late fees, lapse and restoration, and the alerts.

The rules (schedule, due dates, grace months, the fee table) are pure, in transfer/rules; this
package writes and reads them. It sits beside the market and servicing, above the registry.
"""

"""A demo market for a local try-out (`scripts/serve --demo`): fixed demo keys, a market with a
history, and simulated bidders. Never for production.

participants   the demo participants and their fixed keys
timeline       steps at instants, run with the clock set to each (the market's history)
loans          a demo loan with its annuity schedules
market_seed    today's loans, subscription book and English auction
session_seed   a centralized session whose lots end over the next 15 minutes
disposal_seed  a case in its second round
pool_seed      an operation pool with licences and revenue
fee_history    a few hundred fee-waived trades over six months
bidders        the simulated bidders (and a fresh session when one has closed)
orchestrator   seeding all of it once, in time order
console        the progress bar and the closing summary on the terminal
"""

from app.demo.orchestrator import SeedReport, seed_demo_market
from app.demo.participants import DEMO_PARTICIPANTS

__all__ = ["DEMO_PARTICIPANTS", "SeedReport", "seed_demo_market"]

"""Bids: the lot as read (lot), the SQL (statements), the judge (judge), the English executor
(english) and one bid of any kind in a unit of work (place).

Bids on one lot apply strictly in receipt order, the lot's sequence, which is the order a replay of
the history uses; different lots never wait for each other. An English bid is judged on the lot as
read and written by one statement conditional on the lot's sequence and state, so a bid that finds
the lot changed meanwhile is judged again on a fresh read: two bids never both "win" and no proxy
resolution is lost. Sealed and first-acceptor bids run under the lot's row lock.
"""

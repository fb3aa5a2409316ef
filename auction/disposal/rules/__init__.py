"""The pure rules of disposal: no I/O, no clock, no database; money in integer fen.

`rounds` limits each auction round of a case (DESIGN §3 "Online auction rules"), `bundles` prices and
splits a lot of several cases, `waterfall` splits the proceeds over the claim (§3 "Pledge
enforcement"). The disposal services ask these functions and store what they answer.
"""

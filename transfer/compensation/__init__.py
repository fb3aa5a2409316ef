"""Risk-compensation funds (the pilot plan's item 12): funds and their money, loans enrolled in them,
the advance paid in a default's own transaction and the final clearing when its disposal ends."""

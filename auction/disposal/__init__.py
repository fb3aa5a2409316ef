"""Disposal of defaulted collateral: cases, rounds, take-in-payment, fixed-price sale, waterfall, sessions."""

"""Operation pools: an agency's acquired rights, its buyout offers and standing commitments,
licences, revenue and earn-outs. Beside the auction house; used by auction.disposal, which owns
the cases these offers buy."""

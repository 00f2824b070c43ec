"""Real usage: log formats, the ledger that prices logs exactly, and plan against actual."""

"""Pure rules of operation pools: no database, no I/O."""

"""The pricing domain: pure rules of DOMAIN.md §1, §3 and §4 (no I/O, no clock)."""

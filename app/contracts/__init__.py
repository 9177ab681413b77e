"""Contracts: the system of record of every contract's life (DOMAIN.md §2–§3)."""

"""Customers: the companies that hold contracts (API.md "Customers")."""

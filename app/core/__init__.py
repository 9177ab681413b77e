"""Shared plumbing: settings, database, errors, clock, pagination, HTTP middleware."""

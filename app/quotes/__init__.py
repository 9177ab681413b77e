"""Quotes: what a contract would cost, priced from the stored price book; nothing stored."""

"""Invoices and receivables (DOMAIN.md §5): bill runs, payments, late charges, credit notes."""

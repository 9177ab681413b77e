"""Japanese e-invoices (issue 14): JP PINT 1.1.3 (UBL 2.1) XML of every invoice and credit note."""

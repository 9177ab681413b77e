"""The charge ledger: every non-recurring charge a contract incurs, until it is billed.

Contract changes write here (one-time items, early-termination, cancellation,
late-payment and ad-hoc charges); the bill run turns unbilled entries into invoice lines
and stamps them with the invoice id, so no charge is computed twice or lost.
"""

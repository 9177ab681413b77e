"""A contract's endings: terminations, cancellations, plan changes, the daily roll."""

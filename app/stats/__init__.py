"""Anonymous monthly statistics (issue 13 §4, Art. 32.1(3)(4), R-PTN-3)."""

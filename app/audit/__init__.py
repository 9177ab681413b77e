"""The operation log (R-PTN-2, Art. 32.3): who changed what, when, before and after."""

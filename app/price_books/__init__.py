"""Price book versions (R-CAT-4): stored, listed, added by admins; never changed."""

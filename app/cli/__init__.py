"""The ``scms`` command line."""

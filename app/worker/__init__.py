"""The worker: all background work, shared by any number of processes (issue 12 §5)."""

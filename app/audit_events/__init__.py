"""The operation log's API (issue 13 §3, R-PTN-2, Art. 32.3): listing and NDJSON export."""

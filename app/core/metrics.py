"""Prometheus metrics of the HTTP layer, labelled by route template (not raw path)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "scms_http_requests_total",
    "HTTP requests by method, route template and status code.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "scms_http_request_duration_seconds",
    "HTTP request latency by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
# Issue 12 §5: the job queue, read from the database at each scrape (app/health/router.py).
JOBS = Gauge(
    "scms_jobs",
    "Background jobs (bill runs, daily rolls) by state: queued, running, done, failed.",
    ["state"],
    registry=REGISTRY,
)

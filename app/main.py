"""The application factory: plumbing, then one router per feature."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager

from fastapi import FastAPI

from app.api_keys.router import router as api_keys_router
from app.audit_events.router import router as audit_events_router
from app.auth.dependencies import authenticate_request
from app.auth.verified import verified_keys
from app.changes.charges_router import router as charges_router
from app.changes.router import router as changes_router
from app.changes.router import suspensions_router
from app.contracts.router import router as contracts_router
from app.core.clock import Clock, SystemClock
from app.core.database import Database, engine_from_settings
from app.core.docs import install_docs
from app.core.errors import install_error_handlers
from app.core.guard import RequestGuardMiddleware
from app.core.idempotency import IdempotencyMiddleware
from app.core.logging import configure_logging
from app.core.middleware import RequestContextMiddleware
from app.core.openapi import TAGS, install_openapi
from app.core.outage import install_outage_handler
from app.core.routing import install_route_index
from app.core.settings import Settings, get_settings
from app.core.validation import BusinessWindowMiddleware
from app.customers.router import router as customers_router
from app.einvoice.buyer_ids import freeze_before_change
from app.einvoice.router import export_router as invoice_export_router
from app.einvoice.router import router as einvoice_router
from app.endings.router import router as endings_router
from app.events.router import router as events_router
from app.health.router import router as health_router
from app.invoices.billing_runs_router import router as billing_runs_router
from app.invoices.months import latest_invoiced_month
from app.invoices.preview_router import router as invoice_preview_router
from app.invoices.router import router as invoices_router
from app.onboarding.router import router as onboarding_router
from app.price_books.router import router as price_books_router
from app.quotes.router import router as quotes_router
from app.sandbox.clock import sandbox_clock
from app.sandbox.router import router as sandbox_router
from app.soc_reports.router import router as soc_reports_router
from app.stats.router import router as stats_router
from app.webhooks.metrics import refresh as refresh_webhook_metrics
from app.webhooks.router import router as webhooks_router

API_DESCRIPTION = """
Contract and billing service for **Secure Connect Managed Suite**.

Authenticate with `Authorization: Bearer <api key>`. Errors are RFC 9457
`application/problem+json` (the `Problem` schema) with a stable `code` and, for business
rules, the `rule` id. Every response carries `X-Request-ID`. Lists answer
`{items, next_cursor}`, newest first: pass `next_cursor` back as `cursor`.
"""

Companion = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_app(
    settings: Settings | None = None,
    *,
    database: Database | None = None,
    clock: Clock | None = None,
    companions: Sequence[Companion] = (),
) -> FastAPI:
    """The application. ``companions`` run for as long as it does, inside its lifespan
    (``scms serve`` hands in the embedded worker, which stands above this module)."""
    settings = settings or get_settings()
    configure_logging(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = database is None
        if owned:
            app.state.database = Database(engine_from_settings(settings))
        try:
            async with AsyncExitStack() as stack:
                for companion in companions:
                    await stack.enter_async_context(companion(app))
                yield
        finally:
            if owned:
                await app.state.database.dispose()

    app = FastAPI(
        title="Secure Connect Managed Suite – contracts and billing",
        version="1.0.0",
        description=API_DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        # Not used (metrics are Prometheus'): off, it costs no look-up of OpenTelemetry's
        # global providers on every request (issue 11).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.database = database
    app.state.clock = clock or SystemClock()
    app.state.settings = settings
    # How long a verified API key is trusted without a query (app/auth/verified.py).
    verified_keys.ttl = settings.api_key_cache_seconds
    # Price books ask how far invoicing has got (R-CAT-4); invoicing stands above them.
    app.state.invoiced_through = latest_invoiced_month
    app.state.before_customer_identifiers_change = freeze_before_change
    if settings.sandbox:
        # Issue 15: every request reads today from the sandbox clock's stored offset.
        app.state.resolve_clock = sandbox_clock
    # /metrics (health) reads gauges that features above it keep: the outbox lag, ...
    app.state.metrics_refreshers = [refresh_webhook_metrics]
    install_error_handlers(app)
    install_outage_handler(app)
    install_docs(app)
    install_openapi(app)
    # Innermost: the request's date window (issue 9 §4), from its clock, before the route
    # validates anything.
    app.add_middleware(BusinessWindowMiddleware)
    # Then Idempotency-Key (issue 12 §1), once the caller and the body are checked.
    app.add_middleware(IdempotencyMiddleware)
    # Inside the request context (ids, logs): the key and the input are checked first.
    app.add_middleware(
        RequestGuardMiddleware,
        max_body_bytes=settings.max_body_bytes,
        authenticate=authenticate_request,
    )
    app.add_middleware(RequestContextMiddleware)
    app.include_router(health_router)
    app.include_router(api_keys_router)
    app.include_router(price_books_router)
    app.include_router(quotes_router)
    app.include_router(customers_router)
    app.include_router(contracts_router)
    app.include_router(onboarding_router)
    app.include_router(changes_router)
    app.include_router(endings_router)
    app.include_router(suspensions_router)
    app.include_router(charges_router)
    app.include_router(invoice_preview_router)
    app.include_router(billing_runs_router)
    app.include_router(invoice_export_router)  # before /v1/invoices/{invoice_id}
    app.include_router(invoices_router)
    app.include_router(einvoice_router)
    app.include_router(sandbox_router)
    app.include_router(events_router)
    app.include_router(webhooks_router)
    app.include_router(audit_events_router)
    app.include_router(soc_reports_router)
    app.include_router(stats_router)
    # Last: it sorts the routes included above (and any added later) by path.
    install_route_index(app)
    return app

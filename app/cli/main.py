"""``scms``: serve the API, migrate the database, manage API keys.

Every command works against ``SCMS_DATABASE_URL`` (SQLite at ./var/scms.db by default).
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from fastapi import FastAPI
from rich.console import Console
from rich.measure import Measurement
from rich.table import Column, Table

from app.api_keys import service as keys
from app.api_keys.schemas import ApiKeyCreate, ApiKeyRead
from app.auth.models import ApiKey
from app.auth.roles import Role
from app.auth.service import Principal
from app.cli.audit import audit
from app.cli.bill_run import bill_run
from app.cli.contracts import contracts
from app.cli.errors import OperatorErrors
from app.cli.worker import worker
from app.core.clock import SystemClock
from app.core.database import Database, engine_from_settings
from app.core.errors import AppError
from app.core.migrations import upgrade
from app.core.settings import get_settings

app = typer.Typer(
    cls=OperatorErrors,  # an operator's mistake is one line, not a traceback (issue 9 §8)
    help="Secure Connect Managed Suite: contracts and billing.",
    no_args_is_help=True,
)
api_keys = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
app.add_typer(api_keys, name="api-keys")
app.add_typer(contracts, name="contracts")
app.add_typer(audit, name="audit")
app.command("bill-run")(bill_run)
app.command("worker")(worker)
console = Console()
# The operation log names the command line as the actor of what it changes.
CLI_ACTOR = Principal(key_id="cli", role=Role.ADMIN)
T = TypeVar("T")


def _run(work: Callable[[Database], Awaitable[T]]) -> T:
    """Run one unit of work in its own transaction against the configured database."""

    async def main() -> T:
        settings = get_settings()
        database = Database(engine_from_settings(settings, pool_size=1))
        try:
            return await work(database)
        finally:
            await database.dispose()

    return asyncio.run(main())


@app.command()
def migrate() -> None:
    """Apply every database migration (idempotent)."""
    upgrade(get_settings().database_url)
    console.print("[green]Database is at the latest migration.[/green]")


def listen_url(host: str, port: int, *, browse: bool = False) -> str:
    """The URL of ``host:port``; to browse, a wildcard address is named by its loopback."""
    if browse and host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1" if host != "::" else "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve_app() -> FastAPI:
    """What each server process runs (uvicorn's factory): the application, and beside it
    the worker that does the background work unless SCMS_EMBEDDED_WORKER=false (issue 12
    §5)."""
    from app.main import create_app
    from app.worker.embedded import embedded_worker

    settings = get_settings()
    app = create_app(settings, companions=[embedded_worker] if settings.embedded_worker else [])
    # Issue 11: what importing and building the app made lives as long as the process;
    # frozen, the collector no longer walks it, and a full collection under load took
    # ~100 ms (every request waiting: the p99) instead of ~10 ms.
    gc.collect()
    gc.freeze()
    # A young collection every 700 new container objects (CPython's default) ran every
    # few milliseconds under load, walking the 64 requests in flight each time to find
    # them still alive: every 20,000 instead, GET /v1/contracts/{id} spent ~8 % less CPU
    # and its p99 fell from ~140 to ~100 ms here. Older generations keep their ratios.
    gc.set_threshold(20_000, 10, 10)
    return app


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Default: SCMS_HOST.")] = None,
    port: Annotated[int | None, typer.Option(help="Default: SCMS_PORT.")] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, max=64, help="Worker processes. Default: SCMS_WORKERS.")
    ] = None,
    migrate_first: Annotated[bool, typer.Option("--migrate/--no-migrate")] = True,
) -> None:
    """Apply migrations, then serve the API (uvloop, httptools; one or more workers)."""
    import uvicorn

    settings = get_settings()
    if migrate_first:
        upgrade(settings.database_url)
    bind_host, bind_port = host or settings.host, port or settings.port
    processes = workers or settings.workers
    plural = "worker" if processes == 1 else "workers"
    console.print(
        f"Listening on {listen_url(bind_host, bind_port)} ({processes} {plural}, uvloop, "
        "httptools)",
        highlight=False,
    )
    console.print(f"API docs: {listen_url(bind_host, bind_port, browse=True)}/docs")
    if settings.sandbox:
        console.print("Sandbox: on (SCMS_SANDBOX): PUT /v1/sandbox/clock moves today forward")
    scms = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0] else Path("scms")
    console.print(f"First API key: {scms} api-keys create --name me --role admin", soft_wrap=True)
    # Each worker builds its own application (and engine) from the same settings; uvloop
    # sets TCP_NODELAY on every connection, which keep-alive answers need with workers.
    uvicorn.run(
        "app.cli.main:serve_app",
        factory=True,
        host=bind_host,
        port=bind_port,
        workers=processes,
        loop="uvloop",
        http="httptools",
        log_level="warning",
    )


@app.command()
def openapi(
    output: Annotated[str, typer.Option(help="Where to write the document.")] = "-",
) -> None:
    """Print or write the OpenAPI document the app serves at /openapi.json."""
    import json
    from pathlib import Path

    from app.main import create_app

    document = json.dumps(create_app().openapi(), indent=2, ensure_ascii=False) + "\n"
    if output == "-":
        print(document, end="")
    else:
        Path(output).write_text(document, encoding="utf-8")
        console.print(f"Wrote {output}")


@api_keys.command("create")
def create_key(
    name: Annotated[str, typer.Option(help="Who or what uses the key.")],
    role: Annotated[Role, typer.Option(help="admin, operator, crm, portal or partner.")],
    customer_id: Annotated[str | None, typer.Option(help="Portal keys: the customer.")] = None,
) -> None:
    """Create a key and print it once (the last line is the key alone)."""
    try:
        data = ApiKeyCreate(name=name, role=role, customer_id=customer_id)
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc

    async def work(database: Database) -> tuple[ApiKey, str]:
        async with database.sessionmaker.begin() as session:
            return await keys.create_key(session, data, SystemClock(), CLI_ACTOR)

    try:
        key, secret = _run(work)
    except AppError as exc:  # no such customer
        console.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(2) from exc
    console.print(f"Created API key {key.id} ({key.role}). It is shown once; keep it safe:")
    print(secret)


@api_keys.command("list")
def list_keys(
    include_revoked: Annotated[bool, typer.Option("--all", help="Show revoked keys too.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array, as the API.")] = False,
) -> None:
    """List API keys (never the keys themselves); ids are never cut short."""
    from sqlalchemy import select

    async def work(database: Database) -> list[ApiKey]:
        async with database.sessionmaker() as session:
            stmt = select(ApiKey).order_by(ApiKey.id)
            if not include_revoked:
                stmt = stmt.where(ApiKey.revoked_at.is_(None))
            return list((await session.scalars(stmt)).all())

    found = _run(work)
    if as_json:
        print(
            json.dumps(
                [ApiKeyRead.model_validate(k).model_dump(mode="json") for k in found],
                ensure_ascii=False,
            )
        )
        return
    # Ids are copied into other commands: never folded nor cut short (issue 9 §8).
    table = Table(
        Column("id", no_wrap=True, overflow="ignore"),
        "name",
        "role",
        Column("customer", no_wrap=True, overflow="ignore"),
        "prefix",
        "created",
        "revoked",
    )
    for key in found:
        table.add_row(
            key.id,
            key.name,
            key.role,
            key.customer_id or "",
            key.key_prefix,
            key.created_at.isoformat(timespec="seconds"),
            key.revoked_at.isoformat(timespec="seconds") if key.revoked_at else "",
        )
    # As wide as the table needs: a narrow terminal wraps the lines, rich shrinks nothing.
    needed = Measurement.get(console, console.options.update_width(10_000), table).maximum
    Console(width=max(console.width, needed)).print(table, crop=False)


@api_keys.command("revoke")
def revoke_key(key_id: Annotated[str, typer.Argument(help="The key's id.")]) -> None:
    """Revoke a key: servers refuse it within SCMS_API_KEY_CACHE_SECONDS (10 s)."""

    async def work(database: Database) -> ApiKey:
        async with database.sessionmaker.begin() as session:
            return await keys.revoke_key(session, key_id, SystemClock(), CLI_ACTOR)

    try:
        key = _run(work)
    except AppError as exc:
        console.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"Revoked {key.id}.")


if __name__ == "__main__":
    app()

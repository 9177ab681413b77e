"""Who is calling: the key check every /v1 request passes, and the role check per route.

The key is checked once per request (a key verified in the last few seconds without a
query: app/auth/verified.py bounds how long a revocation takes), by
:func:`authenticate_request`, which the request
guard (app/core/guard.py) runs for every /v1 path before the body is read: no key, or
an unknown or revoked key, is 401 without reading a byte of a body that may be large.
The principal it resolves waits in the request's state for :func:`require`, which each
route declares with the roles it allows: a key whose role is not allowed is 403. Admin
keys are allowed everywhere. Customer scoping (404 for another customer's object) is
applied where the object is loaded, through ``Principal.sees_customer``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection
from starlette.types import Scope

from app.auth.roles import Role
from app.auth.service import ENV_ADMIN_KEY_ID, Principal, authenticate, hash_key
from app.auth.verified import verified_keys
from app.core.database import Database
from app.core.errors import Forbidden, Unauthenticated
from app.core.openapi import ROUTE_ROLES
from app.core.settings import Settings


class _DocumentedBearer(HTTPBearer):
    """The Bearer scheme as the OpenAPI document shows it on every route. It reads
    nothing: the guard has checked the key before the route runs, and parsing the header
    again cost every request a ``Request`` and its headers (issue 11)."""

    async def __call__(self, request: HTTPConnection) -> HTTPAuthorizationCredentials | None:
        return None


_bearer = _DocumentedBearer(
    auto_error=False,
    scheme_name="HTTPBearer",  # (the name FastAPI's own class gives it)
    description="An API key: `Authorization: Bearer scms_…`",
)
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="scms"'}
PRINCIPAL_STATE = "principal"

BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _presented_key(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            text: str = value.decode("latin-1")
            scheme, _, key = text.partition(" ")
            if scheme.lower() == "bearer" and key.strip():
                return key.strip()
            return None
    return None


async def authenticate_request(scope: Scope) -> None:
    """Resolve the request's API key into a Principal in its state, or raise 401."""
    presented = _presented_key(scope)
    if presented is None:
        raise Unauthenticated(
            "Send an API key as 'Authorization: Bearer <key>'.",
            code="missing_api_key",
            headers=_CHALLENGE,
        )
    app = scope["app"]
    settings: Settings = app.state.settings
    database: Database = app.state.database
    env_key = settings.admin_api_key.get_secret_value() if settings.admin_api_key else None
    key_hash = hash_key(presented)
    principal = verified_keys.lookup(key_hash)
    if principal is None:
        # Its own short read: the route's unit of work has not begun (and may never).
        async with database.read_sessionmaker() as session:
            principal = await authenticate(session, presented, env_key)
        if principal is not None and principal.key_id != ENV_ADMIN_KEY_ID:
            verified_keys.remember(key_hash, principal)
    if principal is None:
        raise Unauthenticated(
            "The API key is unknown or revoked.", code="invalid_api_key", headers=_CHALLENGE
        )
    state = scope.setdefault("state", {})
    state["api_key_id"] = principal.key_id
    state[PRINCIPAL_STATE] = Principal(
        key_id=principal.key_id,
        role=principal.role,
        customer_id=principal.customer_id,
        request_id=state.get("request_id"),
    )


def require(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    allowed = frozenset(roles) | {Role.ADMIN}

    # ``credentials`` is not read: declaring it documents the Bearer scheme in OpenAPI.
    async def dependency(request: Request, credentials: BearerDep) -> Principal:
        principal = request.scope.get("state", {}).get(PRINCIPAL_STATE)
        if not isinstance(principal, Principal):
            # Only a route outside the guard's /v1 prefix gets here: refuse, never guess.
            raise Unauthenticated(
                "Send an API key as 'Authorization: Bearer <key>'.",
                code="missing_api_key",
                headers=_CHALLENGE,
            )
        if principal.role not in allowed:
            raise Forbidden(
                f"A {principal.role.value} key may not do this.",
                role=principal.role.value,
                allowed_roles=sorted(r.value for r in allowed),
            )
        return principal

    dependency.__name__ = "require_" + "_".join(sorted(r.value for r in allowed))
    ROUTE_ROLES[dependency] = allowed  # the OpenAPI document names who may call
    return dependency


AdminKey = Annotated[Principal, Depends(require())]

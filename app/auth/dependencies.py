"""The one dependency every /v1 route declares, with the roles it allows.

No key, or an unknown or revoked key: 401. A key whose role is not allowed: 403. Admin
keys are allowed everywhere. Customer scoping (404 for another customer's object) is
applied where the object is loaded, through ``Principal.sees_customer``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.auth.roles import Role
from app.auth.service import Principal, authenticate
from app.core.database import SessionDep
from app.core.errors import Forbidden, Unauthenticated
from app.core.settings import Settings

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer scms_…`")
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="scms"'}

BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
# Each require(...) dependency → the roles it lets in; the OpenAPI builder documents them.
REQUIRED_ROLES: dict[Callable[..., Awaitable[Principal]], frozenset[Role]] = {}


def require(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    allowed = frozenset(roles) | {Role.ADMIN}

    async def dependency(
        request: Request, session: SessionDep, credentials: BearerDep
    ) -> Principal:
        if credentials is None or not credentials.credentials:
            raise Unauthenticated(
                "Send an API key as 'Authorization: Bearer <key>'.",
                code="missing_api_key",
                headers=_CHALLENGE,
            )
        settings: Settings = request.app.state.settings
        env_key = settings.admin_api_key.get_secret_value() if settings.admin_api_key else None
        principal = await authenticate(session, credentials.credentials, env_key)
        if principal is None:
            raise Unauthenticated(
                "The API key is unknown or revoked.", code="invalid_api_key", headers=_CHALLENGE
            )
        request.state.api_key_id = principal.key_id
        principal = replace(principal, request_id=request.scope["state"].get("request_id"))
        if principal.role not in allowed:
            raise Forbidden(
                f"A {principal.role.value} key may not do this.",
                role=principal.role.value,
                allowed_roles=sorted(r.value for r in allowed),
            )
        return principal

    dependency.__name__ = "require_" + "_".join(sorted(r.value for r in allowed))
    REQUIRED_ROLES[dependency] = allowed
    return dependency


AdminKey = Annotated[Principal, Depends(require())]

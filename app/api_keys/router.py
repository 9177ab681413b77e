from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from app.api_keys import service
from app.api_keys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from app.auth.dependencies import AdminKey
from app.auth.repository import ApiKeyRepository
from app.core.database import SessionDep
from app.core.errors import NotFound
from app.core.http import ClockDep
from app.core.openapi import documents
from app.core.pagination import Page, PageParamsDep

router = APIRouter(prefix="/v1/api-keys", tags=["api-keys"])
ApiKeyID = Annotated[str, Path(max_length=40, description="The API key's id (not the key).")]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreated,
    operation_id="api-keys-create",
    summary="Issue an API key",
    openapi_extra=documents(location=True),
)
async def create_api_key(
    data: ApiKeyCreate, session: SessionDep, clock: ClockDep, actor: AdminKey, response: Response
) -> ApiKeyCreated:
    """A key of one role; a portal key is bound to one customer (R-PTN-3). The secret
    `key` is in this answer only: the service keeps a hash."""
    key, secret = await service.create_key(session, data, clock, actor)
    response.headers["Location"] = f"/v1/api-keys/{key.id}"
    return ApiKeyCreated(**ApiKeyRead.model_validate(key).model_dump(), key=secret)


@router.get(
    "", response_model=Page[ApiKeyRead], operation_id="api-keys-list", summary="List API keys"
)
async def list_api_keys(
    session: SessionDep,
    page: PageParamsDep,
    _: AdminKey,
    include_revoked: Annotated[bool, Query()] = False,
) -> Page[ApiKeyRead]:
    """Newest first; revoked keys only with `include_revoked=true`. No secret is shown."""
    keys, cursor = await ApiKeyRepository(session).page(page, include_revoked=include_revoked)
    return Page(items=[ApiKeyRead.model_validate(k) for k in keys], next_cursor=cursor)


@router.get(
    "/{key_id}", response_model=ApiKeyRead, operation_id="api-keys-get", summary="Read an API key"
)
async def get_api_key(key_id: ApiKeyID, session: SessionDep, _: AdminKey) -> ApiKeyRead:
    """The key's name, role, customer and first characters; never the secret."""
    key = await ApiKeyRepository(session).get(key_id)
    if key is None:
        raise NotFound(f"No API key {key_id}.", code="api_key_not_found")
    return ApiKeyRead.model_validate(key)


@router.delete(
    "/{key_id}",
    response_model=ApiKeyRead,
    operation_id="api-keys-revoke",
    summary="Revoke an API key",
    openapi_extra=documents(409),
)
async def revoke_api_key(
    key_id: ApiKeyID, session: SessionDep, clock: ClockDep, actor: AdminKey
) -> ApiKeyRead:
    """From now on the key is refused (401). A key already revoked is a 409
    `api_key_revoked`."""
    return ApiKeyRead.model_validate(await service.revoke_key(session, key_id, clock, actor))

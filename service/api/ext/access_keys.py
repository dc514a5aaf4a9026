"""CreateAccessKey, ListAccessKeys, DeleteAccessKey (openlv extensions): access keys and their roles.

The secret is in CreateAccessKey's reply and nowhere else: never listed, never logged.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from service.api.deps import Context, epoch
from service.api.pagination import page_request, page_response
from service.auth.dependency import require_signature
from service.auth.roles import Role
from service.db.models import AccessKey

router = APIRouter()


class CreateAccessKeyRequest(BaseModel):
    Role: Role
    Description: str = Field(default="", max_length=255)


def access_key_metadata(key: AccessKey) -> dict[str, Any]:
    return {
        "AccessKeyId": key.access_key_id,
        "Role": key.role,
        "Description": key.description,
        "CreationTimestamp": epoch(key.created_at),
    }


@router.post("/accesskeys")
def create_access_key(body: CreateAccessKeyRequest, context: Context) -> dict[str, Any]:
    issued = context.keys.create(role=body.Role, description=body.Description)
    return {"AccessKey": {**access_key_metadata(issued.record), "SecretAccessKey": issued.secret_access_key}}


@router.get("/accesskeys")
def list_access_keys(
    context: Context,
    next_token: Annotated[str | None, Query(alias="nextToken")] = None,
    max_results: Annotated[int | None, Query(alias="maxResults")] = None,
) -> dict[str, Any]:
    page = page_request(next_token, max_results, key="after", cursor_type=str)
    rows = context.keys.list_keys(after=page.cursor, limit=page.limit)
    return page_response(
        page, rows, items="AccessKeys", shape=access_key_metadata, cursor_of=lambda row: row.access_key_id
    )


@router.delete("/accesskeys/{access_key_id}")
def delete_access_key(
    access_key_id: str, context: Context, caller: Annotated[str, Depends(require_signature)]
) -> dict[str, Any]:
    context.keys.delete(access_key_id, caller=caller)
    return {"AccessKeyId": access_key_id}

"""CreateAccessKey, ListAccessKeys, DeleteAccessKey (openlv extensions): access keys and their roles.

The secret is in CreateAccessKey's reply and nowhere else: never listed, never logged.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from service.api.deps import Context, epoch
from service.api.pagination import decode_token, encode_token, page_size
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
    limit = page_size(max_results)
    cursor = decode_token(next_token, expected_keys={"after"})
    rows = context.keys.list_keys(after=str(cursor["after"]) if cursor else None, limit=limit)
    response: dict[str, Any] = {"AccessKeys": [access_key_metadata(row) for row in rows[:limit]]}
    if len(rows) > limit:
        response["NextToken"] = encode_token({"after": rows[limit - 1].access_key_id})
    return response


@router.delete("/accesskeys/{access_key_id}")
def delete_access_key(
    access_key_id: str, context: Context, caller: Annotated[str, Depends(require_signature)]
) -> dict[str, Any]:
    context.keys.delete(access_key_id, caller=caller)
    return {"AccessKeyId": access_key_id}

"""TagResource, UntagResource, ListTagsForResource."""

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from service.api.deps import Context
from service.db.engine import transaction
from service.domain import tags

router = APIRouter()


class Tag(BaseModel):
    Key: str
    Value: str


class TagResourceRequest(BaseModel):
    Tags: list[Tag]


@router.post("/tags/{resource_arn:path}")
def tag_resource(resource_arn: str, body: TagResourceRequest, context: Context) -> dict[str, Any]:
    with transaction(context.engine) as session:
        tags.tag_resource(
            session, settings=context.settings, arn=resource_arn, tags=[(tag.Key, tag.Value) for tag in body.Tags]
        )
    return {}


@router.delete("/tags/{resource_arn:path}")
def untag_resource(
    resource_arn: str, context: Context, tag_keys: Annotated[list[str] | None, Query(alias="tagKeys")] = None
) -> dict[str, Any]:
    with transaction(context.engine) as session:
        tags.untag_resource(session, settings=context.settings, arn=resource_arn, keys=tag_keys or [])
    return {}


@router.get("/tags/{resource_arn:path}")
def list_tags_for_resource(resource_arn: str, context: Context) -> dict[str, Any]:
    with transaction(context.engine) as session:
        found = tags.list_tags(session, settings=context.settings, arn=resource_arn)
    return {"Tags": [{"Key": key, "Value": value} for key, value in found.items()]}

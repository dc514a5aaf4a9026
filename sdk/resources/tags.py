"""TagResource, UntagResource and ListTagsForResource, shared by every taggable resource (projects, models)."""

from collections.abc import Iterable, Mapping

from sdk._transport import api_path
from sdk.client import Client
from sdk.resources._base import Resource


def list_tags(client: Client, arn: str) -> dict[str, str]:
    answer = client.request("GET", api_path("tags", arn))
    return {tag["Key"]: tag["Value"] for tag in answer.get("Tags", [])}


def tag_resource(client: Client, arn: str, tags: Mapping[str, str]) -> None:
    body = {"Tags": [{"Key": key, "Value": value} for key, value in tags.items()]}
    client.request("POST", api_path("tags", arn), json_body=body)


def untag_resource(client: Client, arn: str, keys: Iterable[str]) -> None:
    client.request("DELETE", api_path("tags", arn), params={"tagKeys": list(keys)})


class TaggedResource(Resource):
    """A resource with an ARN: `tags`, `tag(...)`, `untag(...)`."""

    @property
    def arn(self) -> str:
        raise NotImplementedError

    @property
    def tags(self) -> dict[str, str]:
        return list_tags(self.client, self.arn)

    def tag(self, tags: Mapping[str, str] | None = None, **more: str) -> None:
        tag_resource(self.client, self.arn, {**(tags or {}), **more})

    def untag(self, *keys: str) -> None:
        untag_resource(self.client, self.arn, keys)

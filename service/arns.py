"""Amazon Resource Names of openlv resources, in Lookout for Vision's format."""

import re

from service.errors import ValidationException
from service.settings import Settings

_ARN = re.compile(r"^arn:aws:lookoutvision:(?P<region>[^:]*):(?P<account>\d{12}):(?P<kind>project|model)/(?P<path>.+)$")


def project_arn(settings: Settings, project: str) -> str:
    return f"arn:aws:lookoutvision:{settings.region}:{settings.account_id}:project/{project}"


def model_arn(settings: Settings, project: str, version: str) -> str:
    return f"arn:aws:lookoutvision:{settings.region}:{settings.account_id}:model/{project}/{version}"


def parse_arn(settings: Settings, arn: str) -> tuple[str, list[str]]:
    """('project', [name]) or ('model', [project, version]) for an ARN of this service, region and account."""
    match = _ARN.fullmatch(arn)
    if not match or match["region"] != settings.region or match["account"] != settings.account_id:
        raise ValidationException(f"{arn!r} is not a Lookout for Vision ARN of this service")
    parts = match["path"].split("/")
    if (match["kind"] == "project" and len(parts) != 1) or (match["kind"] == "model" and len(parts) != 2):
        raise ValidationException(f"{arn!r} is not a valid {match['kind']} ARN")
    return match["kind"], parts

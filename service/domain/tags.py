"""Tags on Lookout for Vision projects and models, with the AWS tagging limits."""

import unicodedata

from sqlalchemy import delete
from sqlmodel import Session, col, select

from service.arns import parse_arn
from service.db.models import Model, Project, Tag
from service.domain.training_runs import parse_version
from service.errors import ResourceNotFoundException, ServiceQuotaExceededException, ValidationException
from service.settings import Settings

MAX_TAGS = 50
MAX_KEY = 128
MAX_VALUE = 256
RESERVED_PREFIX = "aws:"
_PUNCTUATION = set("_.:/=+-@")


def _allowed(text: str) -> bool:
    """AWS's tag pattern `[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*`: letters, separators (spaces), numbers, some punctuation."""
    return all(char in _PUNCTUATION or unicodedata.category(char)[0] in "LZN" for char in text)


def validate_key(key: str) -> str:
    if not 1 <= len(key) <= MAX_KEY:
        raise ValidationException(f"Tag key {key!r} must be 1..{MAX_KEY} characters.")
    if not _allowed(key):
        raise ValidationException(f"Tag key {key!r} may hold only letters, numbers, spaces and _.:/=+-@.")
    if key.lower().startswith(RESERVED_PREFIX):
        raise ValidationException(f"Tag key {key!r} uses the reserved prefix 'aws:'.")
    return key


def validate_value(key: str, value: str) -> str:
    if len(value) > MAX_VALUE:
        raise ValidationException(f"The value of tag {key!r} must be at most {MAX_VALUE} characters.")
    if not _allowed(value):
        raise ValidationException(f"The value of tag {key!r} may hold only letters, numbers, spaces and _.:/=+-@.")
    return value


def ensure_resource(session: Session, *, settings: Settings, arn: str) -> None:
    """Refuse ARNs of other services, regions or accounts, and resources that do not exist."""
    kind, parts = parse_arn(settings, arn)
    if not _exists(session, kind, parts):
        raise ResourceNotFoundException(f"Resource {arn} does not exist.", resource_id=arn, resource_type=kind.upper())


def _exists(session: Session, kind: str, parts: list[str]) -> bool:
    project = session.exec(select(Project).where(Project.name == parts[0])).first()
    if project is None or kind == "project":
        return project is not None
    try:
        version = parse_version(parts[1])
    except ValidationException:
        return False
    query = select(Model.id).where(Model.project_id == project.id, Model.version == version)
    return session.exec(query).first() is not None


def list_tags(session: Session, *, settings: Settings, arn: str) -> dict[str, str]:
    ensure_resource(session, settings=settings, arn=arn)
    rows = session.exec(select(Tag).where(Tag.resource_arn == arn).order_by(col(Tag.key)))
    return {row.key: row.value for row in rows}


def tag_resource(session: Session, *, settings: Settings, arn: str, tags: list[tuple[str, str]]) -> None:
    """Add or overwrite tags; a resource holds at most `MAX_TAGS` of them."""
    keys = [key for key, _ in tags]
    if len(set(keys)) != len(keys):
        raise ValidationException("Each tag key may appear only once in a request.")
    for key, value in tags:
        validate_key(key)
        validate_value(key, value)
    ensure_resource(session, settings=settings, arn=arn)
    existing = {row.key: row for row in session.exec(select(Tag).where(Tag.resource_arn == arn))}
    if len(existing.keys() | set(keys)) > MAX_TAGS:
        raise ServiceQuotaExceededException(
            f"A resource can have at most {MAX_TAGS} tags.", resource_id=arn, resource_type="TAG", quota_code="tags"
        )
    for key, value in tags:
        row = existing.get(key) or Tag(resource_arn=arn, key=key, value=value)
        row.value = value
        session.add(row)
    session.flush()


def untag_resource(session: Session, *, settings: Settings, arn: str, keys: list[str]) -> None:
    """Remove tags by key; keys the resource does not have are ignored, as in AWS."""
    for key in keys:
        validate_key(key)
    ensure_resource(session, settings=settings, arn=arn)
    if keys:
        session.execute(delete(Tag).where(col(Tag.resource_arn) == arn, col(Tag.key).in_(keys)))
    session.flush()


def delete_resource_tags(session: Session, *, arn: str) -> None:
    """Forget a deleted resource's tags, so a new resource with the same ARN starts without them."""
    session.execute(delete(Tag).where(col(Tag.resource_arn) == arn))

"""Objects the caller names by bucket and key (manifests, images, masks, import folders, output locations).

With the S3 backend the service reads and writes any bucket its S3 credentials reach, fenced by LV_S3_ALLOWED_BUCKETS
when the operator set one; local storage holds only the service's own bucket. Every refusal (a bucket out of reach,
a missing object, S3's AccessDenied or NoSuchBucket) becomes a ValidationException naming the object and what it was
for; nothing here writes to the service's own records.
"""

from service.errors import ValidationException
from service.storage import (
    BucketUnavailable,
    ObjectAccessError,
    ObjectNotFoundError,
    ObjectStore,
    StorageKeyError,
    split_s3_uri,
)

_S3_REASONS = {
    "AccessDenied": "access denied (AccessDenied): the service's S3 credentials may not use it",
    "AllAccessDisabled": "access denied (AllAccessDisabled)",
    "NoSuchBucket": "its bucket does not exist (NoSuchBucket)",
    "InvalidBucketName": "the bucket name is not valid (InvalidBucketName)",
}


def store_for(store: ObjectStore, bucket: str, *, what: str) -> ObjectStore:
    """The store for `bucket`: the service's own store, or the same backend in the caller's bucket."""
    try:
        return store.in_bucket(bucket)
    except BucketUnavailable as exc:
        raise ValidationException(f"The {what} is in bucket {bucket!r}, which this service cannot use: {exc.reason}.")


def locate(store: ObjectStore, uri: str, *, what: str) -> tuple[ObjectStore, str]:
    """The store and key of an s3:// URI the caller gave."""
    try:
        bucket, key = split_s3_uri(uri)
    except StorageKeyError as exc:
        raise ValidationException(f"The {what} {uri!r} is not a usable S3 location: {exc}") from None
    return store_for(store, bucket, what=what), key


def refusal(exc: ObjectAccessError | ObjectNotFoundError, *, what: str, uri: str) -> ValidationException:
    if isinstance(exc, ObjectNotFoundError):
        return ValidationException(f"The {what} {uri} does not exist (NoSuchKey).")
    return ValidationException(f"The {what} {exc.uri} cannot be used: {_S3_REASONS.get(exc.code, exc.code)}.")


def read(store: ObjectStore, key: str, *, what: str) -> bytes:
    """The object's bytes; a missing or refused object is a ValidationException naming it."""
    try:
        return store.get(key)
    except (ObjectAccessError, ObjectNotFoundError) as exc:
        raise refusal(exc, what=what, uri=f"s3://{store.bucket}/{key}") from None


def write(store: ObjectStore, key: str, data: bytes, content_type: str, *, what: str) -> None:
    try:
        store.put(key, data, content_type)
    except (ObjectAccessError, ObjectNotFoundError) as exc:
        raise refusal(exc, what=what, uri=f"s3://{store.bucket}/{key}") from None

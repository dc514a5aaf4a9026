"""Object storage behind one small interface: local disk by default, S3-compatible through the minio client."""

from service.storage.base import ObjectStore, delete_quietly, split_s3_uri, validate_key
from service.storage.errors import (
    BucketUnavailable,
    ObjectAccessError,
    ObjectNotFoundError,
    StorageError,
    StorageKeyError,
)
from service.storage.factory import build_store

__all__ = [
    "BucketUnavailable",
    "ObjectAccessError",
    "ObjectNotFoundError",
    "ObjectStore",
    "StorageError",
    "StorageKeyError",
    "build_store",
    "delete_quietly",
    "split_s3_uri",
    "validate_key",
]

"""Object storage behind one small interface: local disk by default, S3-compatible through the minio client."""

from service.storage.base import (
    BucketUnavailable,
    ObjectAccessError,
    ObjectStore,
    StorageKeyError,
    split_s3_uri,
    validate_key,
)
from service.storage.factory import build_store

__all__ = [
    "BucketUnavailable",
    "ObjectAccessError",
    "ObjectStore",
    "StorageKeyError",
    "build_store",
    "split_s3_uri",
    "validate_key",
]

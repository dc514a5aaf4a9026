"""The storage interface and the key rules every backend shares."""

from collections.abc import Iterator
from typing import Protocol
from urllib.parse import unquote

from service.storage.errors import BucketUnavailable, ObjectAccessError, StorageKeyError

__all__ = ["BucketUnavailable", "ObjectAccessError", "ObjectStore", "delete_quietly", "split_s3_uri", "validate_key"]


class ObjectStore(Protocol):
    """A flat key -> bytes store inside one bucket. Writes are atomic: a reader sees all of an object or none."""

    bucket: str

    def in_bucket(self, bucket: str) -> "ObjectStore":
        """The same backend in another bucket (this store for its own bucket); raises `BucketUnavailable`."""
        ...

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None: ...

    def get(self, key: str) -> bytes:
        """The object's bytes; raises `ObjectNotFoundError` when there is none."""
        ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def list(self, prefix: str = "") -> Iterator[str]: ...

    def remove_partial_writes(self) -> int:
        """Delete what a write interrupted by a crash left behind; how many files. Only call it while idle."""
        ...


def delete_quietly(store: ObjectStore, keys: list[str]) -> None:
    """Delete those of `keys` that exist: objects a row no longer points at, or that a write left unrecorded."""
    for key in keys:
        if store.exists(key):
            store.delete(key)


def validate_key(key: str) -> str:
    """Refuse keys that could escape the root on any backend: absolute, `..` segments, backslashes, NUL, empty parts."""
    if not key or len(key) > 1024:
        raise StorageKeyError(f"invalid object key {key!r}: must be 1..1024 characters")
    if key.startswith("/") or "\\" in key or "\x00" in key:
        raise StorageKeyError(f"invalid object key {key!r}: absolute paths, backslashes and NUL are not allowed")
    parts = key.split("/")
    if any(part in ("", ".", "..") for part in parts[:-1]) or parts[-1] in (".", ".."):
        raise StorageKeyError(f"invalid object key {key!r}: '.', '..' and empty path segments are not allowed")
    return key


def split_s3_uri(uri: str) -> tuple[str, str]:
    """The bucket and the (checked) key of an `s3://bucket/key` URI."""
    if not uri.startswith("s3://"):
        raise StorageKeyError(f"invalid S3 URI {uri!r}: expected s3://<bucket>/<key>")
    bucket, _, key = uri[len("s3://") :].partition("/")
    if not bucket:
        raise StorageKeyError(f"invalid S3 URI {uri!r}: expected s3://<bucket>/<key>")
    return bucket, validate_key(unquote(key))

"""S3-compatible storage (AWS S3, MinIO, anything speaking the protocol) through the minio client.

The configured bucket is created if missing; other buckets (`in_bucket`: a customer's, named by a manifest or an
OutputConfig) are used as they are, never created, and only within `allowed_buckets` when the operator set one.
S3 refusals on an object (access denied, no such bucket) become `ObjectAccessError` naming the object.
"""

import io
from collections.abc import Iterator
from contextlib import contextmanager

from minio import Minio
from minio.error import S3Error

from service.storage.base import validate_key
from service.storage.errors import BucketUnavailable, ObjectAccessError, ObjectNotFoundError

_MISSING_KEY = ("NoSuchKey", "NoSuchObject", "NotFound")
_REFUSED = ("AccessDenied", "NoSuchBucket", "AllAccessDisabled", "InvalidBucketName", "AccountProblem")


class S3Store:
    def __init__(
        self, client: Minio, bucket: str, *, allowed_buckets: frozenset[str] | None = None, create: bool = True
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.allowed_buckets = allowed_buckets
        if create and not client.bucket_exists(bucket):
            client.make_bucket(bucket)

    def in_bucket(self, bucket: str) -> "S3Store":
        if bucket == self.bucket:
            return self
        if self.allowed_buckets is not None and bucket not in self.allowed_buckets:
            allowed = ", ".join(sorted(self.allowed_buckets)) or "none"
            raise BucketUnavailable(
                f"the operator allows buckets {self.bucket!r} and LV_S3_ALLOWED_BUCKETS ({allowed}) only"
            )
        return S3Store(self.client, bucket, allowed_buckets=self.allowed_buckets, create=False)

    @contextmanager
    def _refusals(self, key: str) -> Iterator[None]:
        try:
            yield
        except S3Error as exc:
            if exc.code in _MISSING_KEY:
                raise ObjectNotFoundError(self.bucket, key) from None
            if exc.code in _REFUSED:
                raise ObjectAccessError(exc.code, f"s3://{self.bucket}/{key}") from None
            raise

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        with self._refusals(key):
            self.client.put_object(
                self.bucket, validate_key(key), io.BytesIO(data), length=len(data), content_type=content_type
            )

    def get(self, key: str) -> bytes:
        with self._refusals(key):
            response = self.client.get_object(self.bucket, validate_key(key))
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    def exists(self, key: str) -> bool:
        try:
            with self._refusals(key):
                self.client.stat_object(self.bucket, validate_key(key))
        except ObjectNotFoundError:
            return False
        return True

    def delete(self, key: str) -> None:
        with self._refusals(key):
            self.client.remove_object(self.bucket, validate_key(key))

    def list(self, prefix: str = "") -> Iterator[str]:
        with self._refusals(prefix):
            for item in self.client.list_objects(self.bucket, prefix=prefix or None, recursive=True):
                if item.object_name is not None:
                    yield item.object_name

    def remove_partial_writes(self) -> int:
        """S3 writes an object whole or not at all; an interrupted write leaves nothing."""
        return 0

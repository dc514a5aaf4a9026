"""S3-compatible storage (AWS S3, MinIO, anything speaking the protocol) through the minio client."""

import io
from collections.abc import Iterator

from minio import Minio
from minio.error import S3Error

from service.storage.base import validate_key
from service.storage.errors import ObjectNotFoundError


class S3Store:
    def __init__(self, client: Minio, bucket: str) -> None:
        self.client = client
        self.bucket = bucket
        if not client.bucket_exists(bucket):
            client.make_bucket(bucket)

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        self.client.put_object(
            self.bucket, validate_key(key), io.BytesIO(data), length=len(data), content_type=content_type
        )

    def get(self, key: str) -> bytes:
        try:
            response = self.client.get_object(self.bucket, validate_key(key))
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject"):
                raise ObjectNotFoundError(self.bucket, key) from None
            raise
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    def exists(self, key: str) -> bool:
        try:
            self.client.stat_object(self.bucket, validate_key(key))
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject", "NotFound"):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        self.client.remove_object(self.bucket, validate_key(key))

    def list(self, prefix: str = "") -> Iterator[str]:
        for item in self.client.list_objects(self.bucket, prefix=prefix or None, recursive=True):
            if item.object_name is not None:
                yield item.object_name

    def remove_partial_writes(self) -> int:
        """S3 writes an object whole or not at all; an interrupted write leaves nothing."""
        return 0

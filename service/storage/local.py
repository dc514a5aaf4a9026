"""Local filesystem storage: one folder is the bucket; writes go to a temp file and are renamed into place."""

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from service.storage.base import validate_key
from service.storage.errors import BucketUnavailable, ObjectNotFoundError, StorageKeyError


class LocalStore:
    def __init__(self, root: Path, bucket: str) -> None:
        self.root = root.resolve()
        self.bucket = bucket
        self.root.mkdir(parents=True, exist_ok=True)

    def in_bucket(self, bucket: str) -> "LocalStore":
        if bucket != self.bucket:
            raise BucketUnavailable(
                f"this service uses local storage, which holds only bucket {self.bucket!r} (the S3 backend, "
                "LV_STORAGE_BACKEND=s3, reads and writes other buckets)"
            )
        return self

    def _path(self, key: str) -> Path:
        path = (self.root / validate_key(key)).resolve()
        if not path.is_relative_to(self.root):
            raise StorageKeyError(f"object key {key!r} leaves the storage root")
        return path

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        del content_type
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            raise ObjectNotFoundError(self.bucket, key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def list(self, prefix: str = "") -> Iterator[str]:
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and not path.name.startswith(".tmp-"):
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    yield key

    def remove_partial_writes(self) -> int:
        removed = 0
        for path in list(self.root.rglob(".tmp-*")):
            if path.is_file():
                path.unlink(missing_ok=True)
                removed += 1
        return removed

"""Storage's own errors. They never reach a caller as such: the domain decides what each one means to the caller (a
manifest the caller named that is missing is their mistake; a missing internal file is the service's), and anything
left unhandled is an internal error that names no bucket or key."""


class StorageError(Exception):
    """Base of every error the object stores raise on purpose."""


class StorageKeyError(StorageError):
    """A key or s3:// URI that is malformed, names another bucket, or tries to leave the storage root."""


class ObjectNotFoundError(StorageError):
    """No object is stored under the key."""

    def __init__(self, bucket: str, key: str) -> None:
        super().__init__(f"object s3://{bucket}/{key} does not exist")
        self.bucket = bucket
        self.key = key


class BucketUnavailable(StorageError):
    """A bucket this store cannot reach: local storage holds one bucket, and an S3 allow-list may fence others off."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ObjectAccessError(StorageError):
    """S3 refused an object or its bucket: `code` is S3's (AccessDenied, NoSuchBucket...), `uri` names the object."""

    def __init__(self, code: str, uri: str) -> None:
        super().__init__(f"{code}: {uri}")
        self.code = code
        self.uri = uri

"""Builds the configured storage backend."""

from minio import Minio

from service.settings import Settings
from service.storage.base import ObjectStore
from service.storage.local import LocalStore
from service.storage.s3 import S3Store


def build_store(settings: Settings) -> ObjectStore:
    if settings.storage_backend == "local":
        return LocalStore(settings.local_storage_root, settings.storage_bucket)
    if not settings.s3_endpoint:
        raise ValueError("LV_STORAGE_BACKEND=s3 needs LV_S3_ENDPOINT (host:port)")
    client = Minio(
        settings.s3_endpoint,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key,
        secure=settings.s3_secure,
        region=settings.s3_region,
    )
    return S3Store(client, settings.storage_bucket, allowed_buckets=settings.allowed_buckets)

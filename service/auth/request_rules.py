"""What a request may carry, by operation: its body's size limit and whether its payload may go unsigned.

The operations with rules of their own are recognised by method and path (`operation_of`), so the same answer is
available before routing (the body check runs in middleware) and after. Every other operation gets `JSON_BODY_LIMIT`. Only the multipart upload streams an unsigned payload (as S3 allows for large
uploads); anywhere else `UNSIGNED-PAYLOAD` would let a captured request be replayed with another body while its
signature is fresh, so it is refused. This module decides; it never reads a body.
"""

import re

from service.domain.manifests import MAX_MANIFEST_BYTES
from service.domain.uploads import MAX_IMAGES_PER_UPLOAD
from service.errors import AccessDeniedException
from service.settings import Settings

JSON_BODY_LIMIT = 1024 * 1024
_ENVELOPE = 1024 * 1024
UNSIGNED_PAYLOAD_OPERATIONS = frozenset({"upload_dataset_images"})
_SEGMENT = "[^/]+"
_OPERATIONS = {
    ("POST", re.compile(f"/2020-11-20/projects/{_SEGMENT}/models/{_SEGMENT}/detect")): "detect_anomalies",
    ("PATCH", re.compile(f"/2020-11-20/projects/{_SEGMENT}/datasets/{_SEGMENT}/entries")): "update_dataset_entries",
    ("POST", re.compile(f"/2020-11-20/projects/{_SEGMENT}/datasets/{_SEGMENT}/images")): "upload_dataset_images",
}


def operation_of(method: str, path: str) -> str | None:
    """The operation of a request when it is one with rules of its own (named like its route), else None."""
    for (expected_method, pattern), name in _OPERATIONS.items():
        if method == expected_method and pattern.fullmatch(path):
            return name
    return None


def body_limit(operation: str | None, settings: Settings) -> int:
    """The most bytes the operation's request body may hold."""
    if operation == "detect_anomalies":
        return settings.max_image_bytes
    if operation == "update_dataset_entries":
        return MAX_MANIFEST_BYTES * 4 // 3 + _ENVELOPE  # the manifest travels base64-encoded in JSON
    if operation == "upload_dataset_images":
        return MAX_IMAGES_PER_UPLOAD * 2 * settings.max_image_bytes + _ENVELOPE  # an image and a mask each
    return JSON_BODY_LIMIT


def check_payload_rules(*, operation: str | None, unsigned_payload: bool, region: str, settings: Settings) -> None:
    """Refuse an unsigned payload outside the upload, and a credential scoped to another region."""
    if unsigned_payload and operation not in UNSIGNED_PAYLOAD_OPERATIONS:
        raise AccessDeniedException(
            "UNSIGNED-PAYLOAD is accepted only on UploadDatasetImages; sign the body (X-Amz-Content-SHA256)."
        )
    if region != settings.region:
        raise AccessDeniedException(
            f"Credential should be scoped to a valid region: this service is in {settings.region!r}, not {region!r}."
        )

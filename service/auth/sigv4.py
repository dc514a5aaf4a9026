"""Verifies AWS Signature Version 4 exactly as boto3 signs requests.

Rather than re-implementing SigV4, the expected signature is computed with botocore's `SigV4Auth` from the request as
received (method, path, query, the headers the client says it signed, the payload hash) and compared in constant time.
The signing key (four HMACs of the secret, the date, the region and the service) changes once a day per key, so it is
derived once and kept (`signing_key`).
"""

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from service.errors import AccessDeniedException

SERVICE_NAME = "lookoutvision"
MAX_CLOCK_SKEW = timedelta(minutes=15)
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"

_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+),\s*SignedHeaders=(?P<headers>[^,\s]+),\s*"
    r"Signature=(?P<signature>[0-9a-f]{64})$"
)


@dataclass(frozen=True)
class SignedRequest:
    """The parts of an HTTP request that SigV4 covers."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Authorization:
    access_key_id: str
    region: str
    signed_headers: list[str]
    signature: str
    timestamp: str


class _ReceivedRequestSigner(SigV4Auth):
    """botocore's signer, fed the payload hash and timestamp of the received request."""

    def __init__(self, credentials: Credentials, region: str, payload_hash: str) -> None:
        super().__init__(credentials, SERVICE_NAME, region)
        self._payload_hash = payload_hash

    def payload(self, request: AWSRequest) -> str:
        return self._payload_hash

    def signature(self, string_to_sign: str, request: AWSRequest) -> str:
        key = signing_key(self.credentials.secret_key, request.context["timestamp"][0:8], self._region_name)
        return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()

    def expected_signature(self, request: AWSRequest, timestamp: str) -> str:
        request.context["timestamp"] = timestamp
        canonical = self.canonical_request(request)
        return self.signature(self.string_to_sign(request, canonical), request)


@lru_cache(maxsize=1024)
def signing_key(secret_key: str, date: str, region: str) -> bytes:
    """SigV4's derived key for one secret, day (YYYYMMDD) and region."""
    key = f"AWS4{secret_key}".encode()
    for part in (date, region, SERVICE_NAME, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def parse_authorization(request: SignedRequest, now: datetime | None = None) -> Authorization:
    """Parse and sanity-check the Authorization header; the signature itself is checked by `verify`."""
    header = request.headers.get("authorization")
    if not header:
        raise AccessDeniedException("Missing Authentication Token: requests must be signed with AWS Signature V4.")
    match = _AUTHORIZATION.fullmatch(header.strip())
    if not match:
        raise AccessDeniedException("Authorization header is not a valid AWS4-HMAC-SHA256 signature.")
    parts = match["credential"].split("/")
    if len(parts) != 5 or parts[3] != SERVICE_NAME or parts[4] != "aws4_request":
        raise AccessDeniedException(f"Credential should be scoped to the {SERVICE_NAME} service.")
    access_key_id, date, region = parts[0], parts[1], parts[2]
    timestamp = request.headers.get("x-amz-date", "")
    try:
        signed_at = datetime.strptime(timestamp, SIGV4_TIMESTAMP).replace(tzinfo=UTC)
    except ValueError:
        raise AccessDeniedException("X-Amz-Date header is missing or malformed.") from None
    if not timestamp.startswith(date):
        raise AccessDeniedException("Credential date does not match X-Amz-Date.")
    if abs((now or datetime.now(UTC)) - signed_at) > MAX_CLOCK_SKEW:
        raise AccessDeniedException("Signature expired: the request time is more than 15 minutes from the server time.")
    signed_headers = match["headers"].split(";")
    if "host" not in signed_headers:
        raise AccessDeniedException("The host header must be signed.")
    missing = [name for name in signed_headers if name not in request.headers]
    if missing:
        raise AccessDeniedException(f"Signed headers missing from the request: {', '.join(missing)}.")
    return Authorization(access_key_id, region, signed_headers, match["signature"], timestamp)


def verify(request: SignedRequest, authorization: Authorization, secret_key: str) -> None:
    """Raise AccessDeniedException unless the request carries a valid signature for `secret_key`."""
    declared_hash = request.headers.get("x-amz-content-sha256")
    if declared_hash == UNSIGNED_PAYLOAD:
        payload_hash = UNSIGNED_PAYLOAD
    else:
        payload_hash = hashlib.sha256(request.body).hexdigest()
        if declared_hash not in (None, payload_hash):
            raise AccessDeniedException("The x-amz-content-sha256 header does not match the request body.")
    headers = {name: request.headers[name] for name in authorization.signed_headers}
    aws_request = AWSRequest(method=request.method, url=request.url, headers=headers)
    signer = _ReceivedRequestSigner(
        Credentials(authorization.access_key_id, secret_key), authorization.region, payload_hash
    )
    expected = signer.expected_signature(aws_request, authorization.timestamp)
    if not hmac.compare_digest(expected, authorization.signature):
        raise AccessDeniedException(
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method."
        )

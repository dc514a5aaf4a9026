"""Signing raw HTTP requests for the service with botocore's SigV4 signer, for tests that go below boto3."""

from datetime import UTC, datetime

from botocore.auth import SIGV4_TIMESTAMP, UNSIGNED_PAYLOAD, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SERVICE_NAME = "lookoutvision"


class _Signer(SigV4Auth):
    """botocore's signer with a chosen clock and, optionally, an unsigned payload."""

    def __init__(self, credentials: Credentials, region: str, *, unsigned_payload: bool, at: datetime | None) -> None:
        super().__init__(credentials, SERVICE_NAME, region)
        self._unsigned_payload = unsigned_payload
        self._at = at

    def payload(self, request: AWSRequest) -> str:
        return UNSIGNED_PAYLOAD if self._unsigned_payload else super().payload(request)

    def add_auth(self, request: AWSRequest) -> None:
        request.context["timestamp"] = (self._at or datetime.now(UTC)).strftime(SIGV4_TIMESTAMP)
        self._modify_request_before_signing(request)
        signature = self.signature(self.string_to_sign(request, self.canonical_request(request)), request)
        self._inject_signature_to_request(request, signature)


def signed_headers(
    method: str,
    url: str,
    *,
    access_key_id: str,
    secret_access_key: str,
    region: str = "us-east-1",
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    unsigned_payload: bool = False,
    at: datetime | None = None,
) -> dict[str, str]:
    """`headers` plus `Authorization` and `X-Amz-Date` (and `X-Amz-Content-SHA256` when the payload is unsigned)."""
    request_headers = dict(headers or {})
    if unsigned_payload:
        request_headers["X-Amz-Content-SHA256"] = UNSIGNED_PAYLOAD
    request = AWSRequest(method=method, url=url, headers=request_headers, data=body)
    signer = _Signer(Credentials(access_key_id, secret_access_key), region, unsigned_payload=unsigned_payload, at=at)
    signer.add_auth(request)
    return dict(request.headers.items())

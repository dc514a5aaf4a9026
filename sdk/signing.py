"""SigV4 signing of SDK requests with botocore's signer, as boto3 signs them."""

from botocore.auth import UNSIGNED_PAYLOAD, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from sdk.credentials import ResolvedCredentials

SERVICE_NAME = "lookoutvision"


class _UnsignedPayloadSigV4(SigV4Auth):  # type: ignore[misc]  # botocore ships no type hints
    """Signs headers but not the body, for streaming uploads (the service accepts UNSIGNED-PAYLOAD like S3)."""

    def payload(self, request: AWSRequest) -> str:
        return str(UNSIGNED_PAYLOAD)


def sign(
    *,
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
    credentials: ResolvedCredentials,
    region: str,
    unsigned_payload: bool = False,
) -> dict[str, str]:
    """The request's headers with `Authorization`, `X-Amz-Date` (and the payload header when unsigned) added."""
    request_headers = dict(headers)
    if unsigned_payload:
        request_headers["X-Amz-Content-SHA256"] = UNSIGNED_PAYLOAD
    request = AWSRequest(method=method, url=url, headers=request_headers, data=b"" if unsigned_payload else body)
    botocore_credentials = Credentials(
        credentials.access_key_id, credentials.secret_access_key, credentials.session_token
    )
    signer_class = _UnsignedPayloadSigV4 if unsigned_payload else SigV4Auth
    signer_class(botocore_credentials, SERVICE_NAME, region).add_auth(request)
    return dict(request.headers.items())

"""The HTTP plumbing shared by the sync and async clients: configuration, signing, retry policy, error mapping."""

import json
import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from sdk.credentials import ResolvedCredentials, resolve_credentials, resolve_endpoint, resolve_region
from sdk.errors import AccessDeniedError, APIError, error_from_response
from sdk.signing import sign

API_PREFIX = "/2020-11-20"
RETRYABLE_STATUS = {429, 500, 502, 503, 504}


@dataclass(frozen=True)
class ClientConfig:
    endpoint_url: str
    region: str
    credentials: ResolvedCredentials | None
    timeout: float
    max_retries: int

    @classmethod
    def resolve(
        cls,
        *,
        endpoint_url: str | None,
        region: str | None,
        access_key_id: str | None,
        secret_access_key: str | None,
        profile: str | None,
        timeout: float,
        max_retries: int,
    ) -> "ClientConfig":
        return cls(
            endpoint_url=resolve_endpoint(endpoint_url),
            region=resolve_region(region, profile),
            credentials=resolve_credentials(access_key_id, secret_access_key, profile),
            timeout=timeout,
            max_retries=max_retries,
        )


@dataclass(frozen=True)
class PreparedRequest:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes


def api_path(*segments: str) -> str:
    """`/2020-11-20/seg/seg` with every segment percent-encoded (project names, ARNs...)."""
    return API_PREFIX + "".join("/" + quote(segment, safe="") for segment in segments)


def prepare(
    config: ClientConfig,
    method: str,
    path: str,
    *,
    params: dict[str, Any] | None = None,
    json_body: Any = None,
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
    unsigned_payload: bool = False,
) -> PreparedRequest:
    query = sorted(
        (key, _query_value(item))
        for key, value in (params or {}).items()
        if value is not None
        for item in (value if isinstance(value, list | tuple) else [value])
    )
    url = config.endpoint_url + path + (("?" + urlencode(query, quote_via=quote)) if query else "")
    request_headers = dict(headers or {})
    body = content or b""
    if json_body is not None:
        body = json.dumps(json_body).encode()
        request_headers.setdefault("Content-Type", "application/json")
    if config.credentials is None:
        raise AccessDeniedError(
            "No credentials found: pass access_key_id/secret_access_key, set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or "
            "a profile, or run next to `make serve` (it writes lv-home/credentials).",
            status=0,
        )
    signed = sign(
        method=method,
        url=url,
        headers=request_headers,
        body=body,
        credentials=config.credentials,
        region=config.region,
        unsigned_payload=unsigned_payload,
    )
    return PreparedRequest(method=method, url=url, headers=signed, body=body)


def _query_value(value: Any) -> str:
    """Query strings as rest-json writes them: booleans lower-case, datetimes ISO 8601, lists as repeated keys."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_response(response: httpx.Response) -> dict[str, Any]:
    """The JSON body of a success, or raise the mapped APIError."""
    if response.status_code < 300:
        if not response.content:
            return {}
        parsed: dict[str, Any] = response.json()
        return parsed
    try:
        body = response.json()
    except ValueError:
        body = {"Message": response.text[:500]}
    headers = {name.lower(): value for name, value in response.headers.items()}
    raise error_from_response(response.status_code, headers, body if isinstance(body, dict) else {})


def should_retry(error: APIError | httpx.TransportError, attempt: int, max_retries: int) -> bool:
    if attempt >= max_retries:
        return False
    if isinstance(error, httpx.TransportError):
        return True
    return error.status in RETRYABLE_STATUS


def backoff_seconds(error: APIError | httpx.TransportError, attempt: int) -> float:
    """Honour Retry-After when the service sends it; otherwise exponential backoff with full jitter, capped at 20 s."""
    if isinstance(error, APIError) and "RetryAfterSeconds" in error.body:
        try:
            return min(float(error.body["RetryAfterSeconds"]), 60.0)
        except (TypeError, ValueError):
            pass
    return random.uniform(0, min(20.0, 0.25 * 2**attempt))

"""`Client` and `AsyncClient`: signed HTTP to an openlv service with retries and typed errors."""

import asyncio
import time
from typing import Any, Self

import httpx

from sdk._transport import (
    ClientConfig,
    PreparedRequest,
    backoff_seconds,
    parse_response,
    prepare,
    should_retry,
)
from sdk.errors import APIConnectionError, APIError


class _ClientBase:
    """Configuration shared by both clients.

    Everything falls back to the environment: the endpoint to `LV_ENDPOINT_URL` (else http://127.0.0.1:8642), the
    credentials to the usual AWS sources (env vars, shared credentials file, `profile`) and then to the credentials file
    `lv server` writes, the region to the AWS config (else us-east-1).
    """

    def __init__(
        self,
        endpoint_url: str | None = None,
        *,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        profile: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 4,
    ) -> None:
        self.config = ClientConfig.resolve(
            endpoint_url=endpoint_url,
            region=region,
            access_key_id=access_key_id,
            secret_access_key=secret_access_key,
            profile=profile,
            timeout=timeout,
            max_retries=max_retries,
        )
        self._open_http()

    def _open_http(self) -> None:
        raise NotImplementedError


class Client(_ClientBase):
    """A synchronous openlv client (see `_ClientBase` for where its settings come from)."""

    def _open_http(self) -> None:
        self._http = httpx.Client(timeout=self.config.timeout)

    def request(self, method: str, path: str, **options: Any) -> dict[str, Any]:
        """Send a signed request to `path` (e.g. `/2020-11-20/projects`) and return the JSON answer."""
        attempt = 0
        while True:
            prepared = prepare(self.config, method, path, **options)
            try:
                return parse_response(self._send(prepared))
            except (APIError, httpx.TransportError) as error:
                if not should_retry(error, attempt, self.config.max_retries):
                    if isinstance(error, httpx.TransportError):
                        raise APIConnectionError(f"cannot reach {self.config.endpoint_url}: {error}") from error
                    raise
                time.sleep(backoff_seconds(error, attempt))
                attempt += 1

    def _send(self, prepared: PreparedRequest) -> httpx.Response:
        return self._http.request(prepared.method, prepared.url, headers=prepared.headers, content=prepared.body)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncClient(_ClientBase):
    """The asyncio twin of `Client`, with the same fallbacks, retries and errors."""

    def _open_http(self) -> None:
        self._http = httpx.AsyncClient(timeout=self.config.timeout)

    async def request(self, method: str, path: str, **options: Any) -> dict[str, Any]:
        attempt = 0
        while True:
            prepared = prepare(self.config, method, path, **options)
            try:
                response = await self._http.request(
                    prepared.method, prepared.url, headers=prepared.headers, content=prepared.body
                )
                return parse_response(response)
            except (APIError, httpx.TransportError) as error:
                if not should_retry(error, attempt, self.config.max_retries):
                    if isinstance(error, httpx.TransportError):
                        raise APIConnectionError(f"cannot reach {self.config.endpoint_url}: {error}") from error
                    raise
                await asyncio.sleep(backoff_seconds(error, attempt))
                attempt += 1

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

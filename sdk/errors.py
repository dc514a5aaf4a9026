"""One exception tree for the SDK, mapped from the AWS error shapes the service sends."""

from typing import Any


class LookoutVisionError(Exception):
    """Base of every SDK error."""


class APIConnectionError(LookoutVisionError):
    """The service could not be reached (refused, timed out, DNS)."""


class WaiterTimeoutError(LookoutVisionError):
    """A waiter gave up before the resource reached the wanted state."""


class ResourceFailedError(LookoutVisionError):
    """A waiter saw the resource reach a failed state (TRAINING_FAILED, HOSTING_FAILED...)."""


class APIError(LookoutVisionError):
    """The service answered with an error. `code` is the AWS error code, `status` the HTTP status."""

    code = "InternalServerException"

    def __init__(self, message: str, *, status: int, code: str | None = None, body: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code or type(self).code
        self.body = body or {}

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class AccessDeniedError(APIError):
    code = "AccessDeniedException"


class ValidationError(APIError):
    code = "ValidationException"


class NotFoundError(APIError):
    code = "ResourceNotFoundException"


class ConflictError(APIError):
    code = "ConflictException"


class QuotaExceededError(APIError):
    code = "ServiceQuotaExceededException"


class ThrottlingError(APIError):
    code = "ThrottlingException"

    @property
    def retry_after(self) -> float | None:
        value = self.body.get("RetryAfterSeconds")
        return float(value) if value is not None else None


class InternalServerError(APIError):
    code = "InternalServerException"


_BY_CODE: dict[str, type[APIError]] = {
    cls.code: cls
    for cls in (
        AccessDeniedError,
        ValidationError,
        NotFoundError,
        ConflictError,
        QuotaExceededError,
        ThrottlingError,
        InternalServerError,
    )
}


def error_from_response(status: int, headers: dict[str, str], body: dict[str, Any]) -> APIError:
    """Build the right exception from an error response (code from `x-amzn-ErrorType`, else `__type`)."""
    raw_code = headers.get("x-amzn-errortype") or str(body.get("__type", "")) or "InternalServerException"
    code = raw_code.split(":")[0].split("#")[-1]
    message = str(body.get("Message") or body.get("message") or f"HTTP {status}")
    if "retry-after" in headers:
        body = {**body, "RetryAfterSeconds": headers["retry-after"]}
    cls = _BY_CODE.get(code)
    if cls is None:
        cls = ValidationError if 400 <= status < 500 else InternalServerError
    return cls(message, status=status, code=code, body=body)


class NoHostedModelError(LookoutVisionError):
    """A project was asked for its hosted model but hosts none, or several (name a model version)."""

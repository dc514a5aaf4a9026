"""The one error tree of the service, named after the AWS Lookout for Vision error shapes.

Domain code raises these; one handler in the app turns them into the rest-json error botocore parses
(`x-amzn-ErrorType` header, `{"__type": ..., "Message": ...}` body), so boto3 raises `ClientError` with the right code.
"""

from typing import Any


class ServiceError(Exception):
    code: str = "InternalServerException"
    status: int = 500

    def __init__(self, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields = {key: value for key, value in fields.items() if value is not None}

    @property
    def headers(self) -> dict[str, str]:
        return {}


class AccessDeniedException(ServiceError):
    code, status = "AccessDeniedException", 403


class ValidationException(ServiceError):
    code, status = "ValidationException", 400


class UnknownOperationException(ValidationException):
    code = "UnknownOperationException"


class PayloadTooLargeException(ValidationException):
    """A body over its operation's limit, refused before it is read (HTTP 413, the ValidationException shape)."""

    status = 413


class ResourceNotFoundException(ServiceError):
    code, status = "ResourceNotFoundException", 404

    def __init__(self, message: str, *, resource_id: str | None = None, resource_type: str | None = None) -> None:
        super().__init__(message, ResourceId=resource_id, ResourceType=resource_type)


class ConflictException(ServiceError):
    code, status = "ConflictException", 409

    def __init__(self, message: str, *, resource_id: str | None = None, resource_type: str | None = None) -> None:
        super().__init__(message, ResourceId=resource_id, ResourceType=resource_type)


class ServiceQuotaExceededException(ServiceError):
    code, status = "ServiceQuotaExceededException", 402

    def __init__(
        self, message: str, *, resource_id: str | None = None, resource_type: str | None = None, quota_code: str = ""
    ) -> None:
        super().__init__(
            message,
            ResourceId=resource_id,
            ResourceType=resource_type,
            QuotaCode=quota_code,
            ServiceCode="lookoutvision",
        )


class ThrottlingException(ServiceError):
    code, status = "ThrottlingException", 429

    def __init__(self, message: str, *, retry_after_seconds: int = 1, quota_code: str = "") -> None:
        super().__init__(message, QuotaCode=quota_code, ServiceCode="lookoutvision")
        self.retry_after_seconds = retry_after_seconds

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_seconds)}


class InternalServerException(ServiceError):
    code, status = "InternalServerException", 500

"""Opaque NextToken pagination: the token is a signed-free, base64url JSON cursor the client must not interpret."""

import base64
import binascii
import json
from typing import Any

from service.errors import ValidationException

MAX_RESULTS = 100


def encode_token(cursor: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(cursor, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_token(token: str | None, *, expected_keys: set[str]) -> dict[str, Any] | None:
    if not token:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        cursor = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ValidationException("Invalid NextToken: pass the NextToken of a previous response unchanged.") from None
    if not isinstance(cursor, dict) or set(cursor) != expected_keys:
        raise ValidationException("Invalid NextToken: pass the NextToken of a previous response unchanged.")
    return cursor


def page_size(max_results: int | None) -> int:
    if max_results is None:
        return MAX_RESULTS
    if not 1 <= max_results <= MAX_RESULTS:
        raise ValidationException(f"MaxResults must be between 1 and {MAX_RESULTS}; got {max_results}.")
    return max_results

"""The API's own description: `/openapi.json` for signed callers, and `/docs` too when LV_PUBLIC_API_DOCS is set.

The document lists every operation and its parameters, which an anonymous caller has no need to read; a browser
cannot sign SigV4, so the interactive page is served only when a deployment asks for public docs.
"""

from typing import Any

from fastapi import Depends, FastAPI

from service.auth.dependency import require_signature
from service.settings import Settings

OPENAPI_PATH = "/openapi.json"


def docs_urls(settings: Settings) -> dict[str, str | None]:
    """FastAPI's own documentation routes: all of them when public, none otherwise."""
    if settings.public_api_docs:
        return {"openapi_url": OPENAPI_PATH, "docs_url": "/docs", "redoc_url": None}
    return {"openapi_url": None, "docs_url": None, "redoc_url": None}


def add_signed_openapi(app: FastAPI, settings: Settings) -> None:
    """Serve the OpenAPI document to signed requests when it is not public."""
    if settings.public_api_docs:
        return

    def describe_api() -> dict[str, Any]:
        return app.openapi()

    app.add_api_route(
        OPENAPI_PATH, describe_api, methods=["GET"], dependencies=[Depends(require_signature)], include_in_schema=False
    )

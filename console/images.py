"""Image routes of the console (session only): thumbnails and full images of entries and detections, and the
algorithms the training form offers. Thin: the work is in `console.thumbnails` and the engine registry."""

from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from console import thumbnails
from console.access import pages_for, role_of
from console.pages import signed_in
from service.context import AppContext
from service.db.engine import transaction
from service.errors import AccessDeniedException

router = APIRouter(prefix="/console", include_in_schema=False)
CACHE = "private, max-age=86400"


def _context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    session = signed_in(request)
    if session is None or not pages_for(role_of(context, session.access_key_id)):
        raise AccessDeniedException("Sign in to the console first.")
    return context


@router.get("/projects/{project}/image")
async def entry_image(
    request: Request, project: str, ref: str = Query(max_length=2048), size: str = Query("thumb", pattern="^(thumb|full)$")
) -> Response:
    context = _context(request)

    def load() -> tuple[bytes, str]:
        with transaction(context.engine) as session:
            image = thumbnails.entry_image(session, project_name=project, source_ref=ref)
        if size == "thumb":
            return thumbnails.thumbnail(context.store, image), "image/jpeg"
        return context.store.get(image.key), "image/png" if image.format == "png" else "image/jpeg"

    data, media_type = await run_in_threadpool(load)
    return Response(data, media_type=media_type, headers={"Cache-Control": CACHE})


@router.get("/projects/{project}/detections/{detection_id}/image")
async def detection_image(request: Request, project: str, detection_id: int) -> Response:
    context = _context(request)

    def load() -> bytes:
        with transaction(context.engine) as session:
            key = thumbnails.detection_image_key(session, project_name=project, detection_id=detection_id)
        return context.store.get(key)

    data = await run_in_threadpool(load)
    media_type = "image/png" if data[:4] == b"\x89PNG" else "image/jpeg"
    return Response(data, media_type=media_type, headers={"Cache-Control": CACHE})


@lru_cache(maxsize=1)
def _algorithms() -> dict[str, Any]:
    """The engine's models (importing the engine costs seconds once, so the training page asks for them later)."""
    from service.domain.algorithms import default_algorithm
    from service.engine import registry

    return {
        "Default": default_algorithm(),
        "Algorithms": [
            {"Name": spec.name, "Description": spec.description, "NeedsPretrained": spec.needs_pretrained}
            for spec in registry.list_models()
        ],
    }


@router.get("/algorithms")
async def algorithms(request: Request) -> dict[str, Any]:
    _context(request)
    return await run_in_threadpool(_algorithms)

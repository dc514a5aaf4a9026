"""Image routes of the console (session only): thumbnails, full images and heatmaps of entries and detections, and
the algorithms the training form offers. Thin: the work is in `console.thumbnails`, `console.heatmaps` and the
engine registry."""

from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from console import access, thumbnails
from console.heatmaps import Heatmaps
from console.pages import signed_in
from service.auth.session import authenticate
from service.context import AppContext
from service.db.engine import transaction
from service.db.models import Model
from service.domain import training_runs
from service.domain.images import decode_image
from service.errors import AccessDeniedException, ConflictException

router = APIRouter(prefix="/console", include_in_schema=False)
CACHE = "private, max-age=300"


def _context(request: Request) -> AppContext:
    """The context for a signed-in admin (these images serve the admin pages; a reviewer's task carries its own
    images); a POST also needs the session's CSRF token."""
    context: AppContext = request.app.state.context
    session = signed_in(request)
    if session is None:
        raise AccessDeniedException("Sign in to the console first.")
    if access.role_of(context, session.access_key_id) != access.ADMIN:
        raise AccessDeniedException("Only admin keys see dataset, model and detection images.")
    if request.method == "POST" and context.settings.auth_enabled:
        authenticate(request, context.keys)
    return context


def _trained_model(context: AppContext, project: str, version: str) -> Model:
    with transaction(context.engine) as session:
        model = training_runs.get_model(session, project_name=project, version=version)
    if model.status in ("TRAINING", "TRAINING_FAILED", "DELETING"):
        raise ConflictException(f"Model {model.version} has no exported artefacts (status {model.status}).")
    return model


def _heatmaps(request: Request) -> Heatmaps:
    return request.app.state.console_heatmaps


@router.get("/projects/{project}/image")
async def entry_image(
    request: Request,
    project: str,
    ref: str = Query(max_length=2048),
    size: str = Query("thumb", pattern="^(thumb|full)$"),
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


@router.get("/projects/{project}/models/{version}/heatmap")
async def entry_heatmap(request: Request, project: str, version: str, ref: str = Query(max_length=2048)) -> Response:
    """The model's heatmap of a dataset image (see-through PNG at the image's size), made once and kept."""
    context = _context(request)

    def render() -> bytes:
        model = _trained_model(context, project, version)
        with transaction(context.engine) as session:
            image = thumbnails.entry_image(session, project_name=project, source_ref=ref)
        return _heatmaps(request).for_stored_image(model, image.key, image.sha256)

    return Response(await run_in_threadpool(render), media_type="image/png", headers={"Cache-Control": CACHE})


@router.post("/projects/{project}/models/{version}/heatmap")
async def image_heatmap(
    request: Request, project: str, version: str, content_type: str = Header(default="")
) -> Response:
    """The model's heatmap of an image sent in the body ("try it"); nothing is stored."""
    context = _context(request)
    body = await request.body()

    def render() -> bytes:
        model = _trained_model(context, project, version)
        pixels = decode_image(body, content_type=content_type, settings=context.settings).pixels
        return _heatmaps(request).render(model, pixels)

    return Response(await run_in_threadpool(render), media_type="image/png", headers={"Cache-Control": "no-store"})


@lru_cache(maxsize=1)
def _algorithm_list() -> list[dict[str, Any]]:
    """The engine's models (importing the engine costs seconds once, so the training page asks for them later)."""
    from service.engine import registry

    return [
        {"Name": spec.name, "Description": spec.description, "NeedsPretrained": spec.needs_pretrained}
        for spec in registry.list_models()
    ]


def _algorithms(context: AppContext) -> dict[str, Any]:
    """The models and today's default, which changes when ImageNet weights are imported."""
    from service.domain.algorithms import default_algorithm

    return {
        "Default": default_algorithm(context.settings.resolved_weights_dir),
        "Algorithms": _algorithm_list(),
    }


@router.get("/algorithms")
async def algorithms(request: Request) -> dict[str, Any]:
    return await run_in_threadpool(_algorithms, _context(request))

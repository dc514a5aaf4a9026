"""UploadDatasetImages (openlv extension): multipart/form-data images into a dataset."""

from collections.abc import Callable
from typing import IO, Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from service.api.deps import Context
from service.api.ext.shapes import dataset_summary
from service.domain import uploads
from service.errors import ValidationException

router = APIRouter()

# Four parts per image at most (image, label, anomalyClass, mask); one spare image's worth so the domain, not the
# parser, reports an over-long batch with a clear message.
_MAX_FILES = 2 * (uploads.MAX_IMAGES_PER_UPLOAD + 1)
_MAX_FIELDS = 2 * (uploads.MAX_IMAGES_PER_UPLOAD + 1)


def _reader(file: IO[bytes]) -> Callable[[], bytes]:
    def read() -> bytes:
        file.seek(0)
        return file.read()

    return read


def _part_value(value: UploadFile | str) -> uploads.PartValue:
    if isinstance(value, str):
        return value
    return uploads.UploadedFile(filename=value.filename or "", size=value.size or 0, read=_reader(value.file))


@router.post("/projects/{project_name}/datasets/{dataset_type}/images")
async def upload_dataset_images(
    project_name: str, dataset_type: str, request: Request, context: Context
) -> dict[str, Any]:
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ValidationException("Send the images as multipart/form-data (see docs/api-extensions.md).")
    try:
        form = await request.form(max_files=_MAX_FILES, max_fields=_MAX_FIELDS)
    except (StarletteHTTPException, MultiPartException) as exc:
        detail = exc.detail if isinstance(exc, StarletteHTTPException) else exc.message
        raise ValidationException(f"Malformed multipart body: {detail}") from None
    try:
        parts = [(name, _part_value(value)) for name, value in form.multi_items()]
        outcome = await run_in_threadpool(
            uploads.upload_images,
            context=context,
            project_name=project_name,
            dataset_type=dataset_type,
            parts=parts,
        )
    finally:
        await form.close()
    return {
        **dataset_summary(dataset_type, created=outcome.ingest.dataset_created, stats=outcome.ingest.stats),
        "Images": [
            {
                "Id": image.part_id,
                "FileName": image.filename,
                "Label": image.label,
                "Sha256": image.result.sha256,
                "SourceRef": image.result.source_ref,
                "Duplicate": image.result.duplicate,
            }
            for image in outcome.images
        ],
    }

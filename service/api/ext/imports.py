"""ImportDatasetEntries (openlv extension): a folder tree in the configured storage into a dataset."""

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from service.api.deps import Context
from service.api.ext.shapes import dataset_summary
from service.domain import imports

router = APIRouter()


class ImportDatasetEntriesRequest(BaseModel):
    S3Uri: str
    Layout: str
    Splits: list[str] | None = None


@router.post("/projects/{project_name}/datasets/{dataset_type}/imports")
def import_dataset_entries(
    project_name: str, dataset_type: str, body: ImportDatasetEntriesRequest, context: Context
) -> dict[str, Any]:
    outcome = imports.import_entries(
        context=context,
        project_name=project_name,
        dataset_type=dataset_type,
        source_uri=body.S3Uri,
        layout=body.Layout,
        splits=body.Splits,
    )
    images = outcome.ingest.images
    return {
        **dataset_summary(dataset_type, created=outcome.ingest.dataset_created, stats=outcome.ingest.stats),
        "ImportedImages": {
            "Total": len(images),
            "Normal": outcome.normal,
            "Anomaly": outcome.anomaly,
            "Masks": outcome.masks,
            "Duplicates": sum(1 for image in images if image.duplicate),
        },
        "IgnoredObjects": outcome.ignored,
    }

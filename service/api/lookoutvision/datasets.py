"""CreateDataset, DescribeDataset, DeleteDataset, ListDatasetEntries, UpdateDatasetEntries."""

import base64
import binascii
import json
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Query
from pydantic import BaseModel

from service.api.deps import ClientToken, Context, epoch
from service.api.lookoutvision.projects import dataset_metadata
from service.api.pagination import page_request, page_response
from service.db.engine import UnitOfWork, transaction
from service.db.models import DatasetEntry
from service.domain import datasets, manifest_jobs
from service.domain.dataset_state import get_dataset
from service.domain.entry_listing import EntryFilter, list_entries, parse_timestamp
from service.domain.idempotency import run_idempotent
from service.errors import ValidationException

router = APIRouter()


class InputS3ObjectModel(BaseModel):
    Bucket: str
    Key: str
    VersionId: str | None = None


class GroundTruthManifestModel(BaseModel):
    S3Object: InputS3ObjectModel


class DatasetSourceModel(BaseModel):
    GroundTruthManifest: GroundTruthManifestModel


class CreateDatasetRequest(BaseModel):
    DatasetType: str
    DatasetSource: DatasetSourceModel | None = None


class UpdateDatasetEntriesRequest(BaseModel):
    Changes: str


@router.post("/projects/{project_name}/datasets", status_code=202)
def create_dataset(
    project_name: str,
    body: CreateDatasetRequest,
    context: Context,
    background: BackgroundTasks,
    client_token: ClientToken = None,
) -> dict[str, Any]:
    source = None
    if body.DatasetSource is not None:
        s3_object = body.DatasetSource.GroundTruthManifest.S3Object
        source = datasets.ManifestSource(bucket=s3_object.Bucket, key=s3_object.Key, version_id=s3_object.VersionId)

    def produce(work: UnitOfWork) -> dict[str, Any]:
        dataset, manifest = datasets.create_dataset(
            work.session, context=context, project_name=project_name, dataset_type=body.DatasetType, source=source
        )
        if manifest is not None:
            dataset_id = dataset.id
            work.after_commit(
                lambda: background.add_task(
                    manifest_jobs.populate_dataset, context, dataset_id=dataset_id, manifest=manifest
                )
            )
        return {"DatasetMetadata": dataset_metadata(dataset)}

    return run_idempotent(
        context.engine,
        operation="CreateDataset",
        client_token=client_token,
        parameters={"ProjectName": project_name, **body.model_dump()},
        produce=produce,
    )


@router.get("/projects/{project_name}/datasets/{dataset_type}")
def describe_dataset(project_name: str, dataset_type: str, context: Context) -> dict[str, Any]:
    with transaction(context.engine) as session:
        dataset = get_dataset(session, project_name=project_name, dataset_type=dataset_type)
        stats = datasets.image_stats(session, dataset=dataset)
    return {
        "DatasetDescription": {
            "ProjectName": project_name,
            "DatasetType": dataset.dataset_type,
            "CreationTimestamp": epoch(dataset.created_at),
            "LastUpdatedTimestamp": epoch(dataset.updated_at),
            "Status": dataset.status,
            "StatusMessage": dataset.status_message,
            "ImageStats": {
                "Total": stats.total,
                "Labeled": stats.labeled,
                "Normal": stats.normal,
                "Anomaly": stats.anomaly,
            },
        }
    }


@router.delete("/projects/{project_name}/datasets/{dataset_type}", status_code=202)
def delete_dataset(
    project_name: str, dataset_type: str, context: Context, client_token: ClientToken = None
) -> dict[str, Any]:
    datasets.delete_dataset(
        context=context, project_name=project_name, dataset_type=dataset_type, client_token=client_token
    )
    return {}


@router.get("/projects/{project_name}/datasets/{dataset_type}/entries")
def list_dataset_entries(
    project_name: str,
    dataset_type: str,
    context: Context,
    labeled: bool | None = Query(default=None),
    anomaly_class: str | None = Query(default=None, alias="anomalyClass"),
    created_before: str | None = Query(default=None, alias="createdBefore"),
    created_after: str | None = Query(default=None, alias="createdAfter"),
    source_ref_contains: str | None = Query(default=None, alias="sourceRefContains", max_length=2048),
    next_token: str | None = Query(default=None, alias="nextToken"),
    max_results: int | None = Query(default=None, alias="maxResults"),
) -> dict[str, Any]:
    page = page_request(next_token, max_results, key="after")
    entry_filter = EntryFilter(
        labeled=labeled,
        anomaly_class=anomaly_class,
        created_before=parse_timestamp(created_before, name="BeforeCreationDate"),
        created_after=parse_timestamp(created_after, name="AfterCreationDate"),
        source_ref_contains=source_ref_contains,
    )
    with transaction(context.engine) as session:
        dataset = get_dataset(session, project_name=project_name, dataset_type=dataset_type)
        rows = list_entries(
            session,
            dataset=dataset,
            entry_filter=entry_filter,
            after_id=page.cursor or 0,
            limit=page.limit,
        )
    return page_response(page, rows, items="DatasetEntries", shape=entry_json, cursor_of=lambda row: row.id)


def entry_json(entry: DatasetEntry) -> str:
    """An entry as AWS lists it: its Ground Truth manifest line."""
    return json.dumps(entry.manifest_line, separators=(",", ":"), ensure_ascii=False)


@router.patch("/projects/{project_name}/datasets/{dataset_type}/entries", status_code=202)
def update_dataset_entries(
    project_name: str,
    dataset_type: str,
    body: UpdateDatasetEntriesRequest,
    context: Context,
    background: BackgroundTasks,
    client_token: ClientToken = None,
) -> dict[str, Any]:
    changes = decode_changes(body.Changes)
    status, dataset_id = datasets.start_update_entries(
        context=context,
        project_name=project_name,
        dataset_type=dataset_type,
        changes=changes,
        client_token=client_token,
    )
    if dataset_id is not None:
        background.add_task(manifest_jobs.apply_update, context, dataset_id=dataset_id, changes=changes)
    return {"Status": status}


def decode_changes(encoded: str) -> bytes:
    """`Changes` is a blob: base64 on the wire (boto3 encodes it)."""
    try:
        changes = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationException("Changes must be base64-encoded JSON Lines.") from None
    if not changes:
        raise ValidationException("Changes must hold at least one JSON line.")
    return changes

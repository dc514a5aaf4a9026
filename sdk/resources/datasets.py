"""Datasets: CreateDataset, DescribeDataset, DeleteDataset, ListDatasetEntries, UpdateDatasetEntries, and the
openlv upload/import extensions, reached through `project.datasets`."""

import base64
import builtins
import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Self

from pydantic import BaseModel, Field

from sdk._transport import api_path
from sdk.client import Client
from sdk.local_images import folder_images, mvtec_images, mvtec_splits, plain_images
from sdk.pagination import paginate
from sdk.resources._base import Resource, client_token_header
from sdk.resources.uploads import (
    ImageStats,
    ImportResult,
    UploadProgress,
    UploadResult,
    import_entries,
    local_path,
    upload_images,
)
from sdk.waiters import wait_for

DATASET_TYPES = ("train", "test")
READY = ("CREATE_COMPLETE", "UPDATE_COMPLETE")
FAILED = ("CREATE_FAILED", "UPDATE_FAILED_ROLLBACK_COMPLETE", "DELETE_FAILED")

PathLike = str | os.PathLike[str]


class Dataset(Resource):
    project_name: str
    dataset_type: str
    creation_timestamp: datetime | None = None
    last_updated_timestamp: datetime | None = None
    status: str | None = None
    status_message: str | None = None
    image_stats: ImageStats = Field(default_factory=ImageStats)

    def refresh(self) -> Self:
        return self._replace_with(DatasetCollection(self.client, self.project_name).describe(self.dataset_type))

    def delete(self) -> None:
        DatasetCollection(self.client, self.project_name).delete(self.dataset_type)

    def wait(self, *, timeout: float = 300.0, poll_interval: float = 0.5) -> Self:
        """Block until the dataset is CREATE_COMPLETE or UPDATE_COMPLETE (ResourceFailedError on a failed status)."""
        return wait_for(
            self.refresh,
            lambda dataset: dataset.status or "",
            wanted=READY,
            failed=FAILED,
            timeout=timeout,
            poll_interval=poll_interval,
            describe=lambda dataset: f"dataset {self.project_name}/{self.dataset_type}",
            failure_detail=lambda dataset: dataset.status_message,
        )


class DatasetEntry(BaseModel):
    """One ListDatasetEntries line, read: the image, its label (None when unlabeled), its anomaly class and mask."""

    source_ref: str
    label: str | None = None
    anomaly_class: str | None = None
    mask_ref: str | None = None
    line: dict[str, Any]

    @classmethod
    def parse(cls, text: str) -> "DatasetEntry":
        """Labels and masks are found as the service finds them: by their metadata's Ground Truth `type`, or by the
        names `anomaly-label` and `anomaly-mask-ref`, whatever the labelling job called the attribute."""
        line: dict[str, Any] = json.loads(text)
        label_attribute = _attribute(line, "groundtruth/image-classification", "anomaly-label")
        mask_attribute = _attribute(line, "groundtruth/semantic-segmentation", "anomaly-mask-ref")
        label = line.get(f"{label_attribute}-metadata", {}).get("class-name")
        color_map = line.get(f"{mask_attribute}-metadata", {}).get("internal-color-map", {})
        classes = [value.get("class-name") for key, value in sorted(color_map.items()) if key != "0"]
        return cls(
            source_ref=line["source-ref"],
            label=label,
            anomaly_class=classes[0] if len(classes) == 1 else None,
            mask_ref=line.get(mask_attribute),
            line=line,
        )


def _attribute(line: dict[str, Any], metadata_type: str, default: str) -> str:
    for key, value in line.items():
        if key.endswith("-metadata") and isinstance(value, dict) and value.get("type") == metadata_type:
            return key.removesuffix("-metadata")
    return default


class DatasetCollection:
    """`project.datasets`: the train and test datasets of one project."""

    def __init__(self, client: Client, project_name: str) -> None:
        self.client = client
        self.project_name = project_name

    def _path(self, *segments: str) -> str:
        return api_path("projects", self.project_name, "datasets", *segments)

    def create(self, dataset_type: str = "train", *, manifest: str | None = None) -> Dataset:
        """An empty dataset, or one filled from a Ground Truth manifest at `manifest` (`s3://bucket/key`)."""
        body: dict[str, Any] = {"DatasetType": dataset_type}
        if manifest is not None:
            bucket, _, key = manifest.removeprefix("s3://").partition("/")
            body["DatasetSource"] = {"GroundTruthManifest": {"S3Object": {"Bucket": bucket, "Key": key}}}
        self.client.request("POST", self._path(), json_body=body, headers=client_token_header())
        return self.describe(dataset_type)

    def describe(self, dataset_type: str = "train") -> Dataset:
        answer = self.client.request("GET", self._path(dataset_type))
        return Dataset.bind(self.client, answer["DatasetDescription"])

    get = describe

    def list(self) -> builtins.list[Dataset]:
        """The datasets the project has (DescribeProject's summaries, described)."""
        answer = self.client.request("GET", api_path("projects", self.project_name))
        return [self.describe(summary["DatasetType"]) for summary in answer["ProjectDescription"].get("Datasets", [])]

    def delete(self, dataset_type: str = "train") -> None:
        self.client.request("DELETE", self._path(dataset_type), headers=client_token_header())

    def entries(
        self,
        dataset_type: str = "train",
        *,
        labeled: bool | None = None,
        anomaly_class: str | None = None,
        created_before: datetime | None = None,
        created_after: datetime | None = None,
        source_ref_contains: str | None = None,
        page_size: int | None = None,
    ) -> Iterator[DatasetEntry]:
        """Every matching entry, fetching pages as the iteration goes."""
        filters = {
            "labeled": labeled,
            "anomalyClass": anomaly_class,
            "createdBefore": created_before,
            "createdAfter": created_after,
            "sourceRefContains": source_ref_contains,
            "maxResults": page_size,
        }

        def fetch(token: str | None) -> dict[str, Any]:
            return self.client.request(
                "GET", self._path(dataset_type, "entries"), params={**filters, "nextToken": token}
            )

        return paginate(fetch, "DatasetEntries", DatasetEntry.parse)

    def update_entries(self, dataset_type: str, changes: Iterable[Mapping[str, Any]]) -> str:
        """Add or relabel entries from Ground Truth manifest lines; returns the dataset status (UPDATE_IN_PROGRESS)."""
        lines = "".join(json.dumps(dict(change)) + "\n" for change in changes)
        body = {"Changes": base64.b64encode(lines.encode()).decode()}
        answer = self.client.request(
            "PATCH", self._path(dataset_type, "entries"), json_body=body, headers=client_token_header()
        )
        return str(answer.get("Status", ""))

    def upload(
        self,
        path_or_files: PathLike | Iterable[PathLike],
        *,
        label: str = "normal",
        anomaly_class: str | None = None,
        dataset_type: str = "train",
        batch_size: int = 32,
        progress: UploadProgress | None = None,
    ) -> UploadResult:
        """Upload image files, or every image under folders, with one label (`normal`, `anomaly`, `unlabeled`)."""
        images = plain_images(path_or_files, label=label, anomaly_class=anomaly_class)
        return upload_images(
            self.client, self.project_name, dataset_type, images, batch_size=batch_size, progress=progress
        )

    def import_mvtec(
        self,
        path: PathLike,
        *,
        dataset_types: Sequence[str] = DATASET_TYPES,
        batch_size: int = 32,
        progress: UploadProgress | None = None,
    ) -> dict[str, UploadResult | ImportResult]:
        """An MVTec AD tree: its `train/` split into the train dataset and `test/` into the test dataset.

        A local folder is uploaded by the SDK; an `s3://` URI in the service's storage is imported server-side."""
        root = local_path(path)
        if root is None:
            return {
                kind: import_entries(self.client, self.project_name, kind, s3_uri=str(path), layout="mvtec")
                for kind in dataset_types
            }
        splits = mvtec_splits(root, dataset_types)
        if not splits:
            raise FileNotFoundError(f"{root} has none of the folders {', '.join(dataset_types)}/ (MVTec AD layout)")
        return {
            split: upload_images(
                self.client,
                self.project_name,
                split,
                mvtec_images(root, split),
                batch_size=batch_size,
                progress=progress,
            )
            for split in splits
        }

    def import_folders(
        self,
        path: PathLike,
        *,
        dataset_type: str = "train",
        batch_size: int = 32,
        progress: UploadProgress | None = None,
    ) -> UploadResult | ImportResult:
        """A tree of `normal/`, `anomaly/[<class>/]` and `masks/` folders into one dataset (local or `s3://`)."""
        root = local_path(path)
        if root is None:
            return import_entries(self.client, self.project_name, dataset_type, s3_uri=str(path), layout="folders")
        return upload_images(
            self.client, self.project_name, dataset_type, folder_images(root), batch_size=batch_size, progress=progress
        )

"""Ground Truth manifest lines for dataset tests, shaped as Lookout for Vision's console writes them."""

import json
from typing import Any


def manifest_line(source_ref: str, label: str | None = None, *, mask_ref: str | None = None) -> dict[str, Any]:
    line: dict[str, Any] = {"source-ref": source_ref}
    if label is not None:
        line["anomaly-label"] = 1 if label == "anomaly" else 0
        line["anomaly-label-metadata"] = {
            "class-name": label,
            "confidence": 1,
            "creation-date": "2024-01-01T00:00:00.000",
            "human-annotated": "yes",
            "job-name": "labeling-job/test",
            "type": "groundtruth/image-classification",
        }
    if mask_ref is not None:
        line["anomaly-mask-ref"] = mask_ref
        line["anomaly-mask-ref-metadata"] = {
            "internal-color-map": {
                "0": {"class-name": "BACKGROUND", "hex-color": "#000000", "confidence": 0.0},
                "1": {"class-name": "scratch", "hex-color": "#ffffff", "confidence": 0.0},
            },
            "type": "groundtruth/semantic-segmentation",
            "human-annotated": "yes",
        }
    return line


def manifest(lines: list[dict[str, Any]]) -> bytes:
    return "\n".join(json.dumps(line) for line in lines).encode() + b"\n"


class StorageWriter:
    """Writes objects into a live server's storage under a per-test prefix and answers their s3:// URIs."""

    def __init__(self, store: Any, prefix: str) -> None:
        self.store = store
        self.prefix = prefix

    def put(self, name: str, data: bytes) -> str:
        key = f"{self.prefix}/{name}"
        self.store.put(key, data)
        return f"s3://{self.store.bucket}/{key}"

    def put_manifest(self, name: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
        """Store a manifest; the CreateDataset DatasetSource that names it."""
        key = f"{self.prefix}/{name}"
        self.store.put(key, manifest(lines))
        return {"GroundTruthManifest": {"S3Object": {"Bucket": self.store.bucket, "Key": key}}}


def changes(lines: list[dict[str, Any]]) -> bytes:
    """UpdateDatasetEntries Changes (boto3 base64-encodes the blob)."""
    return manifest(lines)


def wait_for_dataset(lv: Any, project: str, dataset_type: str = "train", timeout: float = 60.0) -> dict[str, Any]:
    """DescribeDataset's description once the dataset's manifest is validated and applied (or refused)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        description = lv.describe_dataset(ProjectName=project, DatasetType=dataset_type)["DatasetDescription"]
        if description["Status"] not in ("CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS") or time.monotonic() > deadline:
            return description
        time.sleep(0.05)

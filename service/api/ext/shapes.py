"""Reply fragments the extension operations share."""

from typing import Any

from service.domain.datasets import ImageStats


def image_stats_json(stats: ImageStats) -> dict[str, int]:
    """The DatasetImageStats shape of DescribeDataset."""
    return {"Total": stats.total, "Labeled": stats.labeled, "Normal": stats.normal, "Anomaly": stats.anomaly}


def dataset_summary(dataset_type: str, *, created: bool, stats: ImageStats) -> dict[str, Any]:
    return {"DatasetType": dataset_type, "DatasetCreated": created, "ImageStats": image_stats_json(stats)}

"""Human review (openlv extensions): the routing policy, review tasks a reviewer claims and completes, adding the
verdicts to a dataset, and the statistics of a model version (production precision and recall from the audits)."""

import base64
import builtins
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Self

from pydantic import Field, field_validator

from sdk._transport import api_path
from sdk.client import Client
from sdk.pagination import paginate
from sdk.resources._base import Resource, WireModel


class ScoreBand(WireModel):
    low: float
    high: float


class ReviewPolicy(WireModel):
    """A project's (or model version's) review routing policy."""

    project_name: str
    model_version: str | None = None
    confidence_below: float | None = None
    score_band: ScoreBand | None = None
    sampling_percent: float = 0.0
    all_anomalous: bool = False
    hourly_cap: int | None = None
    daily_cap: int | None = None
    paused: bool = False
    required_reviews: int = 1
    lease_seconds: int = 300
    task_time_to_live_seconds: int = 604800
    updated_at: datetime | None = None
    updated_by: str | None = None


def get_review_policy(client: Client, project_name: str, *, model_version: str | None = None) -> ReviewPolicy:
    answer = client.request(
        "GET", api_path("projects", project_name, "reviewpolicy"), params={"modelVersion": model_version}
    )
    return ReviewPolicy.model_validate(answer["ReviewPolicy"])


def put_review_policy(
    client: Client,
    project_name: str,
    *,
    model_version: str | None = None,
    confidence_below: float | None = None,
    score_band: tuple[float, float] | None = None,
    sampling_percent: float = 0.0,
    all_anomalous: bool = False,
    hourly_cap: int | None = None,
    daily_cap: int | None = None,
    paused: bool = False,
    required_reviews: int = 1,
    lease_seconds: int = 300,
    task_time_to_live_seconds: int = 604800,
) -> ReviewPolicy:
    """Replace the policy (members left out take their defaults)."""
    body: dict[str, Any] = {
        "ModelVersion": model_version,
        "ConfidenceBelow": confidence_below,
        "ScoreBand": {"Low": score_band[0], "High": score_band[1]} if score_band else None,
        "SamplingPercent": sampling_percent,
        "AllAnomalous": all_anomalous,
        "HourlyCap": hourly_cap,
        "DailyCap": daily_cap,
        "Paused": paused,
        "RequiredReviews": required_reviews,
        "LeaseSeconds": lease_seconds,
        "TaskTimeToLiveSeconds": task_time_to_live_seconds,
    }
    answer = client.request(
        "PUT",
        api_path("projects", project_name, "reviewpolicy"),
        json_body={key: value for key, value in body.items() if value is not None},
    )
    return ReviewPolicy.model_validate(answer["ReviewPolicy"])


class ReviewAction(WireModel):
    """One entry of a task's audit trail."""

    reviewer: str
    action: str
    acted_at: datetime
    claimed_at: datetime | None = None
    model_is_anomalous: bool
    model_confidence: float
    model_score: float
    verdict: str | None = None
    note: str | None = None
    has_mask: bool = False


class ReviewTask(Resource):
    """A detection routed to human review. `claim()`, `complete()`, `release()` and `skip()` act on it; images come
    with `describe()` (the holder's calls renew its lease)."""

    project_name: str
    task_id: str
    model_version: str
    status: str
    reason: str
    sampled: bool = False
    routed_at: datetime | None = None
    expires_at: datetime | None = None
    is_anomalous: bool
    confidence: float
    score: float
    threshold: float
    anomaly_area: float | None = None
    image_format: str | None = None
    image_width: int | None = None
    image_height: int | None = None
    image_stored: bool = True
    required_reviews: int = 1
    verdict_count: int = 0
    disputed: bool = False
    added_to_datasets: builtins.list[str] = Field(default_factory=builtins.list)
    actions: builtins.list[ReviewAction] = Field(default_factory=builtins.list)
    claimed_by: str | None = None
    lease_expires_at: datetime | None = None
    human_verdict: str | None = None
    completed_at: datetime | None = None
    image: bytes | None = None
    heatmap: bytes | None = None
    anomaly_mask: bytes | None = None
    human_mask: bytes | None = None

    @field_validator("image", "heatmap", "anomaly_mask", "human_mask", mode="before")
    @classmethod
    def _decode_blob(cls, value: Any) -> Any:
        """Blobs travel base64-encoded in JSON."""
        return base64.b64decode(value) if isinstance(value, str) else value

    def _path(self, *segments: str) -> str:
        return api_path("projects", self.project_name, "reviewtasks", self.task_id, *segments)

    def _update(self, answer: dict[str, Any]) -> Self:
        fresh = type(self).bind(self.client, answer["ReviewTask"], ProjectName=self.project_name)
        return self._replace_with(fresh)

    @classmethod
    def get(cls, project_name: str, task_id: str, *, client: Client) -> Self:
        """DescribeReviewTask: the task with its image, heatmap and masks."""
        answer = client.request("GET", api_path("projects", project_name, "reviewtasks", task_id))
        return cls.bind(client, answer["ReviewTask"], ProjectName=project_name)

    def describe(self) -> Self:
        return self._update(self.client.request("GET", self._path()))

    def claim(self) -> Self:
        return self._update(
            self.client.request(
                "POST",
                api_path("projects", self.project_name, "reviewtasks", "claim"),
                json_body={"TaskId": self.task_id},
            )
        )

    def complete(self, verdict: str, *, mask: bytes | None = None, note: str = "") -> Self:
        """Give the verdict `normal` or `anomaly` (with an optional PNG mask of the image's size, white = defect)."""
        body: dict[str, Any] = {"Verdict": verdict, "Note": note}
        if mask is not None:
            body["Mask"] = base64.b64encode(mask).decode()
        return self._update(self.client.request("POST", self._path("complete"), json_body=body))

    def release(self) -> Self:
        return self._update(self.client.request("POST", self._path("release")))

    def skip(self) -> Self:
        return self._update(self.client.request("POST", self._path("skip")))


def claim_next(client: Client, project_name: str, *, model_version: str | None = None) -> ReviewTask | None:
    """Claim the next task; None when nothing waits."""
    body = {"ModelVersion": model_version} if model_version else {}
    answer = client.request("POST", api_path("projects", project_name, "reviewtasks", "claim"), json_body=body)
    if "ReviewTask" not in answer:
        return None
    return ReviewTask.bind(client, answer["ReviewTask"], ProjectName=project_name)


def list_review_tasks(
    client: Client,
    project_name: str,
    *,
    status: str | None = None,
    model_version: str | None = None,
    reason: str | None = None,
    page_size: int | None = None,
) -> Iterator[ReviewTask]:
    params = {"status": status, "modelVersion": model_version, "reason": reason, "maxResults": page_size}

    def fetch(token: str | None) -> dict[str, Any]:
        return client.request(
            "GET", api_path("projects", project_name, "reviewtasks"), params={**params, "nextToken": token}
        )

    return paginate(fetch, "ReviewTasks", lambda item: ReviewTask.bind(client, item, ProjectName=project_name))


class ImageCounts(WireModel):
    total: int
    labeled: int
    normal: int
    anomaly: int


class AddedReviews(WireModel):
    dataset_type: str
    dataset_created: bool
    added_task_ids: builtins.list[str]
    already_added_task_ids: builtins.list[str]
    image_stats: ImageCounts | None = None


def add_reviews_to_dataset(
    client: Client,
    project_name: str,
    dataset_type: str,
    *,
    task_ids: builtins.list[str] | None = None,
    model_version: str | None = None,
    reason: str | None = None,
    verdict: str | None = None,
) -> AddedReviews:
    """The named completed tasks, or every completed task matching the filter, into the dataset."""
    body: dict[str, Any] = {"DatasetType": dataset_type}
    if task_ids is not None:
        body["TaskIds"] = task_ids
    else:
        chosen = {"ModelVersion": model_version, "Reason": reason, "Verdict": verdict}
        body["Filter"] = {key: value for key, value in chosen.items() if value is not None}
    answer = client.request("POST", api_path("projects", project_name, "reviewtasks", "dataset"), json_body=body)
    return AddedReviews.model_validate(answer)


class Proportion(WireModel):
    estimate: float
    low: float
    high: float
    successes: int
    trials: int


class AuditCounts(WireModel):
    completed: int
    true_positives: int
    false_positives: int
    true_negatives: int
    false_negatives: int


class ReviewStatistics(WireModel):
    """What review found for a model version; `precision`/`recall` are None until audits allow an estimate."""

    model_version: str
    routed: int
    pending: int
    claimed: int
    completed: int
    expired: int
    queue_depth: int
    routed_by_reason: dict[str, int]
    disputed: int
    false_positives: int
    false_negatives: int
    reviewers: builtins.list[str]
    audits: AuditCounts
    confidence_level: float
    agreement_rate: float | None = None
    median_time_to_review_seconds: float | None = None
    median_review_seconds: float | None = None
    precision: Proportion | None = None
    recall: Proportion | None = None


def review_statistics(client: Client, project_name: str, model_version: str) -> ReviewStatistics:
    answer = client.request("GET", api_path("projects", project_name, "models", model_version, "reviewstatistics"))
    return ReviewStatistics.model_validate(answer)

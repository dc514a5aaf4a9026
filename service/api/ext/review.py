"""Human review (openlv extensions): policies, the reviewer queue, adding verdicts to datasets, statistics.

Thin translators: parse, call the review domain, shape the reply (docs/api-extensions.md, "Human review").
"""

import base64
import binascii
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from service.api.deps import Context, epoch
from service.api.pagination import page_request, page_response
from service.db.engine import transaction
from service.db.models import ReviewAction, ReviewPolicy, ReviewTask
from service.domain.review import learning, media, policy, reviewing, statistics, tasks
from service.domain.review.routing import REASONS
from service.domain.training_runs import parse_version
from service.errors import ValidationException

router = APIRouter()
PROJECT = "/projects/{project_name}"
TASK = PROJECT + "/reviewtasks/{task_id}"


def reviewer(request: Request) -> str:
    """The caller's access key id: who claims, judges and changes things."""
    return getattr(request.state, "access_key_id", "anonymous")


class ScoreBandBody(BaseModel):
    Low: float
    High: float


class PutReviewPolicyRequest(BaseModel):
    ModelVersion: str | None = None
    ConfidenceBelow: float | None = None
    ScoreBand: ScoreBandBody | None = None
    SamplingPercent: float = 0.0
    AllAnomalous: bool = False
    HourlyCap: int | None = None
    DailyCap: int | None = None
    Paused: bool = False
    RequiredReviews: int = 1
    LeaseSeconds: int = policy.DEFAULT_LEASE_SECONDS
    TaskTimeToLiveSeconds: int = policy.DEFAULT_TTL_SECONDS


def policy_json(row: ReviewPolicy, project_name: str) -> dict[str, Any]:
    item: dict[str, Any] = {
        "ProjectName": project_name,
        "SamplingPercent": row.sampling_percent,
        "AllAnomalous": row.all_anomalous,
        "Paused": row.paused,
        "RequiredReviews": row.required_reviews,
        "LeaseSeconds": row.lease_seconds,
        "TaskTimeToLiveSeconds": row.task_ttl_seconds,
        "UpdatedAt": epoch(row.updated_at),
        "UpdatedBy": row.updated_by,
    }
    if row.model_version != policy.PROJECT_SCOPE:
        item["ModelVersion"] = str(row.model_version)
    if row.confidence_below is not None:
        item["ConfidenceBelow"] = row.confidence_below
    if row.score_band_low is not None and row.score_band_high is not None:
        item["ScoreBand"] = {"Low": row.score_band_low, "High": row.score_band_high}
    if row.hourly_cap is not None:
        item["HourlyCap"] = row.hourly_cap
    if row.daily_cap is not None:
        item["DailyCap"] = row.daily_cap
    return item


@router.put(PROJECT + "/reviewpolicy")
def put_review_policy(
    project_name: str, body: PutReviewPolicyRequest, request: Request, context: Context
) -> dict[str, Any]:
    settings = policy.PolicySettings(
        confidence_below=body.ConfidenceBelow,
        score_band=(body.ScoreBand.Low, body.ScoreBand.High) if body.ScoreBand else None,
        sampling_percent=body.SamplingPercent,
        all_anomalous=body.AllAnomalous,
        hourly_cap=body.HourlyCap,
        daily_cap=body.DailyCap,
        paused=body.Paused,
        required_reviews=body.RequiredReviews,
        lease_seconds=body.LeaseSeconds,
        task_ttl_seconds=body.TaskTimeToLiveSeconds,
    )
    with transaction(context.engine) as session:
        row = policy.put_policy(
            session,
            project_name=project_name,
            model_version=body.ModelVersion,
            settings=settings,
            changed_by=reviewer(request),
        )
        return {"ReviewPolicy": policy_json(row, project_name)}


@router.get(PROJECT + "/reviewpolicy")
def describe_review_policy(
    project_name: str, context: Context, model_version: Annotated[str | None, Query(alias="modelVersion")] = None
) -> dict[str, Any]:
    with transaction(context.engine) as session:
        row = policy.describe_policy(session, project_name=project_name, model_version=model_version)
        return {"ReviewPolicy": policy_json(row, project_name)}


def action_json(action: ReviewAction) -> dict[str, Any]:
    item: dict[str, Any] = {
        "Reviewer": action.reviewer,
        "Action": action.action,
        "ActedAt": epoch(action.acted_at),
        "ModelIsAnomalous": action.model_is_anomalous,
        "ModelConfidence": action.model_confidence,
        "ModelScore": action.model_score,
        "HasMask": action.mask_key is not None,
    }
    if action.claimed_at is not None:
        item["ClaimedAt"] = epoch(action.claimed_at)
    if action.verdict is not None:
        item["Verdict"] = action.verdict
    if action.note:
        item["Note"] = action.note
    return item


def task_json(task: ReviewTask, actions: list[ReviewAction]) -> dict[str, Any]:
    verdicts = [action for action in actions if action.action == tasks.VERDICT]
    item: dict[str, Any] = {
        "TaskId": str(task.id),
        "ModelVersion": str(task.model_version),
        "Status": task.status,
        "Reason": task.reason,
        "Sampled": task.sampled,
        "RoutedAt": epoch(task.created_at),
        "ExpiresAt": epoch(task.expires_at),
        "IsAnomalous": task.is_anomalous,
        "Confidence": task.confidence,
        "Score": task.score,
        "Threshold": task.threshold,
        "AnomalyArea": task.anomaly_fraction,
        "ImageFormat": task.image_format,
        "ImageWidth": task.width,
        "ImageHeight": task.height,
        "ImageStored": task.image_key is not None,
        "RequiredReviews": task.required_reviews,
        "VerdictCount": len(verdicts),
        "Disputed": task.disputed,
        "AddedToDatasets": list(task.added_to),
        "Actions": [action_json(action) for action in actions],
    }
    optional = {
        "ClaimedBy": task.claimed_by,
        "LeaseExpiresAt": epoch(task.lease_expires_at) if task.lease_expires_at else None,
        "HumanVerdict": task.human_verdict,
        "CompletedAt": epoch(task.completed_at) if task.completed_at else None,
    }
    item.update({key: value for key, value in optional.items() if value is not None})
    return item


@router.get(PROJECT + "/reviewtasks")
def list_review_tasks(
    project_name: str,
    context: Context,
    status: Annotated[str | None, Query()] = None,
    model_version: Annotated[str | None, Query(alias="modelVersion")] = None,
    reason: Annotated[str | None, Query()] = None,
    next_token: Annotated[str | None, Query(alias="nextToken")] = None,
    max_results: Annotated[int | None, Query(alias="maxResults")] = None,
) -> dict[str, Any]:
    page = page_request(next_token, max_results, key="after")
    if reason is not None and reason not in REASONS:
        raise ValidationException(f"Reason must be one of {', '.join(REASONS)}; got {reason!r}.")
    filters = tasks.TaskFilter(
        status=status, model_version=parse_version(model_version) if model_version else None, reason=reason
    )
    rows, actions = tasks.list_tasks(
        context.engine,
        project_name=project_name,
        filters=filters,
        after_id=int(page.cursor or 0),
        limit=page.limit,
    )
    return page_response(
        page,
        [row for row in rows if row.id is not None],
        items="ReviewTasks",
        shape=lambda row: task_json(row, actions[row.id]),
        cursor_of=lambda row: row.id,
    )


class ClaimReviewTaskRequest(BaseModel):
    TaskId: str | None = None
    ModelVersion: str | None = None


@router.post(PROJECT + "/reviewtasks/claim")
def claim_review_task(
    project_name: str, request: Request, context: Context, body: ClaimReviewTaskRequest | None = None
) -> dict[str, Any]:
    who = reviewer(request)
    body = body or ClaimReviewTaskRequest()
    if body.TaskId is not None:
        task: ReviewTask | None = tasks.claim_task(
            context.engine, project_name=project_name, task_id=body.TaskId, reviewer=who
        )
    else:
        version = parse_version(body.ModelVersion) if body.ModelVersion else None
        task = tasks.claim_next(context.engine, project_name=project_name, reviewer=who, model_version=version)
    if task is None:
        return {}
    with transaction(context.engine) as session:
        assert task.id is not None
        return {"ReviewTask": task_json(task, tasks.actions_of(session, [task.id])[task.id])}


@router.get(TASK)
def describe_review_task(project_name: str, task_id: str, request: Request, context: Context) -> dict[str, Any]:
    task, actions = tasks.describe_task(
        context.engine, project_name=project_name, task_id=task_id, reviewer=reviewer(request)
    )
    item = task_json(task, actions)
    store = context.store
    if task.image_key is not None:
        image = store.get(task.image_key)
        item["Image"] = base64.b64encode(image).decode()
        if task.anomaly_map_key is not None:
            heatmap = media.heatmap_png(image, store.get(task.anomaly_map_key))
            item["Heatmap"] = base64.b64encode(heatmap).decode()
    if task.mask_key is not None:
        item["AnomalyMask"] = base64.b64encode(store.get(task.mask_key)).decode()
    if task.human_mask_key is not None:
        item["HumanMask"] = base64.b64encode(store.get(task.human_mask_key)).decode()
    return {"ReviewTask": item}


class CompleteReviewTaskRequest(BaseModel):
    Verdict: str
    Mask: str | None = None
    Note: str = ""


def _decoded_mask(value: str | None) -> bytes | None:
    if value is None:
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationException("Mask must be a base64-encoded PNG.") from None


def _task_reply(context: Context, task: ReviewTask) -> dict[str, Any]:
    with transaction(context.engine) as session:
        assert task.id is not None
        return {"ReviewTask": task_json(task, tasks.actions_of(session, [task.id])[task.id])}


@router.post(TASK + "/complete")
def complete_review_task(
    project_name: str, task_id: str, body: CompleteReviewTaskRequest, request: Request, context: Context
) -> dict[str, Any]:
    task = reviewing.complete_task(
        context.engine,
        context.store,
        context.settings,
        project_name=project_name,
        task_id=task_id,
        reviewer=reviewer(request),
        verdict=body.Verdict,
        note=body.Note,
        mask=_decoded_mask(body.Mask),
    )
    return _task_reply(context, task)


@router.post(TASK + "/release")
def release_review_task(project_name: str, task_id: str, request: Request, context: Context) -> dict[str, Any]:
    task = reviewing.release_task(
        context.engine, project_name=project_name, task_id=task_id, reviewer=reviewer(request), skip=False
    )
    return _task_reply(context, task)


@router.post(TASK + "/skip")
def skip_review_task(project_name: str, task_id: str, request: Request, context: Context) -> dict[str, Any]:
    task = reviewing.release_task(
        context.engine, project_name=project_name, task_id=task_id, reviewer=reviewer(request), skip=True
    )
    return _task_reply(context, task)


class ReviewTaskFilter(BaseModel):
    ModelVersion: str | None = None
    Reason: str | None = None
    Verdict: str | None = None


class AddReviewsToDatasetRequest(BaseModel):
    DatasetType: str
    TaskIds: list[str] | None = None
    Filter: ReviewTaskFilter | None = None


@router.post(PROJECT + "/reviewtasks/dataset")
def add_reviews_to_dataset(project_name: str, body: AddReviewsToDatasetRequest, context: Context) -> dict[str, Any]:
    if body.TaskIds is not None and body.Filter is not None:
        raise ValidationException("Give TaskIds or a Filter, not both.")
    chosen = body.Filter or ReviewTaskFilter()
    if chosen.Reason is not None and chosen.Reason not in REASONS:
        raise ValidationException(f"Reason must be one of {', '.join(REASONS)}; got {chosen.Reason!r}.")
    outcome = learning.add_reviews_to_dataset(
        context,
        project_name=project_name,
        dataset_type=body.DatasetType,
        task_ids=body.TaskIds,
        filters=learning.CompletedFilter(
            model_version=parse_version(chosen.ModelVersion) if chosen.ModelVersion else None,
            reason=chosen.Reason,
            verdict=chosen.Verdict,
        ),
    )
    response: dict[str, Any] = {
        "DatasetType": outcome.dataset_type,
        "DatasetCreated": outcome.dataset_created,
        "AddedTaskIds": [str(task_id) for task_id in outcome.added],
        "AlreadyAddedTaskIds": [str(task_id) for task_id in outcome.already_added],
    }
    if outcome.stats is not None:
        stats = outcome.stats
        response["ImageStats"] = {
            "Total": stats.total,
            "Labeled": stats.labeled,
            "Normal": stats.normal,
            "Anomaly": stats.anomaly,
        }
    return response


def _proportion_json(value: statistics.Proportion | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {
        "Estimate": value.estimate,
        "Low": value.low,
        "High": value.high,
        "Successes": value.successes,
        "Trials": value.trials,
    }


@router.get(PROJECT + "/models/{model_version}/reviewstatistics")
def describe_review_statistics(project_name: str, model_version: str, context: Context) -> dict[str, Any]:
    found = statistics.review_statistics(context.engine, project_name=project_name, model_version=model_version)
    audits = found.audits
    response: dict[str, Any] = {
        "ModelVersion": str(found.model_version),
        "Routed": found.routed,
        "Pending": found.by_status[tasks.PENDING],
        "Claimed": found.by_status[tasks.CLAIMED],
        "Completed": found.by_status[tasks.COMPLETED],
        "Expired": found.by_status[tasks.EXPIRED],
        "QueueDepth": found.queue_depth,
        "RoutedByReason": {reason: found.by_reason.get(reason, 0) for reason in REASONS},
        "Disputed": found.disputed,
        "FalsePositives": found.false_positives,
        "FalseNegatives": found.false_negatives,
        "Reviewers": found.reviewers,
        "Audits": {
            "Completed": audits.total,
            "TruePositives": audits.true_positives,
            "FalsePositives": audits.false_positives,
            "TrueNegatives": audits.true_negatives,
            "FalseNegatives": audits.false_negatives,
        },
        "ConfidenceLevel": statistics.CONFIDENCE_LEVEL,
    }
    optional = {
        "AgreementRate": found.agreement_rate,
        "MedianTimeToReviewSeconds": found.median_time_to_review_s,
        "MedianReviewSeconds": found.median_review_s,
        "Precision": _proportion_json(found.precision),
        "Recall": _proportion_json(found.recall),
    }
    response.update({key: value for key, value in optional.items() if value is not None})
    return response

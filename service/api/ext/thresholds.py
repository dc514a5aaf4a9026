"""DescribeModelEvaluation, GetModelCurves, UpdateModelThreshold, ListThresholdHistory (openlv extensions).

Scores, curve thresholds and model thresholds share one scale: the normalised score the hosted model returns.
"""

from typing import Any

import numpy as np
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from service.api.deps import Context, epoch
from service.api.pagination import decode_token, encode_token, page_size
from service.arns import model_arn
from service.db.engine import transaction
from service.db.models import Model
from service.domain import thresholds, training_runs
from service.domain.evaluation import CLASS_NAMES, TestScores, read_scores, recorded_output, write_evaluation
from service.engine import metrics
from service.errors import ConflictException

router = APIRouter()
MODEL_PATH = "/projects/{project_name}/models/{model_version}"


class UpdateModelThresholdRequest(BaseModel):
    Policy: thresholds.Policy
    Value: float | None = None


def _evaluated_scores(context: Any, model: Model) -> TestScores:
    if model.evaluation_end_at is None:
        raise ConflictException(
            f"Model {model.version} has no evaluation yet (status {model.status}).",
            resource_id=str(model.version),
            resource_type="MODEL",
        )
    return read_scores(context.store, model=model)


def operating_point_json(point: thresholds.OperatingPoint) -> dict[str, Any]:
    return {
        "Threshold": point.threshold,
        "Performance": thresholds.performance(point),
        "FalsePositiveRate": point.false_positive_rate,
        "ConfusionMatrix": {
            "TruePositives": point.true_positives,
            "FalsePositives": point.false_positives,
            "TrueNegatives": point.true_negatives,
            "FalseNegatives": point.false_negatives,
        },
    }


@router.get(MODEL_PATH + "/evaluation")
def describe_model_evaluation(project_name: str, model_version: str, context: Context) -> dict[str, Any]:
    with transaction(context.engine) as session:
        model = training_runs.get_model(session, project_name=project_name, version=model_version)
    scores = _evaluated_scores(context, model)
    point = thresholds.operating_point(scores.labels, scores.scores, model.image_threshold)
    return {
        **operating_point_json(point),
        "ThresholdPolicy": model.threshold_policy,
        "Metrics": {name: value for name, value in model.evaluation_metrics.items() if value is not None},
        "Images": [
            {
                "SourceRef": image.source_ref,
                "Label": CLASS_NAMES[image.label],
                "Score": image.score,
                "IsAnomalous": image.score >= model.image_threshold,
            }
            for image in scores.images
        ],
    }


def _floats(values: np.ndarray) -> list[float]:
    return [float(value) for value in values]


@router.get(MODEL_PATH + "/curves")
def get_model_curves(project_name: str, model_version: str, context: Context) -> dict[str, Any]:
    with transaction(context.engine) as session:
        model = training_runs.get_model(session, project_name=project_name, version=model_version)
    scores = _evaluated_scores(context, model)
    labels, values = scores.labels, scores.scores
    fpr, tpr, roc_thresholds = metrics.roc_curve(labels, values)
    roc_thresholds[0] = np.nextafter(values.max(), np.inf)
    precision, recall, pr_thresholds = metrics.pr_curve(labels, values)
    return {
        "Roc": {
            "FalsePositiveRate": _floats(fpr),
            "TruePositiveRate": _floats(tpr),
            "Thresholds": _floats(roc_thresholds),
        },
        "PrecisionRecall": {
            "Precision": _floats(precision[:-1]),
            "Recall": _floats(recall[:-1]),
            "Thresholds": _floats(pr_thresholds),
        },
    }


@router.put(MODEL_PATH + "/threshold")
def update_model_threshold(
    project_name: str, model_version: str, body: UpdateModelThresholdRequest, request: Request, context: Context
) -> dict[str, Any]:
    with transaction(context.engine) as session:
        model = training_runs.get_model(session, project_name=project_name, version=model_version)
        scores = _evaluated_scores(context, model)
        point, _ = thresholds.apply_threshold_policy(
            session,
            model=model,
            scores=scores,
            policy=body.Policy,
            value=body.Value,
            changed_by=request.state.access_key_id,
        )
    write_evaluation(
        context.store,
        model=model,
        model_arn=model_arn(context.settings, project_name, str(model.version)),
        scores=scores,
        output=recorded_output(model),
    )
    return {**operating_point_json(point), "ThresholdPolicy": model.threshold_policy}


@router.get(MODEL_PATH + "/threshold/history")
def list_threshold_history(
    project_name: str,
    model_version: str,
    context: Context,
    next_token: str | None = Query(default=None, alias="nextToken"),
    max_results: int | None = Query(default=None, alias="maxResults"),
) -> dict[str, Any]:
    limit = page_size(max_results)
    cursor = decode_token(next_token, expected_keys={"after"})
    with transaction(context.engine) as session:
        model = training_runs.get_model(session, project_name=project_name, version=model_version)
        rows = thresholds.threshold_history(
            session, model=model, after_id=int(cursor["after"]) if cursor else 0, limit=limit
        )
    response: dict[str, Any] = {
        "Changes": [
            {
                "ChangedAt": epoch(row.changed_at),
                "ChangedBy": row.changed_by,
                "OldThreshold": row.old_threshold,
                "NewThreshold": row.new_threshold,
                "Policy": row.policy,
            }
            for row in rows[:limit]
        ]
    }
    if len(rows) > limit:
        response["NextToken"] = encode_token({"after": rows[limit - 1].id})
    return response

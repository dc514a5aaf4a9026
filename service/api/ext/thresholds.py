"""DescribeModelEvaluation, GetModelCurves, UpdateModelThreshold, ListThresholdHistory (openlv extensions).

Scores, curve thresholds and model thresholds share one scale: the normalised score the hosted model returns. Rates
come with two-sided Clopper-Pearson intervals at `confidence` (default 0.95); a target policy's answer adds its
`Target`: the point estimate and, with a Confidence, the one-sided bound the threshold was chosen on.
"""

from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from service.api.deps import Context, epoch
from service.api.pagination import page_request, page_response
from service.arns import model_arn
from service.db.engine import transaction
from service.db.models import Model
from service.domain import thresholds, training_runs
from service.domain.curves import Band, model_curves
from service.domain.evaluation import CLASS_NAMES, TestScores, read_scores, recorded_output, write_evaluation
from service.errors import ConflictException

router = APIRouter()
MODEL_PATH = "/projects/{project_name}/models/{model_version}"


class UpdateModelThresholdRequest(BaseModel):
    Policy: thresholds.Policy
    Value: float | None = None
    Confidence: float | None = None


ConfidenceQuery = Query(default=thresholds.INTERVAL_CONFIDENCE, alias="confidence")


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


def intervals_json(point: thresholds.OperatingPoint, confidence: float) -> dict[str, Any]:
    rates = thresholds.intervals(point, confidence)
    return {
        "ConfidenceLevel": confidence,
        **{
            name: {
                "Estimate": rate.estimate,
                "Lower": rate.lower,
                "Upper": rate.upper,
                "Successes": rate.successes,
                "Trials": rate.trials,
            }
            for name, rate in rates.items()
        },
    }


def target_json(outcome: thresholds.TargetOutcome | None) -> dict[str, Any]:
    if outcome is None:
        return {}
    target: dict[str, Any] = {"Metric": outcome.metric, "Value": outcome.target, "Estimate": outcome.estimate}
    if outcome.confidence is not None and outcome.bound is not None:
        side = "UPPER" if outcome.metric == "FalsePositiveRate" else "LOWER"
        target.update({"Confidence": outcome.confidence, "Bound": outcome.bound, "BoundSide": side})
    return {"Target": target}


@router.get(MODEL_PATH + "/evaluation")
def describe_model_evaluation(
    project_name: str, model_version: str, context: Context, confidence: float = ConfidenceQuery
) -> dict[str, Any]:
    with transaction(context.engine) as session:
        model = training_runs.get_model(session, project_name=project_name, version=model_version)
    scores = _evaluated_scores(context, model)
    point = thresholds.operating_point(scores.labels, scores.scores, model.image_threshold)
    return {
        **operating_point_json(point),
        "Intervals": intervals_json(point, confidence),
        **target_json(thresholds.target_outcome(model.threshold_policy, point)),
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


def _band_json(name: str, band: Band) -> dict[str, list[float]]:
    return {f"{name}Lower": band.lower, f"{name}Upper": band.upper}


@router.get(MODEL_PATH + "/curves")
def get_model_curves(
    project_name: str, model_version: str, context: Context, confidence: float = ConfidenceQuery
) -> dict[str, Any]:
    with transaction(context.engine) as session:
        model = training_runs.get_model(session, project_name=project_name, version=model_version)
    scores = _evaluated_scores(context, model)
    thresholds.check_confidence(confidence)
    curves = model_curves(scores, confidence)
    return {
        "ConfidenceLevel": confidence,
        "Roc": {
            "FalsePositiveRate": curves.false_positive_rate,
            "TruePositiveRate": curves.true_positive_rate,
            "Thresholds": curves.roc_thresholds,
            **_band_json("FalsePositiveRate", curves.false_positive_rate_band),
            **_band_json("TruePositiveRate", curves.true_positive_rate_band),
        },
        "PrecisionRecall": {
            "Precision": curves.precision,
            "Recall": curves.recall,
            "Thresholds": curves.pr_thresholds,
            **_band_json("Precision", curves.precision_band),
            **_band_json("Recall", curves.recall_band),
        },
    }


@router.put(MODEL_PATH + "/threshold")
def update_model_threshold(
    project_name: str, model_version: str, body: UpdateModelThresholdRequest, request: Request, context: Context
) -> dict[str, Any]:
    with transaction(context.engine) as session:
        model = training_runs.get_model(session, project_name=project_name, version=model_version)
        scores = _evaluated_scores(context, model)
        point, decision, _ = thresholds.apply_threshold_policy(
            session,
            model=model,
            scores=scores,
            policy=body.Policy,
            value=body.Value,
            confidence=body.Confidence,
            changed_by=request.state.access_key_id,
        )
    write_evaluation(
        context.store,
        model=model,
        model_arn=model_arn(context.settings, project_name, str(model.version)),
        scores=scores,
        output=recorded_output(model),
    )
    return {
        **operating_point_json(point),
        "Intervals": intervals_json(point, body.Confidence or thresholds.INTERVAL_CONFIDENCE),
        **target_json(decision.target),
        "ThresholdPolicy": model.threshold_policy,
    }


@router.get(MODEL_PATH + "/threshold/history")
def list_threshold_history(
    project_name: str,
    model_version: str,
    context: Context,
    next_token: str | None = Query(default=None, alias="nextToken"),
    max_results: int | None = Query(default=None, alias="maxResults"),
) -> dict[str, Any]:
    page = page_request(next_token, max_results, key="after")
    with transaction(context.engine) as session:
        model = training_runs.get_model(session, project_name=project_name, version=model_version)
        rows = thresholds.threshold_history(session, model=model, after_id=page.cursor or 0, limit=page.limit)
    return page_response(
        page,
        rows,
        items="Changes",
        shape=lambda row: {
            "ChangedAt": epoch(row.changed_at),
            "ChangedBy": row.changed_by,
            "OldThreshold": row.old_threshold,
            "NewThreshold": row.new_threshold,
            "Policy": row.policy,
        },
        cursor_of=lambda row: row.id,
    )

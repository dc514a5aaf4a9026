"""DescribeReviewStatistics: what review found out about one model version.

Counts come from the tasks and their audit trail. Production precision and recall are estimated from the
random-sample audits only (tasks routed because they were SAMPLED): those are a uniform sample of every detection, so
among them the share of model-anomalous results a reviewer confirmed estimates precision, and the share of
reviewer-anomalous results the model caught estimates recall, without the bias of the doubtful ones. Intervals are
Wilson score intervals (scipy), which behave at small counts and near 0 or 1.
"""

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from scipy.stats import binomtest  # type: ignore[import-untyped]
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from service.db.engine import transaction
from service.db.models import ReviewAction, ReviewTask
from service.domain.review import tasks
from service.domain.training_runs import get_model

CONFIDENCE_LEVEL = 0.95


@dataclass(frozen=True)
class Proportion:
    estimate: float
    low: float
    high: float
    successes: int
    trials: int


@dataclass(frozen=True)
class Confusion:
    true_positives: int = 0
    false_positives: int = 0
    true_negatives: int = 0
    false_negatives: int = 0

    @property
    def total(self) -> int:
        return self.true_positives + self.false_positives + self.true_negatives + self.false_negatives


@dataclass(frozen=True)
class ReviewStatistics:
    model_version: int
    by_status: dict[str, int]
    by_reason: dict[str, int]
    disputed: int
    agreement_rate: float | None
    false_positives: int
    false_negatives: int
    median_time_to_review_s: float | None
    median_review_s: float | None
    audits: Confusion
    precision: Proportion | None
    recall: Proportion | None
    reviewers: list[str] = field(default_factory=list)

    @property
    def routed(self) -> int:
        return sum(self.by_status.values())

    @property
    def queue_depth(self) -> int:
        return self.by_status.get(tasks.PENDING, 0) + self.by_status.get(tasks.CLAIMED, 0)


def proportion(successes: int, trials: int) -> Proportion | None:
    if trials == 0:
        return None
    interval = binomtest(successes, trials).proportion_ci(confidence_level=CONFIDENCE_LEVEL, method="wilson")
    return Proportion(successes / trials, float(interval.low), float(interval.high), successes, trials)


def confusion(completed: list[ReviewTask]) -> Confusion:
    """Model verdict against the human verdict (positive = anomalous)."""
    pairs = Counter((task.is_anomalous, task.human_verdict == "anomaly") for task in completed)
    return Confusion(
        true_positives=pairs[(True, True)],
        false_positives=pairs[(True, False)],
        true_negatives=pairs[(False, False)],
        false_negatives=pairs[(False, True)],
    )


def _median(spans: list[timedelta]) -> float | None:
    return statistics.median(span.total_seconds() for span in spans) if spans else None


def review_statistics(engine: Engine, *, project_name: str, model_version: str) -> ReviewStatistics:
    project = tasks.project_for(engine, project_name)
    assert project.id is not None
    tasks.housekeep(engine, project_id=project.id)
    with transaction(engine) as session:
        model = get_model(session, project_name=project_name, version=model_version)
        rows = list(session.exec(select(ReviewTask).where(ReviewTask.model_id == model.id)))
        verdicts = list(
            session.exec(
                select(ReviewAction).where(
                    col(ReviewAction.task_id).in_([row.id for row in rows]), ReviewAction.action == tasks.VERDICT
                )
            )
        )
    completed = [row for row in rows if row.status == tasks.COMPLETED]
    overall = confusion(completed)
    audits = confusion([row for row in completed if row.sampled])
    agreeing = overall.true_positives + overall.true_negatives
    to_review = [
        completed_at - created_at
        for row in completed
        if (completed_at := tasks.aware(row.completed_at)) and (created_at := tasks.aware(row.created_at))
    ]
    reviewing = [
        acted_at - claimed_at
        for action in verdicts
        if (acted_at := tasks.aware(action.acted_at)) and (claimed_at := tasks.aware(action.claimed_at))
    ]
    return ReviewStatistics(
        model_version=model.version,
        by_status={status: sum(row.status == status for row in rows) for status in tasks.STATUSES},
        by_reason=dict(Counter(row.reason for row in rows)),
        disputed=sum(row.disputed for row in rows),
        agreement_rate=agreeing / len(completed) if completed else None,
        false_positives=overall.false_positives,
        false_negatives=overall.false_negatives,
        median_time_to_review_s=_median(to_review),
        median_review_s=_median(reviewing),
        audits=audits,
        precision=proportion(audits.true_positives, audits.true_positives + audits.false_positives),
        recall=proportion(audits.true_positives, audits.true_positives + audits.false_negatives),
        reviewers=sorted({action.reviewer for action in verdicts}),
    )

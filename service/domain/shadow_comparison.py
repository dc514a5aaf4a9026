"""DescribeShadowComparison: how the two models of a pair answered the same detections, and what human review says.

Every figure is per model of the pair in its current role (after a promotion the old shadow is "live"), computed
from each recorded detection's pair of answers whichever model answered it at the time: agreement, disagreements in
both directions, Pearson correlation of the scores, latency percentiles, and against completed review tasks of those
detections the false positives and false negatives each model would have made. The live model's latency is the
request's service time (as ListDetections logs it); the shadow's from handing it the image to its answer.
"""

from dataclasses import dataclass

import numpy as np
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from service.db.engine import transaction
from service.db.models import ReviewTask, ShadowResult
from service.domain.review.tasks import COMPLETED
from service.domain.shadow import ShadowPair, describe_pair, latest_pair_of
from service.domain.shadow_traffic import ShadowRecord, save_counts
from service.hosting.shadow import ShadowRunner

ANOMALY = "anomaly"


@dataclass(frozen=True)
class Answer:
    model_version: int
    is_anomalous: bool
    score: float
    confidence: float
    latency_ms: float


@dataclass(frozen=True)
class ComparedDetection:
    """One recorded detection with the answers of the pair's current live and shadow models."""

    row: ShadowResult
    live: Answer
    shadow: Answer


@dataclass(frozen=True)
class ModelSide:
    model_version: int
    anomalous: int
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    false_positives: int
    false_negatives: int


@dataclass(frozen=True)
class ShadowComparison:
    described: ShadowPair
    compared: int
    agreeing: int
    live_only_anomalous: int
    shadow_only_anomalous: int
    score_correlation: float | None
    live: ModelSide
    shadow: ModelSide
    reviewed: int
    disagreements: list[ComparedDetection]

    @property
    def agreement_rate(self) -> float | None:
        return self.agreeing / self.compared if self.compared else None


def oriented(row: ShadowResult, live_model_id: int) -> ComparedDetection:
    """The row's two answers as the pair's current live and shadow models gave them."""
    answered = Answer(row.live_version, row.live_is_anomalous, row.live_score, row.live_confidence, row.live_latency_ms)
    copied = Answer(
        row.shadow_version, row.shadow_is_anomalous, row.shadow_score, row.shadow_confidence, row.shadow_latency_ms
    )
    if row.live_model_id == live_model_id:
        return ComparedDetection(row=row, live=answered, shadow=copied)
    return ComparedDetection(row=row, live=copied, shadow=answered)


def _percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def _correlation(first: list[float], second: list[float]) -> float | None:
    if len(first) < 2 or np.std(first) == 0 or np.std(second) == 0:
        return None
    return float(np.corrcoef(first, second)[0, 1])


def _side(version: int, answers: list[Answer], verdicts: list[tuple[Answer, bool]]) -> ModelSide:
    latencies = [answer.latency_ms for answer in answers]
    return ModelSide(
        model_version=version,
        anomalous=sum(answer.is_anomalous for answer in answers),
        latency_p50_ms=_percentile(latencies, 50),
        latency_p99_ms=_percentile(latencies, 99),
        false_positives=sum(answer.is_anomalous and not human for answer, human in verdicts),
        false_negatives=sum(not answer.is_anomalous and human for answer, human in verdicts),
    )


def compare(
    described: ShadowPair, rows: list[ShadowResult], human: dict[int, bool], *, max_disagreements: int
) -> ShadowComparison:
    """The comparison of `rows` (oldest first); `human` maps completed review task ids to "anomalous"."""
    detections = [oriented(row, described.pair.live_model_id) for row in rows]
    disagreeing = [item for item in detections if item.live.is_anomalous != item.shadow.is_anomalous]
    reviewed = [(item, human[item.row.review_task_id]) for item in detections if item.row.review_task_id in human]
    return ShadowComparison(
        described=described,
        compared=len(detections),
        agreeing=len(detections) - len(disagreeing),
        live_only_anomalous=sum(item.live.is_anomalous for item in disagreeing),
        shadow_only_anomalous=sum(item.shadow.is_anomalous for item in disagreeing),
        score_correlation=_correlation(
            [item.live.score for item in detections], [item.shadow.score for item in detections]
        ),
        live=_side(
            described.live_version,
            [item.live for item in detections],
            [(item.live, verdict) for item, verdict in reviewed],
        ),
        shadow=_side(
            described.shadow_version,
            [item.shadow for item in detections],
            [(item.shadow, verdict) for item, verdict in reviewed],
        ),
        reviewed=len(reviewed),
        disagreements=list(reversed(disagreeing))[:max_disagreements],
    )


def shadow_comparison(
    engine: Engine,
    runner: ShadowRunner[ShadowRecord],
    *,
    project_name: str,
    version: str,
    max_disagreements: int,
) -> ShadowComparison:
    """The comparison of the running pair of model `version` (or of its last pair), with every result recorded so far."""
    runner.flush()
    save_counts(engine, runner)
    with transaction(engine) as session:
        pair = latest_pair_of(session, project_name=project_name, version=version)
        described = describe_pair(session, pair, project_name)
        rows = list(
            session.exec(select(ShadowResult).where(ShadowResult.shadow_id == pair.id).order_by(col(ShadowResult.id)))
        )
        task_ids = {row.review_task_id for row in rows if row.review_task_id is not None}
        tasks = session.exec(
            select(ReviewTask.id, ReviewTask.human_verdict).where(
                col(ReviewTask.id).in_(task_ids), ReviewTask.status == COMPLETED
            )
        ).all()
    human = {task_id: verdict == ANOMALY for task_id, verdict in tasks if task_id is not None}
    return compare(described, rows, human, max_disagreements=max_disagreements)

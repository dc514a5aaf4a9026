"""The shadow comparison as a pure function of recorded rows: orientation after a promotion, both directions,
correlation, latency percentiles and each model's would-be mistakes against human verdicts."""

from datetime import UTC, datetime

import numpy as np
import pytest

from service.db.models import ShadowModel, ShadowResult
from service.domain.shadow import ShadowPair
from service.domain.shadow_comparison import compare

V1, V2 = 11, 22  # model ids of versions 1 and 2


def row(index: int, *, answered_by: int, v1: tuple[bool, float], v2: tuple[bool, float], task: int | None = None):
    """A recorded detection: who answered (live at the time) and what each version said."""
    live, shadow = (v1, v2) if answered_by == V1 else (v2, v1)
    versions = (1, 2) if answered_by == V1 else (2, 1)
    return ShadowResult(
        id=index,
        shadow_id=1,
        detected_at=datetime(2026, 12, 2, tzinfo=UTC),
        live_model_id=answered_by,
        live_version=versions[0],
        live_is_anomalous=live[0],
        live_score=live[1],
        live_confidence=0.7,
        live_anomaly_fraction=0.0,
        live_threshold=0.5,
        live_latency_ms=10.0 + index,
        shadow_model_id=V2 if answered_by == V1 else V1,
        shadow_version=versions[1],
        shadow_is_anomalous=shadow[0],
        shadow_score=shadow[1],
        shadow_confidence=0.6,
        shadow_threshold=0.5,
        shadow_latency_ms=5.0 + index,
        agrees=live[0] == shadow[0],
        image_format="png",
        width=8,
        height=8,
        review_task_id=task,
    )


def pair(live_model_id: int) -> ShadowPair:
    shadow_model_id = V2 if live_model_id == V1 else V1
    model = ShadowModel(project_id=1, live_model_id=live_model_id, shadow_model_id=shadow_model_id, status="ACTIVE")
    versions = (1, 2) if live_model_id == V1 else (2, 1)
    return ShadowPair(pair=model, project_name="p", live_version=versions[0], shadow_version=versions[1])


ROWS = [
    row(1, answered_by=V1, v1=(True, 0.8), v2=(True, 0.7)),
    row(2, answered_by=V1, v1=(True, 0.6), v2=(False, 0.4), task=101),
    row(3, answered_by=V2, v1=(False, 0.2), v2=(True, 0.55), task=102),  # after a promotion: version 2 answered
    row(4, answered_by=V2, v1=(False, 0.1), v2=(False, 0.3), task=103),
]
HUMAN = {101: True, 102: False, 103: True}  # task id -> reviewer said anomalous


def test_every_row_counts_for_the_version_it_describes_whoever_answered() -> None:
    found = compare(pair(V1), ROWS, HUMAN, max_disagreements=10)
    assert (found.compared, found.agreeing, found.agreement_rate) == (4, 2, 0.5)
    assert (found.live_only_anomalous, found.shadow_only_anomalous) == (1, 1)
    assert (found.live.model_version, found.live.anomalous) == (1, 2)
    assert (found.shadow.model_version, found.shadow.anomalous) == (2, 2)
    assert found.score_correlation == pytest.approx(np.corrcoef([0.8, 0.6, 0.2, 0.1], [0.7, 0.4, 0.55, 0.3])[0, 1])
    assert found.live.latency_p50_ms == pytest.approx(np.percentile([11.0, 12.0, 8.0, 9.0], 50))
    assert found.reviewed == 3
    assert (found.live.false_positives, found.live.false_negatives) == (0, 1)  # row 4: version 1 missed it
    assert (found.shadow.false_positives, found.shadow.false_negatives) == (1, 2)
    assert [item.row.id for item in found.disagreements] == [3, 2], "newest first"


def test_after_a_promotion_the_roles_swap_and_the_figures_follow_them() -> None:
    before, after = (
        compare(pair(V1), ROWS, HUMAN, max_disagreements=1),
        compare(pair(V2), ROWS, HUMAN, max_disagreements=1),
    )
    assert after.live == before.shadow and after.shadow == before.live
    assert (after.live_only_anomalous, after.shadow_only_anomalous) == (
        before.shadow_only_anomalous,
        before.live_only_anomalous,
    )
    assert len(after.disagreements) == 1 and after.disagreements[0].live.model_version == 2


def test_no_rows_no_rates() -> None:
    found = compare(pair(V1), [], {}, max_disagreements=5)
    assert (found.compared, found.agreement_rate, found.score_correlation, found.live.latency_p50_ms) == (
        0,
        None,
        None,
        None,
    )

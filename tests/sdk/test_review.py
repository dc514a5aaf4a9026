"""The SDK's review surface against a live server: policy, ReviewTask objects, adding to a dataset, statistics."""

import io

import numpy as np
import pytest
from PIL import Image

import sdk
from service.auth.roles import Role
from tests.helpers.live_server import LiveServer
from tests.review.seed import SIZE, png, seed_tasks
from tests.sdk.conftest import sdk_client


def test_policy_round_trip(project: sdk.Project) -> None:
    with pytest.raises(sdk.NotFoundError):
        _ = project.review_policy
    set_policy = project.set_review_policy(confidence_below=0.7, sampling_percent=5, score_band=(0.4, 0.6))
    assert isinstance(set_policy, sdk.ReviewPolicy)
    policy = project.review_policy
    assert (policy.confidence_below, policy.sampling_percent, policy.required_reviews) == (0.7, 5.0, 1)
    assert policy.score_band is not None and (policy.score_band.low, policy.score_band.high) == (0.4, 0.6)
    with pytest.raises(sdk.ValidationError):
        project.set_review_policy(hourly_cap=-1)


def test_review_tasks_claim_complete_release_and_statistics(server: LiveServer, project: sdk.Project) -> None:
    ids = seed_tasks(server, project.name, [0.3, 0.55, 0.9], sampled={2})
    pair = server.context.keys.create(role=Role.REVIEWER, description="sdk reviewer")
    with (
        sdk_client(server) as admin,
        sdk.Client(
            server.url,
            access_key_id=pair.access_key_id,
            secret_access_key=pair.secret_access_key,
            region=server.settings.region,
        ) as reviewer_client,
    ):
        reviewer = sdk.Project.get(project.name, client=reviewer_client)
        task = reviewer.next_review_task()
        assert isinstance(task, sdk.ReviewTask) and task.task_id == ids[1] and task.status == "CLAIMED"
        task.release()
        assert task.status == "PENDING" and task.claimed_by is None
        task.claim()
        described = task.describe()
        assert described.image is not None and Image.open(io.BytesIO(described.image)).size == (SIZE, SIZE)
        assert described.heatmap is not None and described.heatmap.startswith(b"\x89PNG")
        mask = np.zeros((SIZE, SIZE), dtype=np.uint8)
        mask[2:6, 2:6] = 255
        task.complete("anomaly", mask=png(mask), note="scratch")
        assert (task.status, task.human_verdict) == ("COMPLETED", "anomaly")
        assert task.actions[0].note == "scratch" and task.actions[0].has_mask
        for _ in range(2):
            following = reviewer.next_review_task()
            assert following is not None
            following.complete("normal")
        assert reviewer.next_review_task() is None

        tasks = list(sdk.Project.get(project.name, client=admin).review_tasks(status="COMPLETED", page_size=1))
        assert [t.task_id for t in tasks] == ids
        added = project.add_reviews_to_dataset("test", verdict="anomaly")
        assert added.added_task_ids == [ids[1]] and added.image_stats is not None
        assert added.image_stats.anomaly == 1
        assert project.add_reviews_to_dataset("test", task_ids=[ids[1]]).already_added_task_ids == [ids[1]]
        stats = project.review_statistics("1")
        assert isinstance(stats, sdk.ReviewStatistics)
        assert (stats.routed, stats.completed, stats.queue_depth) == (3, 3, 0)
        assert stats.audits.completed == 1 and stats.audits.false_positives == 1
        assert stats.precision is not None and stats.precision.estimate == 0.0 and stats.recall is None
        assert (
            stats.false_positives == 1 and stats.false_negatives == 0 and stats.agreement_rate == pytest.approx(2 / 3)
        )
        assert stats.reviewers == [pair.access_key_id]


def test_detection_result_reads_human_review() -> None:
    result = sdk.DetectionResult(
        {"IsAnomalous": False, "Confidence": 0.6}, human_review={"Routed": True, "TaskId": "4", "Reason": "SAMPLED"}
    )
    assert result.human_review == sdk.HumanReview(routed=True, reason="SAMPLED", task_id="4")
    assert sdk.DetectionResult({"IsAnomalous": True}).human_review is None

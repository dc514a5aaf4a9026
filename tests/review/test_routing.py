"""Routing inside DetectAnomalies: the policy's conditions, caps and pause, the HumanReview member of the reply."""

import hashlib
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sqlmodel import select

from service.db.engine import transaction
from service.db.models import Project, ReviewPolicy
from service.domain.review.routing import sample_value
from tests.helpers.live_server import LiveServer
from tests.api.test_hosting import TinyModel
from tests.review.conftest import detect, error_code, images


def test_without_a_policy_the_reply_is_unchanged(lv: Any, hosted: str, tiny_model: TinyModel) -> None:
    reply = detect(lv, hosted, images(tiny_model, 1)[0])
    assert "HumanReview" not in reply and "DetectAnomalyResult" in reply


def test_low_confidence_and_sampled_detections_are_routed_exactly(
    server: LiveServer, lv: Any, hosted: str, tiny_model: TinyModel
) -> None:
    policy = lv.put_review_policy(ProjectName=hosted, ConfidenceBelow=0.8, SamplingPercent=30)["ReviewPolicy"]
    assert policy["ConfidenceBelow"] == 0.8 and policy["SamplingPercent"] == 30
    seed = sampling_seed(server, hosted)
    for body in images(tiny_model, 12):
        reply = detect(lv, hosted, body)
        result, review = reply["DetectAnomalyResult"], reply["HumanReview"]
        sampled = sample_value(seed, hashlib.sha256(body).hexdigest()) < 0.30
        expected = "SAMPLED" if sampled else "LOW_CONFIDENCE" if result["Confidence"] < 0.8 else "NOT_MATCHED"
        assert review["Reason"] == expected
        assert review["Routed"] is (expected != "NOT_MATCHED")
        assert ("TaskId" in review) is review["Routed"]


def sampling_seed(server: LiveServer, project: str) -> str:
    """The policy's sampling seed, read from the database (the API does not show it)."""
    with transaction(server.context.engine) as session:
        project_id = session.exec(select(Project.id).where(Project.name == project)).one()
        return session.exec(select(ReviewPolicy.sampling_seed).where(ReviewPolicy.project_id == project_id)).one()

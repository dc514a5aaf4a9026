"""Storage errors never reach the caller as such: the domain decides what a missing object means."""

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError
from sqlmodel import select

from service.db.engine import transaction
from service.db.models import Model, Project
from tests.api.test_hosting import TinyModel
from tests.helpers.live_server import LiveServer
from tests.hosting.models import add_trained_model, tiny_model

__all__ = ["tiny_model"]


def test_a_missing_internal_file_is_an_internal_error_that_names_no_bucket(
    server: LiveServer, lv: Any, project_name: str, tiny_model: TinyModel
) -> None:
    lv.create_project(ProjectName=project_name)
    add_trained_model(server, project_name, tiny_model[0])  # artefacts only: its evaluation scores were never written
    with transaction(server.context.engine) as session:
        project = session.exec(select(Project).where(Project.name == project_name)).one()
        model = session.exec(select(Model).where(Model.project_id == project.id)).one()
        model.evaluation_end_at = datetime.now(UTC)
        session.add(model)

    with pytest.raises(ClientError) as raised:
        lv.describe_model_evaluation(ProjectName=project_name, ModelVersion="1")

    error = raised.value.response["Error"]
    assert error["Code"] == "InternalServerException"
    assert "evaluation results of model version 1 are missing" in error["Message"]
    assert "s3://" not in error["Message"] and server.settings.storage_bucket not in error["Message"]


def test_a_missing_manifest_the_caller_named_is_their_validation_error(
    server: LiveServer, lv: Any, project_name: str
) -> None:
    lv.create_project(ProjectName=project_name)
    with pytest.raises(ClientError) as raised:
        lv.create_dataset(
            ProjectName=project_name,
            DatasetType="train",
            DatasetSource={"GroundTruthManifest": {"S3Object": {"Bucket": "openlv", "Key": "absent.manifest"}}},
        )
    error = raised.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert error["Message"] == "The manifest s3://openlv/absent.manifest does not exist (NoSuchKey)."

"""ClientToken lifetime: 8 hours as in AWS, and forgotten with the project it was used on (finding 10)."""

from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from sqlalchemy import update
from sqlmodel import col

from service.db.engine import transaction
from service.db.models import IdempotencyRecord, utcnow
from tests.helpers.live_server import LiveServer


def age_token(server: LiveServer, token: str, by: timedelta) -> None:
    with transaction(server.context.engine) as session:
        session.execute(
            update(IdempotencyRecord)
            .where(col(IdempotencyRecord.client_token) == token)
            .values(created_at=utcnow() - by)
        )


def test_a_token_reused_after_delete_project_creates_the_project_again(lv: Any, project_name: str) -> None:
    token = f"{project_name}-create"
    lv.create_project(ProjectName=project_name, ClientToken=token)
    lv.delete_project(ProjectName=project_name)
    lv.create_project(ProjectName=project_name, ClientToken=token)
    assert lv.describe_project(ProjectName=project_name)["ProjectDescription"]["ProjectName"] == project_name


def test_a_token_is_remembered_for_eight_hours(server: LiveServer, lv: Any, project_name: str) -> None:
    token = f"{project_name}-tok"
    lv.create_project(ProjectName=f"{project_name}-a", ClientToken=token)
    age_token(server, token, timedelta(hours=7, minutes=59))
    with pytest.raises(ClientError) as raised:
        lv.create_project(ProjectName=f"{project_name}-b", ClientToken=token)
    assert raised.value.response["Error"]["Code"] == "ConflictException"

    age_token(server, token, timedelta(hours=8, minutes=1))
    lv.create_project(ProjectName=f"{project_name}-b", ClientToken=token)
    assert lv.describe_project(ProjectName=f"{project_name}-b")["ProjectDescription"]["ProjectName"].endswith("-b")

"""The role check alone: an operation without a rule is refused to every role, admin included."""

import pytest
from fastapi.routing import APIRoute

from service.auth.roles import Role, authorize, operation_name
from service.errors import AccessDeniedException


def describe_model_evaluation() -> None:
    """A handler named like its operation."""


@pytest.mark.parametrize("role", list(Role))
def test_an_operation_without_a_rule_is_refused_to_every_role(role: Role) -> None:
    with pytest.raises(AccessDeniedException, match="^Operation PutReviewPolicy has no access rule"):
        authorize(role, "PutReviewPolicy")


def test_refusal_names_role_and_operation() -> None:
    authorize(Role.INFERENCE, "DetectAnomalies")
    with pytest.raises(AccessDeniedException) as refused:
        authorize(Role.REVIEWER, "DetectAnomalies")
    assert refused.value.message == "Role 'reviewer' may not call DetectAnomalies."


def test_operation_name_is_the_handler_name_or_the_route_name() -> None:
    assert operation_name(APIRoute("/x", describe_model_evaluation)) == "DescribeModelEvaluation"
    assert operation_name(APIRoute("/x", describe_model_evaluation, name="list_projects")) == "ListProjects"

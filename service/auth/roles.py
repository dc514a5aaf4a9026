"""Who may call what: every access key has one role, and one static table says which roles may call each operation.

This module owns the role names, the operation -> roles table and the one check the auth dependency applies to every
signed request. It never looks up keys (that is `KeyStore.role_for`) and routes never check roles themselves.

An operation's name is its route handler's name in PascalCase (`create_project` -> `CreateProject`), as every handler
is named after its AWS or extension operation. An operation missing from the table is refused to every role, admin
included, so a new operation without a rule cannot slip through (and tests/api/test_roles.py fails on it).
"""

from enum import StrEnum

from fastapi.routing import APIRoute

from service.errors import AccessDeniedException


class Role(StrEnum):
    ADMIN = "admin"
    REVIEWER = "reviewer"
    INFERENCE = "inference"


ADMIN_ONLY = frozenset({Role.ADMIN})
READERS = frozenset(Role)  # read-only Describe/List of projects, datasets and models
DETECTORS = frozenset({Role.ADMIN, Role.INFERENCE})  # DetectAnomalies
REVIEWERS = frozenset({Role.ADMIN, Role.REVIEWER})  # the review queue (ListReviewTasks, ClaimReviewTask...)

# One line per operation. Add a line with every new operation, and its row in tests/api/test_roles.py.
OPERATION_ROLES: dict[str, frozenset[Role]] = {
    # projects
    "CreateProject": ADMIN_ONLY,
    "DescribeProject": READERS,
    "ListProjects": READERS,
    "DeleteProject": ADMIN_ONLY,
    # datasets
    "CreateDataset": ADMIN_ONLY,
    "DescribeDataset": READERS,
    "DeleteDataset": ADMIN_ONLY,
    "ListDatasetEntries": READERS,
    "ListDatasetProblems": READERS,
    "UpdateDatasetEntries": ADMIN_ONLY,
    "UploadDatasetImages": ADMIN_ONLY,
    "ImportDatasetEntries": ADMIN_ONLY,
    # models
    "CreateModel": ADMIN_ONLY,
    "DescribeModel": READERS,
    "ListModels": READERS,
    "DeleteModel": ADMIN_ONLY,
    "DescribeTrainingJob": ADMIN_ONLY,
    "DescribeModelEvaluation": ADMIN_ONLY,
    "GetModelCurves": ADMIN_ONLY,
    "UpdateModelThreshold": ADMIN_ONLY,
    "ListThresholdHistory": ADMIN_ONLY,
    # hosting and detection
    "StartModel": ADMIN_ONLY,
    "StopModel": ADMIN_ONLY,
    "DetectAnomalies": DETECTORS,
    "ListDetections": ADMIN_ONLY,
    # shadow mode
    "StartShadowModel": ADMIN_ONLY,
    "DescribeShadowComparison": ADMIN_ONLY,
    "PromoteShadowModel": ADMIN_ONLY,
    "StopShadowModel": ADMIN_ONLY,
    "SendShadowDisagreementsToReview": ADMIN_ONLY,
    # edge packages
    "StartModelPackagingJob": ADMIN_ONLY,
    "DescribeModelPackagingJob": ADMIN_ONLY,
    "ListModelPackagingJobs": ADMIN_ONLY,
    # tags
    "TagResource": ADMIN_ONLY,
    "UntagResource": ADMIN_ONLY,
    "ListTagsForResource": ADMIN_ONLY,
    # access keys
    "CreateAccessKey": ADMIN_ONLY,
    "ListAccessKeys": ADMIN_ONLY,
    "DeleteAccessKey": ADMIN_ONLY,
    # human review: the queue for reviewers, the policy, learning and statistics for admins
    "ListReviewTasks": REVIEWERS,
    "ClaimReviewTask": REVIEWERS,
    "DescribeReviewTask": REVIEWERS,
    "CompleteReviewTask": REVIEWERS,
    "ReleaseReviewTask": REVIEWERS,
    "SkipReviewTask": REVIEWERS,
    "PutReviewPolicy": ADMIN_ONLY,
    "DescribeReviewPolicy": ADMIN_ONLY,
    "AddReviewsToDataset": ADMIN_ONLY,
    "DescribeReviewStatistics": ADMIN_ONLY,
    # the API's own OpenAPI description (service.api.docs)
    "DescribeApi": READERS,
}


def operation_name(route: APIRoute) -> str:
    """The operation a route serves: its handler's name in PascalCase (also the route's OpenAPI operationId)."""
    return "".join(part.capitalize() for part in route.name.split("_"))


def authorize(role: Role, operation: str) -> None:
    """Raise AccessDeniedException unless `role` may call `operation`."""
    allowed = OPERATION_ROLES.get(operation)
    if allowed is None:
        raise AccessDeniedException(f"Operation {operation} has no access rule, so no role may call it.")
    if role not in allowed:
        raise AccessDeniedException(f"Role '{role}' may not call {operation}.")

"""openlv's Python SDK.

    import sdk
    project = sdk.Project.create("pcb")
    project.datasets.upload("imgs/good", label="normal")
    model = project.train(algorithm="patchcore").wait()
    model.start(min_units=1)
    result = model.detect("part.png")

Resources use the module-level default client (endpoint from `LV_ENDPOINT_URL`, credentials from the AWS sources or
`lv-home/credentials`) unless given `client=`. `boto3_client()` gives a boto3 `lookoutvision` client built from
openlv's service model.
"""

from sdk._default import default_client, set_default_client
from sdk.aio import AsyncModel
from sdk.boto import boto3_client, data_path
from sdk.client import AsyncClient, Client
from sdk.detection import Box, DetectionResult, HumanReview
from sdk.errors import (
    AccessDeniedError,
    APIConnectionError,
    APIError,
    ConflictError,
    InternalServerError,
    LookoutVisionError,
    NoHostedModelError,
    NotFoundError,
    QuotaExceededError,
    ResourceFailedError,
    ThrottlingError,
    ValidationError,
    WaiterTimeoutError,
)
from sdk.resources.access_keys import AccessKey, AccessKeyRole, NewAccessKey
from sdk.resources.datasets import Dataset, DatasetCollection, DatasetEntry
from sdk.resources.detections import Detection
from sdk.resources.evaluation import (
    MetricIntervals,
    ModelCurves,
    ModelEvaluation,
    OperatingPoint,
    RateInterval,
    TargetOutcome,
    TrainingJob,
)
from sdk.resources.models import ALGORITHMS, RUNTIMES, Algorithm, Model, Runtime
from sdk.resources.projects import Project
from sdk.resources.review import AddedReviews, Proportion, ReviewPolicy, ReviewStatistics, ReviewTask
from sdk.resources.shadow import ShadowComparison, ShadowDisagreement, ShadowPair, ShadowReviewBatch
from sdk.resources.uploads import ImportResult, UploadResult

__all__ = [
    "ALGORITHMS",
    "RUNTIMES",
    "APIConnectionError",
    "APIError",
    "AccessDeniedError",
    "AccessKey",
    "AccessKeyRole",
    "AddedReviews",
    "Algorithm",
    "AsyncClient",
    "AsyncModel",
    "Box",
    "Client",
    "ConflictError",
    "Dataset",
    "DatasetCollection",
    "DatasetEntry",
    "Detection",
    "DetectionResult",
    "HumanReview",
    "ImportResult",
    "InternalServerError",
    "LookoutVisionError",
    "MetricIntervals",
    "Model",
    "ModelCurves",
    "ModelEvaluation",
    "NewAccessKey",
    "NoHostedModelError",
    "NotFoundError",
    "OperatingPoint",
    "Project",
    "Proportion",
    "QuotaExceededError",
    "RateInterval",
    "ResourceFailedError",
    "ReviewPolicy",
    "ReviewStatistics",
    "ReviewTask",
    "Runtime",
    "ShadowComparison",
    "ShadowDisagreement",
    "ShadowPair",
    "ShadowReviewBatch",
    "TargetOutcome",
    "ThrottlingError",
    "TrainingJob",
    "UploadResult",
    "ValidationError",
    "WaiterTimeoutError",
    "boto3_client",
    "data_path",
    "default_client",
    "set_default_client",
]

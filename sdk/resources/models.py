"""`Model`: CreateModel, DescribeModel, ListModels, DeleteModel, StartModel, StopModel, DetectAnomalies, and the
openlv training, evaluation, threshold and shadow-mode extensions."""

import os
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any, Literal, Self, get_args

from sdk._transport import api_path
from sdk.client import Client
from sdk.detection import DetectionResult, ImageInput, image_payload
from sdk.errors import NotFoundError
from sdk.pagination import paginate
from sdk.resources import shadow as shadow_mode
from sdk.resources._base import client_token_header, resolve_client
from sdk.resources.detections import Detection, list_detections
from sdk.resources.evaluation import (
    ModelCurves,
    ModelEvaluation,
    ModelPerformance,
    OperatingPoint,
    ThresholdChange,
    TrainingJob,
)
from sdk.resources.packaging import start_packaging_job
from sdk.resources.shadow import ShadowComparison, ShadowPair, ShadowReviewBatch
from sdk.resources.tags import TaggedResource
from sdk.waiters import wait_for

DEFAULT_OUTPUT_BUCKET = "openlv"
Algorithm = Literal[
    "draem",
    "efficient_ad",
    "fastflow",
    "padim",
    "patchcore",
    "reverse_distillation",
    "stfpm",
]
"""The algorithms a server trains (the service model's `AlgorithmName` enum; `lv models train --algorithm`)."""
ALGORITHMS: tuple[Algorithm, ...] = get_args(Algorithm)
Runtime = Literal["onnxruntime", "openvino", "openvino-int8"]
"""The inference runtimes a hosted model runs with (the service model's `Runtime` enum; `lv models start --runtime`):
`openvino-int8` is quantised by the server, which refuses it (ValidationError) when it loses accuracy."""
RUNTIMES: tuple[Runtime, ...] = get_args(Runtime)
TRAINED = ("TRAINED", "STARTING_HOSTING", "HOSTED", "HOSTING_FAILED", "STOPPING_HOSTING", "SYSTEM_UPDATING")

TrainingCallback = Callable[[TrainingJob], None]
"""Called on every poll while a model trains, with its job (phase, percent) and the log lines new since last call."""
HostingCallback = Callable[["Model"], None]
"""Called on every poll while a model starts or stops hosting."""


def _hyperparameter(value: Any) -> str:
    """Hyperparameters travel as strings; booleans in the lower case the engine parses."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Model(TaggedResource):
    """A model version of a project."""

    project_name: str
    model_version: str
    model_arn: str
    creation_timestamp: datetime | None = None
    description: str | None = None
    status: str | None = None
    status_message: str | None = None
    performance: ModelPerformance | None = None
    algorithm: str | None = None
    hyperparameters: dict[str, str] | None = None
    min_inference_units: int | None = None
    max_inference_units: int | None = None
    evaluation_end_timestamp: datetime | None = None
    runtime: str | None = None
    """The inference runtime the model is hosted with (or will be at its next start)."""
    shadow_pair: dict[str, str] | None = None
    """`LiveModelVersion` and `ShadowModelVersion` of the running shadow pair this version belongs to, if any."""

    @property
    def arn(self) -> str:
        return self.model_arn

    @property
    def version(self) -> str:
        return self.model_version

    def _path(self, *segments: str) -> str:
        return api_path("projects", self.project_name, "models", self.model_version, *segments)

    @classmethod
    def get(cls, project_name: str, version: str, *, client: Client | None = None) -> Self:
        client = resolve_client(client)
        answer = client.request("GET", api_path("projects", project_name, "models", version))
        return cls.bind(client, answer["ModelDescription"], ProjectName=project_name)

    def refresh(self) -> Self:
        return self._replace_with(type(self).get(self.project_name, self.model_version, client=self.client))

    def delete(self) -> None:
        self.client.request("DELETE", self._path(), headers=client_token_header())

    def training_job(self, *, log_after: int = 0) -> TrainingJob:
        answer = self.client.request("GET", self._path("training"), params={"logAfter": log_after or None})
        return TrainingJob.model_validate({**answer["TrainingJob"], "Log": answer.get("Log", [])})

    def wait(
        self, *, timeout: float = 3600.0, poll_interval: float = 1.0, progress: TrainingCallback | None = None
    ) -> Self:
        """Block until trained (ResourceFailedError on TRAINING_FAILED, WaiterTimeoutError after `timeout` s)."""
        last_log_id = 0

        def report(model: "Model") -> None:
            nonlocal last_log_id
            if progress is None:
                return
            try:
                job = model.training_job(log_after=last_log_id)
            except NotFoundError:
                return
            if job.log:
                last_log_id = job.log[-1].id
            progress(job)

        return wait_for(
            self.refresh,
            lambda model: model.status or "",
            wanted=TRAINED,
            failed=("TRAINING_FAILED",),
            timeout=timeout,
            poll_interval=poll_interval,
            describe=lambda model: f"model {self.project_name}/{self.model_version}",
            on_poll=report,
            failure_detail=lambda model: model.status_message,
        )

    def start(
        self,
        min_units: int = 1,
        max_units: int | None = None,
        *,
        runtime: Runtime | None = None,
        wait: bool = True,
        timeout: float = 600.0,
        progress: HostingCallback | None = None,
    ) -> Self:
        """Host the model (StartModel); by default block until HOSTED. `runtime` picks the inference runtime (default:
        the model's, else the server's)."""
        body: dict[str, Any] = {"MinInferenceUnits": min_units}
        if max_units is not None:
            body["MaxInferenceUnits"] = max_units
        if runtime is not None:
            body["Runtime"] = runtime
        self.client.request("POST", self._path("start"), json_body=body, headers=client_token_header())
        return self.wait_hosted(timeout=timeout, progress=progress) if wait else self.refresh()

    def stop(self, *, wait: bool = True, timeout: float = 600.0, progress: HostingCallback | None = None) -> Self:
        """Stop hosting (StopModel); by default block until the model is back to TRAINED."""
        self.client.request("POST", self._path("stop"), headers=client_token_header())
        if not wait:
            return self.refresh()
        return self._wait_status(("TRAINED",), ("HOSTING_FAILED",), timeout=timeout, progress=progress)

    def wait_hosted(
        self, *, timeout: float = 600.0, poll_interval: float = 0.5, progress: HostingCallback | None = None
    ) -> Self:
        return self._wait_status(
            ("HOSTED",),
            ("HOSTING_FAILED", "TRAINING_FAILED"),
            timeout=timeout,
            poll_interval=poll_interval,
            progress=progress,
        )

    def _wait_status(
        self,
        wanted: tuple[str, ...],
        failed: tuple[str, ...],
        *,
        timeout: float,
        poll_interval: float = 0.5,
        progress: HostingCallback | None = None,
    ) -> Self:
        return wait_for(
            self.refresh,
            lambda model: model.status or "",
            wanted=wanted,
            failed=failed,
            timeout=timeout,
            poll_interval=poll_interval,
            describe=lambda model: f"model {self.project_name}/{self.model_version}",
            on_poll=progress,
            failure_detail=lambda model: model.status_message,
        )

    def detect(self, image: ImageInput) -> DetectionResult:
        """DetectAnomalies on a hosted model: a path, PNG/JPEG bytes or a PIL image."""
        body, content_type = image_payload(image)
        answer = self.client.request("POST", self._path("detect"), content=body, headers={"Content-Type": content_type})
        source = str(image) if isinstance(image, str | os.PathLike) else None
        return DetectionResult(answer["DetectAnomalyResult"], source=source, human_review=answer.get("HumanReview"))

    def detections(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        anomalous_only: bool = False,
        page_size: int | None = None,
    ) -> Iterator[Detection]:
        """This model's DetectAnomalies log, newest first."""
        return list_detections(
            self.client,
            self.project_name,
            model_version=self.model_version,
            since=since,
            until=until,
            anomalous_only=anomalous_only,
            page_size=page_size,
        )

    def package(
        self, configuration: Mapping[str, Any], *, job_name: str | None = None, description: str | None = None
    ) -> str:
        """StartModelPackagingJob for this model; returns the job name (see `project.packaging_job(name)`)."""
        return start_packaging_job(
            self.client,
            self.project_name,
            self.model_version,
            configuration=configuration,
            job_name=job_name,
            description=description,
        )

    @property
    def metrics(self) -> ModelEvaluation:
        """The test-set evaluation at the current threshold, intervals at 95 % (DescribeModelEvaluation)."""
        return self.evaluation()

    def evaluation(self, *, confidence: float | None = None) -> ModelEvaluation:
        """DescribeModelEvaluation with the rates' intervals at `confidence` (0.95 when None)."""
        params = {"confidence": confidence}
        return ModelEvaluation.model_validate(self.client.request("GET", self._path("evaluation"), params=params))

    def curves(self, *, confidence: float | None = None) -> ModelCurves:
        """GetModelCurves with each point's interval band at `confidence` (0.95 when None)."""
        params = {"confidence": confidence}
        return ModelCurves.model_validate(self.client.request("GET", self._path("curves"), params=params))

    def set_threshold(
        self,
        *,
        target_recall: float | None = None,
        target_precision: float | None = None,
        target_fpr: float | None = None,
        value: float | None = None,
        f1_optimal: bool = False,
        confidence: float | None = None,
    ) -> OperatingPoint:
        """Move the image threshold by exactly one policy; hosted copies pick it up without a restart.

        With `confidence` (targets only), the threshold is chosen so that the metric's one-sided Clopper-Pearson
        bound meets the target: `set_threshold(target_recall=0.99, confidence=0.95)` claims recall >= 0.99 on the
        next parts with 95 % confidence. A target no threshold meets raises `ValidationError` saying what is
        reachable, or how many test images the claim needs.
        """
        choices = {
            "TARGET_RECALL": target_recall,
            "TARGET_PRECISION": target_precision,
            "TARGET_FPR": target_fpr,
            "MANUAL": value,
        }
        chosen = [(policy, number) for policy, number in choices.items() if number is not None]
        if len(chosen) + int(f1_optimal) != 1:
            raise ValueError("pass exactly one of target_recall, target_precision, target_fpr, value, f1_optimal")
        policy, number = chosen[0] if chosen else ("F1_OPTIMAL", None)
        body: dict[str, Any] = {"Policy": policy}
        if number is not None:
            body["Value"] = number
        if confidence is not None:
            body["Confidence"] = confidence
        return OperatingPoint.model_validate(self.client.request("PUT", self._path("threshold"), json_body=body))

    def shadow(self, *, live: "Model | str", sample_percent: float = 100.0) -> ShadowPair:
        """StartShadowModel: run this hosted version in the shadow of `live` (a `Model` or a version of this project).

        From then on DetectAnomalies addressed to either version is answered by the live one, and this one's answers
        to a copy of `sample_percent` of the requests are recorded for `describe_shadow_comparison()`."""
        if isinstance(live, Model):
            version, project = live.model_version, live.project_name
        else:
            version, project = live, None
        return shadow_mode.start_shadow(
            self.client,
            self.project_name,
            self.model_version,
            live_version=version,
            live_project_name=project,
            sample_percent=sample_percent,
        )

    def describe_shadow_comparison(self, *, max_disagreements: int | None = None) -> ShadowComparison:
        """How the two models of this version's running (or last) pair answered the same detections."""
        return shadow_mode.describe_comparison(
            self.client, self.project_name, self.model_version, max_disagreements=max_disagreements
        )

    def promote_shadow(self) -> ShadowPair:
        """PromoteShadowModel: swap the live and shadow models of this version's pair; call again to roll back."""
        return shadow_mode.promote(self.client, self.project_name, self.model_version)

    def stop_shadow(self) -> ShadowPair:
        """StopShadowModel: end this version's pair and stop hosting its shadow model (it returns to TRAINED)."""
        return shadow_mode.stop(self.client, self.project_name, self.model_version)[0]

    def send_shadow_disagreements_to_review(self, *, max_tasks: int = 100) -> ShadowReviewBatch:
        """Route the pair's disagreements not yet in review to the reviewer queue (reason SHADOW_DISAGREEMENT)."""
        return shadow_mode.send_to_review(self.client, self.project_name, self.model_version, max_tasks=max_tasks)

    def threshold_history(self, *, page_size: int | None = None) -> Iterator[ThresholdChange]:
        def fetch(token: str | None) -> dict[str, Any]:
            params = {"nextToken": token, "maxResults": page_size}
            return self.client.request("GET", self._path("threshold", "history"), params=params)

        return paginate(fetch, "Changes", ThresholdChange.model_validate)


def create_model(
    client: Client,
    project_name: str,
    *,
    algorithm: Algorithm | None = None,
    hyperparameters: Mapping[str, Any] | None = None,
    weights: str | None = None,
    image_size: int | None = None,
    tile_size: int | str | None = None,
    runtime: Runtime | None = None,
    description: str | None = None,
    output_s3_uri: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> Model:
    bucket, _, prefix = (output_s3_uri or f"s3://{DEFAULT_OUTPUT_BUCKET}/").removeprefix("s3://").partition("/")
    body: dict[str, Any] = {"OutputConfig": {"S3Location": {"Bucket": bucket, "Prefix": prefix}}}
    optional = {
        "Algorithm": algorithm,
        "Hyperparameters": {key: _hyperparameter(value) for key, value in hyperparameters.items()}
        if hyperparameters
        else None,
        "BackboneWeights": weights,
        "ImageSize": image_size,
        "TileSize": str(tile_size) if tile_size is not None else None,
        "Runtime": runtime,
        "Description": description,
        "Tags": [{"Key": key, "Value": value} for key, value in tags.items()] if tags else None,
    }
    body.update({key: value for key, value in optional.items() if value is not None})
    answer = client.request(
        "POST", api_path("projects", project_name, "models"), json_body=body, headers=client_token_header()
    )
    return Model.bind(client, answer["ModelMetadata"], ProjectName=project_name)


def list_models(client: Client, project_name: str, *, page_size: int | None = None) -> Iterator[Model]:
    """Every model version of the project, newest first (items hold ListModels' summary fields)."""

    def fetch(token: str | None) -> dict[str, Any]:
        params = {"nextToken": token, "maxResults": page_size}
        return client.request("GET", api_path("projects", project_name, "models"), params=params)

    return paginate(fetch, "Models", lambda item: Model.bind(client, item, ProjectName=project_name))

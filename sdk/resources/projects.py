"""`Project`: CreateProject, DescribeProject, ListProjects, DeleteProject, and the way in to datasets and models."""

import builtins
import time
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, Self

from pydantic import Field

from sdk._transport import api_path
from sdk.client import Client
from sdk.errors import NoHostedModelError, WaiterTimeoutError
from sdk.pagination import paginate
from sdk.resources._base import WireModel, client_token_header, resolve_client
from sdk.resources.datasets import DatasetCollection
from sdk.resources.detections import Detection, list_detections
from sdk.resources.models import Algorithm, Model, Runtime, create_model, list_models
from sdk.resources.packaging import PackagingJob, describe_packaging_job, list_packaging_jobs
from sdk.resources.review import (
    AddedReviews,
    ReviewPolicy,
    ReviewStatistics,
    ReviewTask,
    add_reviews_to_dataset,
    claim_next,
    get_review_policy,
    list_review_tasks,
    put_review_policy,
    review_statistics,
)
from sdk.resources.tags import TaggedResource


class DatasetSummary(WireModel):
    dataset_type: str
    creation_timestamp: datetime | None = None
    status: str | None = None
    status_message: str | None = None


class Project(TaggedResource):
    """A Lookout for Vision project. `Project.create("pcb")` uses the default client unless given one."""

    project_name: str
    project_arn: str
    creation_timestamp: datetime | None = None
    dataset_summaries: builtins.list[DatasetSummary] = Field(default_factory=builtins.list, alias="Datasets")

    @property
    def name(self) -> str:
        return self.project_name

    @property
    def arn(self) -> str:
        return self.project_arn

    @classmethod
    def create(cls, name: str, *, tags: Mapping[str, str] | None = None, client: Client | None = None) -> Self:
        client = resolve_client(client)
        answer = client.request(
            "POST", api_path("projects"), json_body={"ProjectName": name}, headers=client_token_header()
        )
        project = cls.bind(client, answer["ProjectMetadata"])
        if tags:
            project.tag(tags)
        return project

    @classmethod
    def get(cls, name: str, *, client: Client | None = None) -> Self:
        client = resolve_client(client)
        return cls.bind(client, client.request("GET", api_path("projects", name))["ProjectDescription"])

    @classmethod
    def list(cls, *, client: Client | None = None, page_size: int | None = None) -> Iterator[Self]:
        """Every project, fetching pages as the iteration goes (items hold ListProjects' summary fields)."""
        bound = resolve_client(client)

        def fetch(token: str | None) -> dict[str, Any]:
            return bound.request("GET", api_path("projects"), params={"nextToken": token, "maxResults": page_size})

        return paginate(fetch, "Projects", lambda item: cls.bind(bound, item))

    def refresh(self) -> Self:
        return self._replace_with(type(self).get(self.project_name, client=self.client))

    def delete(self, *, force: bool = False, timeout: float = 120.0) -> None:
        """DeleteProject. The service refuses while datasets or models remain; `force` stops and deletes those first."""
        if force:
            self._delete_contents(timeout=timeout)
        self.client.request("DELETE", api_path("projects", self.project_name), headers=client_token_header())

    def _delete_contents(self, *, timeout: float) -> None:
        for model in builtins.list(self.models()):
            if model.status in ("HOSTED", "STARTING_HOSTING"):
                model.stop(timeout=timeout)
            model.delete()
        for dataset in self.datasets.list():
            dataset.delete()
        deadline = time.monotonic() + timeout
        while any(True for _ in self.models()) or self.refresh().dataset_summaries:
            if time.monotonic() > deadline:
                raise WaiterTimeoutError(
                    f"project {self.project_name} still has models or datasets after {timeout:.0f} s"
                )
            time.sleep(0.2)

    @property
    def datasets(self) -> DatasetCollection:
        """The project's train and test datasets: create, upload, import, describe, list entries."""
        return DatasetCollection(self.client, self.project_name)

    def train(
        self,
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
        """Start training a new model version (CreateModel); call `.wait()` on the result to block until trained.

        `tile_size` (pixels or "auto") trains and infers on tiles of the full-resolution images: small defects on
        large images. `runtime` is the one the model is hosted with when `start` names none."""
        return create_model(
            self.client,
            self.project_name,
            algorithm=algorithm,
            hyperparameters=hyperparameters,
            weights=weights,
            image_size=image_size,
            tile_size=tile_size,
            runtime=runtime,
            description=description,
            output_s3_uri=output_s3_uri,
            tags=tags,
        )

    def models(self, *, page_size: int | None = None) -> Iterator[Model]:
        return list_models(self.client, self.project_name, page_size=page_size)

    def model(self, version: str) -> Model:
        return Model.get(self.project_name, version, client=self.client)

    def detections(
        self,
        *,
        model_version: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        anomalous_only: bool = False,
        page_size: int | None = None,
    ) -> Iterator[Detection]:
        """The project's DetectAnomalies log, newest first."""
        return list_detections(
            self.client,
            self.project_name,
            model_version=model_version,
            since=since,
            until=until,
            anomalous_only=anomalous_only,
            page_size=page_size,
        )

    def packaging_jobs(self, *, page_size: int | None = None) -> Iterator[PackagingJob]:
        return list_packaging_jobs(self.client, self.project_name, page_size=page_size)

    def packaging_job(self, job_name: str) -> PackagingJob:
        return describe_packaging_job(self.client, self.project_name, job_name)

    def hosted_model(self) -> Model:
        """The project's only hosted model; NoHostedModelError when none or several are hosted."""
        hosted = [model for model in self.models() if model.status == "HOSTED"]
        if len(hosted) != 1:
            versions = ", ".join(model.model_version for model in hosted) or "none"
            raise NoHostedModelError(
                f"project {self.project_name} has {len(hosted)} hosted models ({versions}); name a model version"
            )
        return hosted[0]

    @property
    def review_policy(self) -> ReviewPolicy:
        """The project's review routing policy (NotFoundError when it has none)."""
        return get_review_policy(self.client, self.project_name)

    def set_review_policy(self, **settings: Any) -> ReviewPolicy:
        """PutReviewPolicy: `confidence_below=0.7, sampling_percent=5, model_version="2"`... (see `put_review_policy`)."""
        return put_review_policy(self.client, self.project_name, **settings)

    def review_tasks(
        self,
        *,
        status: str | None = None,
        model_version: str | None = None,
        reason: str | None = None,
        page_size: int | None = None,
    ) -> Iterator[ReviewTask]:
        return list_review_tasks(
            self.client,
            self.project_name,
            status=status,
            model_version=model_version,
            reason=reason,
            page_size=page_size,
        )

    def review_task(self, task_id: str) -> ReviewTask:
        return ReviewTask.get(self.project_name, task_id, client=self.client)

    def next_review_task(self, *, model_version: str | None = None) -> ReviewTask | None:
        """Claim the next review task (None when the queue is empty)."""
        return claim_next(self.client, self.project_name, model_version=model_version)

    def add_reviews_to_dataset(self, dataset_type: str, **selection: Any) -> AddedReviews:
        """`task_ids=[...]`, or a filter: `model_version`, `reason`, `verdict` (every completed task by default)."""
        return add_reviews_to_dataset(self.client, self.project_name, dataset_type, **selection)

    def review_statistics(self, model_version: str) -> ReviewStatistics:
        return review_statistics(self.client, self.project_name, model_version)

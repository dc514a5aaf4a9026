"""Tables. One family of classes per resource; API shapes are built by the translators, not here."""

from datetime import UTC, datetime

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.engine.normalised import NORMALISED_THRESHOLD

# SQLite reuses the largest rowid after a delete; ids that processes, caches or page tokens hold must stay unique.
NEVER_REUSE_IDS = {"sqlite_autoincrement": True}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Project(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=255)
    created_at: datetime = Field(default_factory=utcnow)


class Dataset(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("project_id", "dataset_type"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    dataset_type: str = Field(max_length=10)
    status: str = Field(max_length=40)
    status_message: str = Field(default="", max_length=2000)
    claimed_by: str | None = Field(default=None, max_length=128)
    problems: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))
    """The lines the last manifest (CreateDataset, UpdateDatasetEntries) had refused: [{"Entry", "Reason"}]."""
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class StoredImage(SQLModel, table=True):
    """An image or mask stored once per content hash, whatever the number of entries that use it."""

    sha256: str = Field(primary_key=True, max_length=64)
    key: str = Field(max_length=1024)
    format: str = Field(max_length=8)
    width: int
    height: int
    size_bytes: int
    created_at: datetime = Field(default_factory=utcnow)


class DatasetEntry(SQLModel, table=True):
    """One image of a dataset, identified by its source-ref (as in Lookout for Vision); entries whose source-refs hold
    the same bytes share one StoredImage."""

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id", index=True)
    image_sha256: str = Field(foreign_key="storedimage.sha256", max_length=64, index=True)
    mask_sha256: str | None = Field(default=None, foreign_key="storedimage.sha256", max_length=64, index=True)
    source_ref: str = Field(max_length=2048)
    label: str | None = Field(default=None, max_length=16, index=True)
    anomaly_class: str | None = Field(default=None, max_length=255)
    human_annotated: bool = False
    manifest_line: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)


class Tag(SQLModel, table=True):
    resource_arn: str = Field(primary_key=True, max_length=1011)
    key: str = Field(primary_key=True, max_length=128)
    value: str = Field(max_length=256)


class IdempotencyRecord(SQLModel, table=True):
    """The answer to a request made with a ClientToken, replayed when the same request comes again."""

    operation: str = Field(primary_key=True, max_length=64)
    client_token: str = Field(primary_key=True, max_length=64)
    request_hash: str = Field(max_length=64)
    response: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    project_name: str | None = Field(default=None, max_length=255, index=True)
    created_at: datetime = Field(default_factory=utcnow)


class AccessKey(SQLModel, table=True):
    """An access key: its secret (encrypted) and its role (`service.auth.roles.Role`), which says what it may call."""

    access_key_id: str = Field(primary_key=True, max_length=128)
    encrypted_secret: str = Field(max_length=512)
    role: str = Field(default="admin", max_length=16, index=True)
    description: str = Field(default="", max_length=255)
    created_at: datetime = Field(default_factory=utcnow)


class Model(SQLModel, table=True):
    """A model version of a project: its training settings, status, evaluation summary and threshold in use."""

    __table_args__ = (UniqueConstraint("project_id", "version"), NEVER_REUSE_IDS)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    version: int
    status: str = Field(max_length=40, index=True)
    status_message: str = Field(default="", max_length=2000)
    description: str = Field(default="", max_length=500)
    algorithm: str = Field(max_length=64)
    hyperparameters: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    backbone_weights: str = Field(default="imagenet", max_length=1024)
    image_size: int | None = None
    output_bucket: str = Field(default="", max_length=255)
    output_prefix: str = Field(default="", max_length=1024)
    kms_key_id: str | None = Field(default=None, max_length=2048)
    artifacts_prefix: str = Field(max_length=1024)
    image_threshold: float = NORMALISED_THRESHOLD
    threshold_policy: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    performance: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    evaluation_metrics: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    min_inference_units: int | None = None
    max_inference_units: int | None = None
    created_at: datetime = Field(default_factory=utcnow)
    evaluation_end_at: datetime | None = None
    output_manifest_key: str | None = Field(default=None, max_length=1024)
    output_result_key: str | None = Field(default=None, max_length=1024)
    runtime: str | None = Field(default=None, max_length=16)
    """The inference runtime chosen at CreateModel or at the last StartModel; None: LV_HOSTING_RUNTIME."""


class TrainingJob(SQLModel, table=True):
    """The durable record of one training run; the worker pool claims QUEUED rows and reports progress here."""

    __table_args__ = NEVER_REUSE_IDS

    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(foreign_key="model.id", unique=True)
    state: str = Field(max_length=16, index=True)
    phase: str = Field(default="queued", max_length=32)
    percent: float = 0.0
    message: str = Field(default="", max_length=2000)
    attempts: int = 0
    cancel_requested: bool = False
    worker_id: str | None = Field(default=None, max_length=128)
    heartbeat_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow, index=True)
    started_at: datetime | None = None
    finished_at: datetime | None = None


class TrainingLogLine(SQLModel, table=True):
    """One line of a training job's log, readable while the job runs."""

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(foreign_key="trainingjob.id", index=True)
    logged_at: datetime = Field(default_factory=utcnow)
    message: str = Field(max_length=2000)


class ThresholdChange(SQLModel, table=True):
    """Who changed a model's image threshold, when, from what to what, and by which policy."""

    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(foreign_key="model.id", index=True)
    changed_at: datetime = Field(default_factory=utcnow)
    changed_by: str = Field(max_length=128)
    old_threshold: float
    new_threshold: float
    policy: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Detection(SQLModel, table=True):
    """One DetectAnomalies call: the verdict, how it was reached, and where the image is kept (until retention ends).

    Rows go with their model version (ON DELETE CASCADE); images are purged by date, so none outlive the retention.
    """

    __table_args__ = NEVER_REUSE_IDS

    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(foreign_key="model.id", ondelete="CASCADE", index=True)
    model_version: int
    detected_at: datetime = Field(default_factory=utcnow, index=True)
    is_anomalous: bool = Field(index=True)
    score: float
    threshold: float
    confidence: float
    anomaly_fraction: float
    latency_ms: float
    image_key: str | None = Field(default=None, max_length=1024)
    image_bytes: int = 0
    image_format: str = Field(max_length=8)
    width: int
    height: int
    caller: str = Field(default="", max_length=128)


class PackagingJob(SQLModel, table=True):
    """A StartModelPackagingJob: the Greengrass settings asked for, where the edge bundle goes, and how it went.

    Rows go with their model version (`training_runs.remove_model_rows`); bundles already written stay in storage.
    """

    __table_args__ = (UniqueConstraint("project_id", "job_name"), NEVER_REUSE_IDS)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    model_id: int = Field(foreign_key="model.id", index=True)
    model_version: int
    job_name: str = Field(max_length=64)
    description: str = Field(default="", max_length=256)
    configuration: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    component_name: str = Field(max_length=128, index=True)
    component_version: str = Field(max_length=64)
    output_key: str = Field(max_length=1024)
    status: str = Field(max_length=16, index=True)
    status_message: str = Field(default="", max_length=2000)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ObjectDeletion(SQLModel, table=True):
    """A stored object whose last reference is gone, queued in the transaction that dropped it.

    The file is deleted after that commit, unless a writer claimed the key again first (it deletes this row)."""

    key: str = Field(primary_key=True, max_length=1024)
    queued_at: datetime = Field(default_factory=utcnow)


class ReviewPolicy(SQLModel, table=True):
    """When DetectAnomalies routes a detection to human review: per project (`model_version` 0) or per model version.

    The hour and day counters serve HourlyCap and DailyCap: a routed detection takes a place with one conditional
    UPDATE, so concurrent requests never exceed a cap.
    """

    __table_args__ = (UniqueConstraint("project_id", "model_version"), NEVER_REUSE_IDS)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", ondelete="CASCADE", index=True)
    model_version: int = 0
    confidence_below: float | None = None
    score_band_low: float | None = None
    score_band_high: float | None = None
    sampling_percent: float = 0.0
    all_anomalous: bool = False
    hourly_cap: int | None = None
    daily_cap: int | None = None
    paused: bool = False
    required_reviews: int = 1
    lease_seconds: int = 300
    task_ttl_seconds: int = 604800
    sampling_seed: str = Field(max_length=64)
    hour_window: str = Field(default="", max_length=16)
    hour_count: int = 0
    day_window: str = Field(default="", max_length=16)
    day_count: int = 0
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by: str = Field(default="", max_length=128)


class ReviewTask(SQLModel, table=True):
    """One detection routed to human review: the model's verdict, the task's own copies of the image, anomaly map and
    mask (kept whatever the detections retention says), the queue state and the final human verdict."""

    __table_args__ = NEVER_REUSE_IDS

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", ondelete="CASCADE", index=True)
    model_id: int = Field(foreign_key="model.id", ondelete="CASCADE", index=True)
    model_version: int
    reason: str = Field(max_length=32, index=True)
    sampled: bool = False
    status: str = Field(max_length=16, index=True)
    priority: float = 0.0
    detected_at: datetime
    created_at: datetime = Field(default_factory=utcnow, index=True)
    expires_at: datetime
    caller: str = Field(default="", max_length=128)
    is_anomalous: bool
    confidence: float
    score: float
    threshold: float
    anomaly_fraction: float
    image_key: str | None = Field(default=None, max_length=1024)
    image_format: str = Field(max_length=8)
    width: int
    height: int
    anomaly_map_key: str | None = Field(default=None, max_length=1024)
    mask_key: str | None = Field(default=None, max_length=1024)
    required_reviews: int = 1
    lease_seconds: int = 300
    claimed_by: str | None = Field(default=None, max_length=128)
    claimed_at: datetime | None = None
    lease_expires_at: datetime | None = None
    human_verdict: str | None = Field(default=None, max_length=16)
    human_mask_key: str | None = Field(default=None, max_length=1024)
    disputed: bool = False
    completed_at: datetime | None = None
    ended_at: datetime | None = None
    added_to: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class ReviewAction(SQLModel, table=True):
    """The audit trail of review tasks: every verdict (and skip) with who, when, and what the model had said."""

    __table_args__ = NEVER_REUSE_IDS

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="reviewtask.id", ondelete="CASCADE", index=True)
    project_id: int = Field(foreign_key="project.id", ondelete="CASCADE", index=True)
    reviewer: str = Field(max_length=128, index=True)
    action: str = Field(max_length=16)
    acted_at: datetime = Field(default_factory=utcnow)
    claimed_at: datetime | None = None
    model_is_anomalous: bool
    model_confidence: float
    model_score: float
    verdict: str | None = Field(default=None, max_length=16)
    note: str = Field(default="", max_length=1000)
    mask_key: str | None = Field(default=None, max_length=1024)


class ShadowModel(SQLModel, table=True):
    """A candidate model version run in the shadow of the live one: both see the traffic addressed to either version,
    only the live one answers. `active_project_id` is the project's id while the pair runs (NULL once stopped), so a
    project has at most one running pair, whatever the races."""

    __table_args__ = NEVER_REUSE_IDS

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", ondelete="CASCADE", index=True)
    active_project_id: int | None = Field(default=None, unique=True)
    live_model_id: int = Field(foreign_key="model.id", ondelete="CASCADE", index=True)
    shadow_model_id: int = Field(foreign_key="model.id", ondelete="CASCADE", index=True)
    sample_percent: float = 100.0
    status: str = Field(max_length=16, index=True)
    promotions: int = 0
    dropped: int = 0
    """Shadow runs skipped because the live model was busy or the shadow's units full (load shedding)."""
    failed: int = 0
    started_at: datetime = Field(default_factory=utcnow)
    started_by: str = Field(default="", max_length=128)
    updated_at: datetime = Field(default_factory=utcnow)
    stopped_at: datetime | None = None


class ShadowResult(SQLModel, table=True):
    """One detection answered by the live model and also run by its shadow: both results side by side. Disagreements
    keep the image, the live model's mask and anomaly map under `shadow/` in storage (for review)."""

    __table_args__ = NEVER_REUSE_IDS

    id: int | None = Field(default=None, primary_key=True)
    shadow_id: int = Field(foreign_key="shadowmodel.id", ondelete="CASCADE", index=True)
    detected_at: datetime = Field(default_factory=utcnow, index=True)
    caller: str = Field(default="", max_length=128)
    live_model_id: int
    live_version: int
    live_is_anomalous: bool
    live_score: float
    live_confidence: float
    live_anomaly_fraction: float
    live_threshold: float
    live_latency_ms: float
    shadow_model_id: int
    shadow_version: int
    shadow_is_anomalous: bool
    shadow_score: float
    shadow_confidence: float
    shadow_threshold: float
    shadow_latency_ms: float
    agrees: bool = Field(index=True)
    image_key: str | None = Field(default=None, max_length=1024)
    mask_key: str | None = Field(default=None, max_length=1024)
    anomaly_map_key: str | None = Field(default=None, max_length=1024)
    image_format: str = Field(max_length=8)
    width: int
    height: int
    review_task_id: int | None = Field(default=None, foreign_key="reviewtask.id", ondelete="SET NULL", index=True)

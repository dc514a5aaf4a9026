"""The one settings class. Every value can be set by an `LV_`-prefixed environment variable."""

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LV_", frozen=True)

    home: Path = Field(default=Path("lv-home"), description="Data directory: database, images, artefacts, keys.")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; SQLite under LV_HOME when unset.")
    region: str = "us-east-1"
    account_id: str = "000000000000"

    storage_backend: Literal["local", "s3"] = "local"
    storage_bucket: str = "openlv"
    s3_endpoint: str | None = Field(default=None, description="host:port of the S3-compatible server.")
    s3_access_key: str | None = None
    s3_secret_key: str | None = None
    s3_secure: bool = True
    s3_region: str | None = None
    s3_allowed_buckets: str = Field(
        default="",
        description="Comma-separated buckets besides LV_STORAGE_BUCKET that manifests, images and outputs may name "
        "(S3 backend); empty: any bucket the service's S3 credentials reach.",
    )

    auth_enabled: bool = True
    admin_access_key_id: str | None = Field(
        default=None,
        pattern=r"^LVAK[A-Z0-9]{16}$",
        description="The first admin key's id, used only on a first start (no key stored yet), with "
        "LV_ADMIN_SECRET_ACCESS_KEY; unset: a random pair. Lets a deployment know its admin key before it starts.",
    )
    admin_secret_access_key: SecretStr | None = Field(
        default=None, min_length=30, max_length=128, description="The secret of LV_ADMIN_ACCESS_KEY_ID."
    )
    auth_key_cache_ttl_s: float = Field(
        default=30.0,
        ge=0,
        description="Seconds an access key's secret and role are cached; a key deleted or changed through another API "
        "replica stops working within this time (0: read per request).",
    )
    public_api_docs: bool = Field(
        default=False,
        description="Serve /docs and /openapi.json to anyone; when false only signed requests get /openapi.json.",
    )
    host: str = "127.0.0.1"
    port: int = 8642

    max_image_bytes: int = 8 * 1024 * 1024
    min_image_side: int = 64
    max_image_side: int = 4096

    executor: Literal["embedded", "ray"] = Field(
        default="embedded",
        description="Where training runs and inference units live: worker processes and threads of the API "
        "(embedded), or Ray tasks and Ray Serve deployments (ray; needs PostgreSQL and S3).",
    )
    ray_address: str = Field(
        default="auto",
        description="The Ray cluster of LV_EXECUTOR=ray: auto (this machine is a Ray node), host:port of its GCS, "
        "ray://host:10001 (Ray Client), or local (start one inside the API process).",
    )
    training_num_cpus: float = Field(default=1.0, gt=0, description="CPUs a training run asks Ray for (ray).")
    training_num_gpus: float = Field(default=0.0, ge=0, description="GPUs a training run asks Ray for (ray).")
    ray_unit_num_cpus: float = Field(default=1.0, gt=0, description="CPUs one Ray Serve inference unit reserves.")

    max_concurrent_training: int = Field(default=1, ge=1, description="Training jobs run at once; more wait queued.")
    training_max_attempts: int = Field(default=2, ge=1, description="Runs of a job interrupted by a lost worker.")
    training_heartbeat_timeout_s: float = Field(default=60.0, gt=0, description="A silent worker is presumed lost.")
    training_cancel_grace_s: float = Field(default=15.0, ge=0, description="Wait before killing a cancelled worker.")
    training_poll_interval_s: float = Field(default=1.0, gt=0, description="How often the dispatcher looks for work.")

    detection_retention_days: int = Field(
        default=30, ge=0, description="Days a detected image is kept in storage; 0 keeps no image (the record stays)."
    )
    detection_image_max_bytes: int = Field(
        default=20 * 1024**3,
        ge=0,
        description="Most bytes of detected images kept in storage; the oldest go first beyond it. 0: no cap.",
    )
    hosting_cpu_cores: int = Field(
        default_factory=_cpu_count, ge=1, description="Cores shared by the inference units of one hosted model."
    )
    hosting_queue_per_unit: int = Field(
        default=8, ge=0, description="Requests that may wait per inference unit (at max units) before throttling."
    )
    hosting_max_batch: int = Field(default=8, ge=1, description="Most queued images of one size a unit runs at once.")
    hosting_request_timeout_s: float = Field(
        default=30.0, gt=0, description="Longest a request waits for its result before it is throttled."
    )
    hosting_scale_interval_s: float = Field(default=1.0, gt=0, description="How often the autoscaler looks at load.")
    hosting_scale_up_utilisation: float = Field(default=0.75, gt=0, le=1)
    hosting_scale_down_utilisation: float = Field(default=0.25, ge=0, lt=1)
    hosting_scale_down_after_s: float = Field(
        default=60.0, ge=0, description="Seconds of low load before one inference unit is removed."
    )
    hosting_runtime: str = Field(
        default="onnxruntime",
        pattern="^(onnxruntime|onnx|openvino|openvino-int8)$",
        description="The runtime of a StartModel that names none (nor did its CreateModel); `onnx` is the old name "
        "of `onnxruntime`.",
    )
    hosting_int8_max_auroc_drop: float = Field(
        default=0.01, description="Largest image AUROC an INT8 model may lose against its f32 graph on the test set."
    )
    hosting_cache_dir: str | None = Field(
        default=None, description="Where model artefacts are copied for serving; LV_HOME/hosting-cache when unset."
    )

    hosting_busy_poll_s: float = Field(
        default=0.001,
        ge=0,
        le=1.0,
        description="Seconds the event loop keeps polling after a DetectAnomalies answer, so that a client's next "
        "image finds it awake (service.api.busy_poll); 0: the loop sleeps at once.",
    )
    hosting_settings_ttl_s: float = Field(
        default=1.0,
        ge=0,
        description="Seconds DetectAnomalies reuses a hosted model's status, threshold and review policy before reading "
        "them again (changes made here apply at once; through another API replica, within this time).",
    )

    weights_dir: Path | None = Field(
        default=None, description="ImageNet backbone checkpoints (`lv weights import`); LV_HOME/weights when unset."
    )
    weights_base_url: str | None = Field(
        default=None, description="A mirror of download.pytorch.org/models to fetch missing checkpoints from."
    )

    @property
    def resolved_home(self) -> Path:
        return self.home.expanduser().resolve()

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.resolved_home / 'openlv.db'}"

    @property
    def allowed_buckets(self) -> frozenset[str] | None:
        """The LV_S3_ALLOWED_BUCKETS fence (None: no fence)."""
        names = frozenset(name.strip() for name in self.s3_allowed_buckets.split(",") if name.strip())
        return names or None

    @property
    def local_storage_root(self) -> Path:
        return self.resolved_home / "storage"

    @property
    def resolved_weights_dir(self) -> Path:
        return self.weights_dir.expanduser().resolve() if self.weights_dir else self.resolved_home / "weights"

    @property
    def keys_file(self) -> Path:
        return self.resolved_home / "credentials"

    @property
    def master_key_file(self) -> Path:
        """The Fernet key the access-key secrets are encrypted with; every replica of a deployment needs the same."""
        return self.resolved_home / "master.key"

    @property
    def session_key_file(self) -> Path:
        """The console's cookie-signing key; every replica of a deployment needs the same."""
        return self.resolved_home / "session.key"

    @property
    def admin_key_pair(self) -> tuple[str, str] | None:
        """(id, secret) of the first admin key when the deployment names it, else None."""
        if self.admin_access_key_id is None or self.admin_secret_access_key is None:
            return None
        return self.admin_access_key_id, self.admin_secret_access_key.get_secret_value()

    def worker_json(self) -> str:
        """These settings as JSON for a training worker (a process or a Ray task). The admin key pair stays out: a
        worker never needs it, and a `SecretStr` would serialise masked and fail validation on the other side."""
        return self.model_dump_json(exclude={"admin_access_key_id", "admin_secret_access_key"})

    @field_validator("hosting_runtime")
    @classmethod
    def _runtime_alias(cls, value: str) -> str:
        return "onnxruntime" if value == "onnx" else value

    @model_validator(mode="after")
    def _admin_pair_whole(self) -> "Settings":
        if (self.admin_access_key_id is None) != (self.admin_secret_access_key is None):
            raise ValueError("set LV_ADMIN_ACCESS_KEY_ID and LV_ADMIN_SECRET_ACCESS_KEY together, or neither")
        return self

    @model_validator(mode="after")
    def _ray_needs_shared_state(self) -> "Settings":
        """Ray nodes share only the database and the object store with the API: a file database or local files would
        be a different one on every node."""
        if self.executor != "ray":
            return self
        if self.resolved_database_url.startswith("sqlite"):
            raise ValueError(
                "LV_EXECUTOR=ray needs a database every Ray node and API replica reaches: set LV_DATABASE_URL to a "
                "PostgreSQL URL (SQLite is a file of one machine)"
            )
        if self.storage_backend != "s3":
            raise ValueError(
                "LV_EXECUTOR=ray needs storage every Ray node and API replica reaches: set LV_STORAGE_BACKEND=s3 "
                "(local storage is a folder of one machine)"
            )
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()

"""Settings of hosted models and of the detections log, read from `LV_`-prefixed environment variables.

They sit beside `service.settings.Settings` rather than in it so the hosting runtime can be configured (and replaced,
e.g. by a Ray Serve backend) without touching the service's core settings.
"""

import os

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class HostingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LV_", frozen=True)

    detection_retention_days: int = Field(
        default=30, ge=0, description="Days a detected image is kept in storage; 0 keeps no image (the record stays)."
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
    hosting_runtime: str = Field(default="onnx", pattern="^(onnx|openvino)$")
    hosting_cache_dir: str | None = Field(
        default=None, description="Where model artefacts are copied for serving; LV_HOME/hosting-cache when unset."
    )

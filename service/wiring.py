"""Builds what runs beside the API: the job runner (wired to the domain's settling of lost jobs) and the hosting runtime
(wired to the domain's detections log). The only module, with `training_worker`, that joins the layers, so the domain,
`jobs/` and `hosting/` never import each other upwards.
"""

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from service.context import AppContext
from service.domain.detection_quota import DetectionImageQuota
from service.domain.detections import DetectionRecord, purge_expired_images, save_detections
from service.domain.hosting import Hosting
from service.domain.review.media import purge_finished_tasks
from service.domain.shadow import load_routes
from service.domain.shadow_retention import purge_expired_shadow_objects
from service.domain.shadow_traffic import ShadowRecord, save_shadow_results
from service.domain.training_outcomes import settle_interrupted
from service.domain.training_resources import TrainingResources, job_resources
from service.hosting.autoscaling import ScalingPolicy
from service.hosting.backend import InferenceBackend
from service.hosting.embedded import EmbeddedBackend
from service.hosting.model_cache import ArtifactCache
from service.hosting.predictor import load_predictor
from service.hosting.recorder import BackgroundRecorder
from service.hosting.runtime import HostingRuntime
from service.hosting.shadow import ShadowRunner
from service.jobs.pool import EmbeddedWorkerPool
from service.jobs.runner import JobRunner
from service.settings import Settings

TRAINING_WORKER = [sys.executable, "-m", "service.training_worker"]
"""The command of a training worker process; the pool appends the job id."""


def build_job_runner(context: AppContext) -> JobRunner:
    """The embedded worker pool or the Ray runner (LV_EXECUTOR); a job whose worker stopped without a word is settled
    by the domain."""
    settings = context.settings

    def settle(job_id: int, reason: str, count_attempt: bool, worker_id: str | None) -> None:
        settle_interrupted(
            context.engine,
            context.store,
            job_id=job_id,
            reason=reason,
            count_attempt=count_attempt,
            max_attempts=settings.training_max_attempts,
            worker_id=worker_id,
        )

    if settings.executor == "ray":
        from service.distributed.training import RayJobRunner

        default = TrainingResources(num_cpus=settings.training_num_cpus, num_gpus=settings.training_num_gpus)

        def resources(job_id: int) -> tuple[float, float]:
            chosen = job_resources(context.engine, job_id, default=default)
            return chosen.num_cpus, chosen.num_gpus

        return RayJobRunner(settings, context.engine, settle=settle, resources=resources)
    return EmbeddedWorkerPool(
        settings, context.engine, settle=settle, environment=dict(os.environ), worker_command=TRAINING_WORKER
    )


def open_hosting(context: AppContext) -> Hosting:
    """The runtime: the units' backend (LV_EXECUTOR), the artefact cache under LV_HOME, the detections log writer and
    the shadow runner (its routes loaded from the running pairs)."""
    settings = context.settings
    backend = _inference_backend(settings)
    cache_root = Path(settings.hosting_cache_dir) if settings.hosting_cache_dir else None
    cache = ArtifactCache(context.store, cache_root or settings.resolved_home / "hosting-cache")
    retention = settings.detection_retention_days
    quota = DetectionImageQuota(context.engine, context.store, max_bytes=settings.detection_image_max_bytes)

    def save(records: Sequence[DetectionRecord]) -> None:
        save_detections(context.engine, context.store, records, retention_days=retention)
        quota.after_save(sum(len(record.image) for record in records) if retention > 0 else 0)

    recorder: BackgroundRecorder[DetectionRecord] = BackgroundRecorder(save)

    def save_shadow(records: Sequence[ShadowRecord]) -> None:
        save_shadow_results(context.engine, context.store, records, shadows)

    shadows: ShadowRunner[ShadowRecord] = ShadowRunner(backend, save_shadow)
    load_routes(context.engine, shadows)
    runtime = HostingRuntime(
        backend,
        cache,
        recorder,
        settings,
        sweep_retention=lambda: _sweep(context, retention),
        shadows=shadows,
    )
    return Hosting(context=context, runtime=runtime)


def _inference_backend(settings: Settings) -> InferenceBackend:
    if settings.executor == "ray":
        from service.distributed.serving import RayServeBackend

        return RayServeBackend(settings)
    return EmbeddedBackend(
        lambda directory, threads, runtime: load_predictor(directory, runtime=runtime, threads=threads),
        cpu_cores=settings.hosting_cpu_cores,
        queue_per_unit=settings.hosting_queue_per_unit,
        max_batch=settings.hosting_max_batch,
        scale_interval_s=settings.hosting_scale_interval_s,
        policy=ScalingPolicy(
            up_utilisation=settings.hosting_scale_up_utilisation,
            down_utilisation=settings.hosting_scale_down_utilisation,
            down_after_s=settings.hosting_scale_down_after_s,
        ),
    )


def _sweep(context: AppContext, retention_days: int) -> None:
    """Expired detection images (the log's and shadow disagreements'), and the objects of review tasks that ended
    longer than the retention ago."""
    purge_expired_images(context.engine, context.store, retention_days=retention_days)
    purge_expired_shadow_objects(context.engine, context.store, retention_days=retention_days)
    purge_finished_tasks(context.engine, context.store, retention_days=retention_days)

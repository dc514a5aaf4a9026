"""One training run, from claimed job to TRAINED or TRAINING_FAILED; executed inside a worker process.

The job runner only decides where and when this runs; everything a run does to models, jobs and storage is here
(`training_outcomes` settles runs that end by cancellation, failure or without reporting at all).
"""

import logging
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from service.arns import model_arn
from service.db.engine import transaction
from service.db.models import Model, Project, TrainingJob, utcnow
from service.domain.algorithms import TrainingChoice, engine_weights
from service.domain.evaluation import ScoredImage, TestScores, output_objects, summary_metrics, write_evaluation
from service.domain.model_status import ModelStatus
from service.domain.thresholds import DEFAULT_THRESHOLD, Policy, operating_point, performance, policy_record
from service.domain.training_data import TrainingImage, TrainingSplit, training_split
from service.domain.training_jobs import append_log, finish_job
from service.domain.training_outcomes import fail_job, settle_cancelled
from service.domain.training_progress import ProgressWriter
from service.domain.training_runs import ARTIFACTS_FOLDER
from service.engine import artifacts
from service.engine.data import ImageRecord
from service.engine.errors import EngineError, TrainingCancelledError
from service.engine.training import fit
from service.errors import ValidationException
from service.jobs.queue import JobState
from service.settings import Settings
from service.storage import ObjectNotFoundError, ObjectStore

log = logging.getLogger("openlv.training")
SEED = 0


def _download(store: ObjectStore, images: list[TrainingImage], folder: Path) -> list[ImageRecord]:
    """Copy a split's images (and masks) to local files: the engine reads paths, and memory stays flat."""
    folder.mkdir(parents=True, exist_ok=True)
    records = []
    for image in images:
        path = folder / image.sha256
        path.write_bytes(store.get(image.key))
        mask = None
        if image.mask_key is not None:
            mask = folder / f"{image.sha256}.mask"
            mask.write_bytes(store.get(image.mask_key))
        records.append(
            ImageRecord(image=path, label=image.label, mask=mask, name=image.sha256, mask_colors=image.mask_colors)
        )
    return records


def _upload_folder(store: ObjectStore, folder: Path, prefix: str) -> None:
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        store.put(prefix + path.relative_to(folder).as_posix(), path.read_bytes())


@dataclass
class TrainingRun:
    engine: Engine
    store: ObjectStore
    settings: Settings
    job_id: int
    model: Model
    project: Project
    split: TrainingSplit
    progress: ProgressWriter

    def execute(self, cancelled: Callable[[], bool], work: Path) -> None:
        self.progress.note(f"Copying {len(self.split.train)} training and {len(self.split.test)} test images.")
        train = _download(self.store, self.split.train, work / "train")
        test = _download(self.store, self.split.test, work / "test")
        class_examples = _download(self.store, self.split.class_examples, work / "classes")
        model = self.model
        choice = TrainingChoice(model.algorithm, model.hyperparameters, model.backbone_weights, model.image_size)
        trained = fit(
            model.algorithm,
            train,
            test,
            hyperparameters=choice.engine_hyperparameters(),
            weights=engine_weights(model.backbone_weights, self.settings.resolved_weights_dir),
            weights_dir=self.settings.resolved_weights_dir,
            weights_base_url=self.settings.weights_base_url,
            seed=SEED,
            accelerator="cpu",
            progress=self.progress,
            cancel=cancelled,
            work_dir=work / "engine",
            class_records=class_examples,
        )
        self.progress.note("Saving artefacts: weights, ONNX, OpenVINO IR, metadata.")
        artifacts.save(trained, work / "artifacts", progress=self.progress, cancel=cancelled)
        _upload_folder(self.store, work / "artifacts", model.artifacts_prefix + ARTIFACTS_FOLDER)
        by_sha = {image.sha256: image for image in self.split.test}
        scores = TestScores(
            images=[
                ScoredImage(
                    source_ref=by_sha[result.name].source_ref,
                    sha256=result.name,
                    label=result.label,
                    score=result.score,
                    raw_score=result.raw_score,
                )
                for result in trained.evaluation.images
            ]
        )
        if cancelled():
            raise TrainingCancelledError("training was cancelled")
        self.record_trained(scores, trained.evaluation.metrics, training_images=len(train))

    def record_trained(self, scores: TestScores, engine_metrics: dict[str, Any], *, training_images: int) -> None:
        """Write the evaluation objects, then mark the model TRAINED at the F1-optimal threshold."""
        model, at = self.model, utcnow()
        model.image_threshold = DEFAULT_THRESHOLD
        model.threshold_policy = policy_record(Policy.F1_OPTIMAL, None)
        model.performance = performance(operating_point(scores.labels, scores.scores, DEFAULT_THRESHOLD))
        model.evaluation_metrics = {**summary_metrics(scores, engine_metrics), "TrainingImages": training_images}
        model.evaluation_end_at = at
        arn = model_arn(self.settings, self.project.name, str(model.version))
        output = output_objects(
            bucket=model.output_bucket,
            prefix=model.output_prefix,
            project_name=self.project.name,
            version=model.version,
        )
        write_evaluation(self.store, model=model, model_arn=arn, scores=scores, output=output)
        with transaction(self.engine) as session:
            stored = session.get(Model, model.id)
            if stored is None or stored.status == ModelStatus.DELETING:
                raise TrainingCancelledError("the model was deleted while training finished")
            stored.status, stored.status_message = ModelStatus.TRAINED, "Training completed successfully."
            stored.image_threshold = model.image_threshold
            stored.threshold_policy = model.threshold_policy
            stored.performance = model.performance
            stored.evaluation_metrics = model.evaluation_metrics
            stored.evaluation_end_at = at
            stored.output_manifest_key, stored.output_result_key = output.manifest_key, output.result_key
            session.add(stored)
            finish_job(session, job_id=self.job_id, state=JobState.SUCCEEDED, message="Training finished.")


def _prepare(engine: Engine, store: ObjectStore, settings: Settings, job_id: int) -> TrainingRun | None:
    with transaction(engine) as session:
        job = session.get(TrainingJob, job_id)
        if job is None or job.state != JobState.RUNNING:
            return None
        model = session.get(Model, job.model_id)
        project = session.get(Project, model.project_id) if model else None
        if model is None or project is None:
            return None
        split = training_split(session, project=project)
        append_log(session, job_id=job_id, message=f"Attempt {job.attempts}: training {model.algorithm}.")
    progress = ProgressWriter(engine, job_id=job_id)
    return TrainingRun(engine, store, settings, job_id, model, project, split, progress)


def run_training_job(
    engine: Engine, store: ObjectStore, settings: Settings, *, job_id: int, cancelled: Callable[[], bool]
) -> None:
    """Train, evaluate and store the model of a RUNNING job, and record the outcome; never raises for a failed run."""
    run = _prepare(engine, store, settings, job_id)
    if run is None:
        return
    try:
        with tempfile.TemporaryDirectory(prefix=f"openlv-job-{job_id}-") as work:
            run.execute(cancelled, Path(work))
    except TrainingCancelledError:
        settle_cancelled(engine, store, job_id=job_id)
    except EngineError as exc:
        fail_job(engine, job_id=job_id, message=f"Training failed: {exc}")
    except ObjectNotFoundError as exc:
        log.error("training job %s: %s", job_id, exc)
        fail_job(
            engine,
            job_id=job_id,
            message="Training failed: a dataset image is no longer in storage; upload the dataset again.",
        )
    except ValidationException as exc:
        fail_job(engine, job_id=job_id, message=f"Training failed: {exc.message}")
    except Exception as exc:
        log.exception("training job %s failed", job_id)
        fail_job(
            engine,
            job_id=job_id,
            message=f"Training failed because of an internal error ({type(exc).__name__}: {exc}). "
            "The training log has the details; call CreateModel again once the cause is fixed.",
            details=traceback.format_exc(),
        )

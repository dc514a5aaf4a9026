"""`fit`: train any registered model on image records, then validate, normalise and evaluate it."""

import contextlib
import logging
import shutil
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch

from service.engine.backbones.weights import imagenet_weights_path
from service.engine.classes import learn_classes
from service.engine.data import AnomalyDataModule, ImageRecord
from service.engine.data.tiles import image_shape, tiled_train_loader
from service.engine.errors import EngineError, WeightsUnavailableError
from service.engine.models.base import AnomalyModule, Hyperparameters
from service.engine.normalization import NormalizationStats, ScoreNormalizer, compute_stats
from service.engine.registry import get_spec, parse_hyperparameters
from service.engine.tiling import TileLayout, resolve_layout, split_tiling
from service.engine.tiling.stats import tiled_stats
from service.engine.training.evaluation import evaluate
from service.engine.training.progress import CancelFlag, ProgressCallback, ProgressSink, Reporter
from service.engine.training.tiled_validation import stitched_normalised_scores, validate_tiled
from service.engine.training.trained_model import TrainedModel
from service.engine.types import InferenceBatch

DEFAULT_BATCH_SIZE = 16
# Models that read their training images over many epochs keep them decoded and resized, up to this much memory.
TRAIN_IMAGE_CACHE_BYTES = 1 << 30
# Lightning's own default (1000 epochs) is never what a model wants; models that train longer say so.
TRAINER_DEFAULTS: dict[str, Any] = {"max_epochs": 1, "num_sanity_val_steps": 0}


# Lightning's informational chatter that says nothing about this run: hardware banners, tips, and warnings about
# choices made on purpose (no val loader during fit, frozen backbones in eval mode, in-process data loading, memory-bank
# models without an optimiser).
_EXPECTED_WARNINGS = (
    r".*val_dataloader.*",
    r".*num_workers.*",
    r".*module\(s\) in eval mode.*",
    r".*LeafSpec.*",
    r".*configure_optimizers.* returned `None`.*",
    r".*training_step.* returned `None`.*",
)


@contextlib.contextmanager
def _quiet_lightning() -> Iterator[None]:
    logger = logging.getLogger("lightning.pytorch")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            for message in _EXPECTED_WARNINGS:
                warnings.filterwarnings("ignore", message=message)
            yield
    finally:
        logger.setLevel(level)


def resolve_hyperparameters(
    model_name: str, values: dict[str, Any] | None, weights: str | None, seed: int
) -> Hyperparameters:
    """The model's typed hyperparameters. `weights` and `seed` fill the fields of those names when the model has
    them and the caller did not set them explicitly in `values`. Tiling keys are not the model's (`split_tiling`)."""
    spec = get_spec(model_name)
    _, resolved = split_tiling(values)
    fields = spec.hyperparameters.model_fields
    if "seed" in fields:
        resolved.setdefault("seed", seed)
    if weights is not None:
        if "weights" in fields:
            resolved.setdefault("weights", weights)
        elif spec.needs_pretrained:
            raise EngineError(f"model {model_name!r} does not accept backbone weights")
    return parse_hyperparameters(model_name, resolved)


def with_local_weights(
    settings: Hyperparameters, weights_dir: Path | None, weights_base_url: str | None
) -> Hyperparameters:
    """`settings` with `weights="imagenet"` replaced by the path of the verified checkpoint in `weights_dir`
    (downloaded from `weights_base_url` first when missing), so model builders only ever see a file or "random"."""
    if getattr(settings, "weights", None) != "imagenet":
        return settings
    backbone = str(settings.backbone)
    if weights_dir is None:
        raise WeightsUnavailableError(f"ImageNet weights for {backbone} need a weights folder; none was given")
    path = imagenet_weights_path(backbone, weights_dir, weights_base_url)
    return settings.model_copy(update={"weights": str(path)})


def _validation_outputs(module: AnomalyModule) -> InferenceBatch:
    outputs = module.validation_outputs
    return InferenceBatch(
        pred_score=torch.cat([output["pred_score"] for output in outputs]).float(),
        anomaly_map=torch.cat([output["anomaly_map"] for output in outputs]).float(),
    )


def _masks(module: AnomalyModule) -> np.ndarray:
    return torch.cat([output["mask"] for output in module.validation_outputs]).numpy()


def _check_records(train_records: Sequence[ImageRecord], val_records: Sequence[ImageRecord]) -> None:
    if not train_records:
        raise EngineError("no training images")
    if any(record.label != 0 for record in train_records):
        raise EngineError("training images must all be normal (label 0)")
    if not any(record.label == 0 for record in val_records):
        raise EngineError("validation needs at least one normal image to set thresholds")


def _trainer_arguments(module: AnomalyModule) -> dict[str, Any]:
    return {**TRAINER_DEFAULTS, **module.trainer_arguments}


def _trainer(accelerator: str, root: Path, callback: ProgressCallback, module: AnomalyModule) -> L.Trainer:
    """Deterministic kernels are requested on CUDA only. Lightning's `deterministic` sets
    `torch.use_deterministic_algorithms` for the whole process, and on the CPU that swaps oneDNN convolutions for a
    reference kernel tens of times slower; seeding alone makes CPU runs repeatable (pinned by the tests)."""
    on_cuda = torch.cuda.is_available() and accelerator in ("auto", "gpu", "cuda")
    arguments = _trainer_arguments(module)
    return L.Trainer(
        accelerator=accelerator,
        devices=1,
        precision="32-true",
        deterministic="warn" if on_cuda else None,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=root,
        callbacks=[callback],
        **arguments,
    )


def fit(
    model_name: str,
    train_records: Sequence[ImageRecord],
    val_records: Sequence[ImageRecord],
    *,
    hyperparameters: dict[str, Any] | None = None,
    weights: str | None = None,
    weights_dir: Path | None = None,
    weights_base_url: str | None = None,
    seed: int = 0,
    accelerator: str = "auto",
    progress: ProgressSink | None = None,
    cancel: CancelFlag | None = None,
    work_dir: Path | None = None,
    class_records: Sequence[ImageRecord] = (),
) -> TrainedModel:
    """Train `model_name` on normal `train_records`, then validate on `val_records` (normal, optionally anomalous with
    masks) to set thresholds and compute the evaluation.

    `weights="imagenet"` reads the backbone checkpoint from `weights_dir`, downloading it from `weights_base_url`
    (download.pytorch.org when None) first if it is missing; the recorded hyperparameters keep "imagenet".
    Seeded (same seed, same data, same machine -> same model). `progress` receives `Progress` events; `cancel` (an
    Event or a callable) is checked before each batch and raises TrainingCancelledError. Nothing is written outside a
    temporary folder under `work_dir` (default: the system's), which is removed when the run ends in any way.
    Tiling keys among `hyperparameters` (`tile_size`, `tile_overlap`, `tile_batch_size`; see `service.engine.tiling`)
    train and validate on tiles of the full-resolution images instead of whole resized images.
    When the anomalous validation records' masks name defect classes (`ImageRecord.mask_colors`), an untiled model
    also learns to name them (`service.engine.classes`), from those and from `class_records` (further anomalous
    images with class masks, used for nothing else); a tiled one answers every defect as an anomaly.
    Raises EngineError for unusable data or hyperparameters, WeightsUnavailableError when backbone weights are missing.
    """
    _check_records(train_records, val_records)
    reporter = Reporter(progress, cancel)
    reporter.report("loading", 0, 2, "building the model")
    L.seed_everything(seed, workers=True, verbose=False)
    settings = resolve_hyperparameters(model_name, hyperparameters, weights, seed)
    tiling, _ = split_tiling(hyperparameters)
    layout = (
        resolve_layout(tiling, image_shape(train_records[0].image), settings.image_size) if tiling.enabled else None
    )
    module = get_spec(model_name).build(with_local_weights(settings, weights_dir, weights_base_url))
    one_pass = _trainer_arguments(module)["max_epochs"] == 1
    batch_size = int(getattr(settings, "batch_size", DEFAULT_BATCH_SIZE))
    cache_bytes = 0 if one_pass else TRAIN_IMAGE_CACHE_BYTES
    data = AnomalyDataModule(
        train_records,
        val_records,
        image_size=settings.image_size,
        batch_size=batch_size,
        seed=seed,
        train_cache_bytes=0 if layout is not None else cache_bytes,
    )
    train_loader = (
        data.train_dataloader()
        if layout is None
        else tiled_train_loader(
            train_records,
            layout,
            image_size=settings.image_size,
            batch_size=batch_size,
            seed=seed,
            cache_bytes=cache_bytes,
        )
    )
    reporter.report("loading", 1, 2, "model ready")
    if work_dir is not None:
        Path(work_dir).mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="fit-", dir=work_dir))
    try:
        with _quiet_lightning():
            trainer = _trainer(accelerator, root, ProgressCallback(reporter, settings), module)
            trainer.fit(module, train_dataloaders=train_loader)
            if layout is None:
                trainer.validate(module, dataloaders=data.val_dataloader(), verbose=False)
                raw, masks = _validation_outputs(module), _masks(module)
            else:
                raw, masks = _validate_tiled(module, val_records, layout, settings.image_size, reporter)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    reporter.report("evaluating", 0, 1, "computing thresholds and metrics")
    trained = _evaluate(model_name, module, settings, val_records, raw, masks, weights, seed, layout)
    if layout is None:
        examples = [*val_records, *class_records]
        trained.palette, trained.class_head = learn_classes(examples, settings.image_size, seed)
    reporter.report("evaluating", 1, 1, "evaluation done")
    return trained


def _validate_tiled(
    module: AnomalyModule,
    val_records: Sequence[ImageRecord],
    layout: TileLayout,
    image_size: int,
    reporter: Reporter,
) -> tuple[InferenceBatch, np.ndarray]:
    reporter.report("validating", 0, len(val_records))
    return validate_tiled(
        module.model,
        val_records,
        layout,
        image_size,
        on_image=lambda done, total: reporter.report("validating", done, total),
    )


def _stitched_normalised_scores(
    module: AnomalyModule,
    val_records: Sequence[ImageRecord],
    layout: TileLayout,
    image_size: int,
    normaliser: ScoreNormalizer,
) -> torch.Tensor:
    def normalise(maps: torch.Tensor) -> torch.Tensor:
        return normaliser(InferenceBatch(pred_score=torch.zeros(maps.shape[0]), anomaly_map=maps)).anomaly_map

    return stitched_normalised_scores(module.model, val_records, layout, image_size, normalise)


def _evaluate(
    model_name: str,
    module: AnomalyModule,
    settings: Hyperparameters,
    val_records: Sequence[ImageRecord],
    raw: InferenceBatch,
    masks: np.ndarray,
    weights: str | None,
    seed: int,
    layout: TileLayout | None,
) -> TrainedModel:
    stats: NormalizationStats = compute_stats(raw.pred_score, [r.label for r in val_records], raw.anomaly_map, masks)
    if layout is not None:
        stats = tiled_stats(stats)
    normaliser = ScoreNormalizer(stats)
    with torch.no_grad():
        normalised = normaliser(raw)
    if layout is not None:
        normalised = InferenceBatch(
            pred_score=_stitched_normalised_scores(module, val_records, layout, settings.image_size, normaliser),
            anomaly_map=normalised.anomaly_map,
        )
    evaluation = evaluate(
        val_records, raw.pred_score.numpy(), normalised.pred_score.numpy(), raw.anomaly_map.numpy(), masks
    )
    model = module.model.cpu().eval()
    return TrainedModel(
        model_name=model_name,
        model=model,
        hyperparameters=settings,
        stats=stats,
        evaluation=evaluation,
        weights=getattr(settings, "weights", None),
        seed=seed,
        tiling=layout,
    )

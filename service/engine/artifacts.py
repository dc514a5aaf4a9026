"""A trained model on disk: torch checkpoint, metadata, ONNX graph and OpenVINO IR in one folder.

```
<folder>/model.pt            state_dict, hyperparameters, normalisation stats and score scale
                             (torch.load(weights_only=True) safe; a checkpoint without a score scale is CLIPPED, the
                             scale of every model saved before the scale was recorded)
<folder>/metadata.json       model name, hyperparameters, image size, tiling (null: none), stats, score scale, thresholds, metrics,
                             per-image evaluation, input/output description, defect classes and colours (null: none),
                             library versions
<folder>/model.onnx          the whole pipeline: uint8 (B, H, W, 3) any size -> normalised pred_score, anomaly_map
<folder>/openvino/model.xml  the same graph as OpenVINO IR (+ model.bin), fp32
```

`save` writes everything into a hidden sibling folder and renames it into place, so a folder either holds a complete
model or does not exist.
"""

import json
import shutil
import tempfile
from datetime import UTC, datetime
from importlib import metadata as package_metadata
from pathlib import Path
from typing import Any

import torch
from torch import nn

from service.engine.classes import ClassHead, ClassPalette
from service.engine.errors import EngineError
from service.engine.export import INPUT_NAME, export_onnx, export_openvino, output_names
from service.engine.inference.layout import CHECKPOINT_FILE, METADATA_FILE, ONNX_FILE, OPENVINO_DIR
from service.engine.normalised import NORMALISED_THRESHOLD
from service.engine.normalization import LEGACY_SCALE, NormalizationStats, ScoreScale
from service.engine.registry import get_spec, parse_hyperparameters
from service.engine.tiling import TileLayout
from service.engine.training import CancelFlag, Evaluation, ProgressSink, TrainedModel
from service.engine.training.progress import Reporter

FORMAT_VERSION = 1
_VERSIONED_PACKAGES = ("torch", "lightning", "onnx", "onnxruntime", "openvino", "numpy")


def _versions() -> dict[str, str]:
    return {name: package_metadata.version(name) for name in _VERSIONED_PACKAGES}


def build_metadata(trained: TrainedModel) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "model_name": trained.model_name,
        "hyperparameters": trained.hyperparameters.model_dump(mode="json"),
        "image_size": trained.image_size,
        "tiling": trained.tiling.to_dict() if trained.tiling is not None else None,
        "weights": trained.weights,
        "seed": trained.seed,
        "normalization": trained.stats.to_dict(),
        "score_scale": str(trained.score_scale),
        "thresholds": {"image": NORMALISED_THRESHOLD, "pixel": NORMALISED_THRESHOLD},
        "input": {"name": INPUT_NAME, "dtype": "uint8", "layout": "NHWC", "channels": "RGB", "shape": [-1, -1, -1, 3]},
        "outputs": {name: "float32" for name in output_names(trained)},
        "classes": trained.palette.to_dict() if trained.palette is not None else None,
        "metrics": trained.evaluation.metrics,
        "evaluation": trained.evaluation.to_dict()["images"],
        "versions": _versions(),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _checkpoint(trained: TrainedModel) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "model_name": trained.model_name,
        "hyperparameters": trained.hyperparameters.model_dump(mode="json"),
        "stats": trained.stats.to_dict(),
        "score_scale": str(trained.score_scale),
        "tiling": trained.tiling.to_dict() if trained.tiling is not None else None,
        "weights": trained.weights,
        "seed": trained.seed,
        "state_dict": trained.model.state_dict(),
        "classes": trained.palette.to_dict() if trained.palette is not None else None,
        "class_head": trained.class_head.state_dict() if trained.class_head is not None else None,
    }


def _check_destination(folder: Path) -> None:
    """Refuse to overwrite a saved model; an existing empty folder (e.g. made by the caller) will be replaced."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise EngineError(f"{folder} already exists and is not an empty folder")


def save(
    trained: TrainedModel, folder: Path, *, progress: ProgressSink | None = None, cancel: CancelFlag | None = None
) -> Path:
    """Write all artefacts of `trained` to `folder` (which must not hold anything yet) and return it.

    Reports "exporting" progress and honours `cancel` between files; on cancellation or any error nothing is left.
    """
    folder = Path(folder)
    _check_destination(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    reporter = Reporter(progress, cancel)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".partial", dir=folder.parent))
    try:
        reporter.report("exporting", 0, 4, "saving the torch checkpoint")
        torch.save(_checkpoint(trained), staging / CHECKPOINT_FILE)
        reporter.report("exporting", 1, 4, "exporting ONNX")
        onnx_path = export_onnx(trained, staging / ONNX_FILE)
        reporter.report("exporting", 2, 4, "converting to OpenVINO")
        export_openvino(onnx_path, staging / OPENVINO_DIR)
        reporter.report("exporting", 3, 4, "writing metadata")
        (staging / METADATA_FILE).write_text(json.dumps(build_metadata(trained), indent=2))
        _check_destination(folder)
        if folder.exists():
            folder.rmdir()
        staging.rename(folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    reporter.report("exporting", 4, 4, "model saved")
    return folder


def _fit_buffers(model: nn.Module, state_dict: dict[str, torch.Tensor]) -> None:
    """Resize buffers whose size is only known after training (memory banks, statistics) to the saved shapes."""
    buffers = dict(model.named_buffers())
    for name, tensor in state_dict.items():
        current = buffers.get(name)
        if current is not None and current.shape != tensor.shape:
            owner_name, _, attribute = name.rpartition(".")
            owner = model.get_submodule(owner_name) if owner_name else model
            setattr(owner, attribute, torch.empty_like(tensor, dtype=current.dtype))


def read_metadata(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((Path(folder) / METADATA_FILE).read_text())
    return data


def load(folder: Path) -> TrainedModel:
    """Rebuild a `TrainedModel` from `save`'s folder. Needs no backbone weights: the checkpoint holds them all."""
    folder = Path(folder)
    if not (folder / CHECKPOINT_FILE).is_file():
        raise EngineError(f"{folder} holds no saved model")
    checkpoint = torch.load(folder / CHECKPOINT_FILE, map_location="cpu", weights_only=True)
    if checkpoint.get("format_version") != FORMAT_VERSION:
        raise EngineError(f"unsupported model format {checkpoint.get('format_version')!r} in {folder}")
    name = checkpoint["model_name"]
    hyperparameters = parse_hyperparameters(name, checkpoint["hyperparameters"])
    # Every weight comes from the checkpoint, so the skeleton is built without fetching pretrained weights.
    skeleton = hyperparameters
    if "weights" in type(hyperparameters).model_fields:
        skeleton = hyperparameters.model_copy(update={"weights": "random"})
    model = get_spec(name).build(skeleton).model
    _fit_buffers(model, checkpoint["state_dict"])
    described = read_metadata(folder)
    model.load_state_dict(checkpoint["state_dict"], strict=True)
    palette = ClassPalette.from_dict(checkpoint.get("classes"))
    class_head = None
    if palette is not None and checkpoint.get("class_head") is not None:
        class_head = ClassHead(len(palette.classes))
        class_head.load_state_dict(checkpoint["class_head"], strict=True)
        class_head.eval()
    return TrainedModel(
        model_name=name,
        model=model.cpu().eval(),
        hyperparameters=hyperparameters,
        stats=NormalizationStats.from_dict(checkpoint["stats"]),
        evaluation=Evaluation.from_dict({"metrics": described["metrics"], "images": described["evaluation"]}),
        weights=checkpoint["weights"],
        seed=checkpoint["seed"],
        score_scale=ScoreScale(checkpoint.get("score_scale", LEGACY_SCALE)),
        tiling=TileLayout.from_dict(checkpoint.get("tiling")),
        palette=palette,
        class_head=class_head,
    )

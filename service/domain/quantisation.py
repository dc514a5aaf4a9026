"""The INT8 artefact of a model version: built once, kept next to the other artefacts, refused when it loses accuracy.

The first StartModel with Runtime `openvino-int8` quantises the model's f32 OpenVINO IR with NNCF, calibrated on the
project's normal training images (the split's train images; test images are never used for calibration; a tiled
model on their tiles, as its graph sees them when serving), runs both
graphs on the model's test images (those its evaluation scored) and records both image AUROCs in
`artifacts/openvino-int8/quantisation.json`, written after the IR so its presence means the artefact is whole. Every
INT8 StartModel compares the figures with LV_HOSTING_INT8_MAX_AUROC_DROP, so a changed setting needs no rebuild. The
copy of the artefacts in the hosting cache is evicted after a build, so the next deployment fetches the INT8 IR too.
"""

import json
import math
import tempfile
import threading
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from sqlmodel import col, select

from service.db.engine import transaction
from service.db.models import Model, Project, StoredImage
from service.domain.evaluation import read_scores
from service.domain.hosting import Hosting
from service.domain.model_status import STARTABLE
from service.domain.runtimes import OPENVINO_INT8, check_runtime, model_runtime
from service.domain.training_data import training_split
from service.domain.training_runs import ARTIFACTS_FOLDER, get_model
from service.engine import metrics
from service.engine.inference import OpenVinoInferencer, read_palette, read_tiling, to_rgb_array
from service.engine.inference.layout import METADATA_FILE, OPENVINO_DIR, OPENVINO_FILE, OPENVINO_INT8_DIR
from service.engine.inference.tiled import calibration_tiles
from service.errors import ValidationException
from service.storage import ObjectNotFoundError, ObjectStore

REPORT = f"{OPENVINO_INT8_DIR}/quantisation.json"
EVALUATION_BATCH = 16
_building = threading.Lock()


@dataclass(frozen=True)
class QuantisationReport:
    """Image AUROC of the f32 and the INT8 OpenVINO graphs on the same test images, and the images used."""

    f32_auroc: float
    int8_auroc: float
    calibration_images: int
    test_images: int

    @property
    def drop(self) -> float:
        return self.f32_auroc - self.int8_auroc


@dataclass(frozen=True)
class _Sources:
    model: Model
    calibration_keys: list[str]
    test_keys: list[str]
    test_labels: np.ndarray


def prepare_runtime(hosting: Hosting, *, project_name: str, version: str, requested: str | None) -> str | None:
    """Check a StartModel's Runtime (its canonical name, None when it names none) and, when the model is to run
    INT8, make sure its INT8 artefact exists and keeps the model's accuracy (`require_int8`)."""
    runtime = check_runtime(requested)
    with transaction(hosting.engine) as session:
        model = get_model(session, project_name=project_name, version=version)
    if (runtime or model_runtime(model, hosting.context.settings)) == OPENVINO_INT8:
        require_int8(hosting, project_name=project_name, version=version)
    return runtime


def require_int8(hosting: Hosting, *, project_name: str, version: str) -> QuantisationReport | None:
    """Build the model's INT8 artefact if it has none, then refuse it (ValidationException naming both AUROCs) when
    its image AUROC fell by more than the setting allows. None for a model that cannot start (StartModel says why)."""
    with _building:
        sources = _sources(hosting, project_name=project_name, version=version)
        if sources is None:
            return None
        report = read_report(hosting.context.store, sources.model) or _build(hosting, sources)
    limit = hosting.context.settings.hosting_int8_max_auroc_drop
    if report.drop > limit:
        raise ValidationException(
            f"The INT8 model of version {version} of project {project_name} is refused: its image AUROC on the "
            f"{report.test_images} test images is {report.int8_auroc:.4f} against {report.f32_auroc:.4f} in f32, a "
            f"drop of {report.drop:.4f} (LV_HOSTING_INT8_MAX_AUROC_DROP is {limit:g}). Start it with Runtime "
            "onnxruntime or openvino instead."
        )
    return report


def read_report(store: ObjectStore, model: Model) -> QuantisationReport | None:
    """The recorded figures of the model's INT8 artefact; None when it has not been built."""
    try:
        return QuantisationReport(**json.loads(store.get(_prefix(model) + REPORT)))
    except ObjectNotFoundError:
        return None


def _prefix(model: Model) -> str:
    return model.artifacts_prefix + ARTIFACTS_FOLDER


def _sources(hosting: Hosting, *, project_name: str, version: str) -> _Sources | None:
    store = hosting.context.store
    with transaction(hosting.engine) as session:
        model = get_model(session, project_name=project_name, version=version)
        if model.status not in STARTABLE:
            return None
        project = session.get(Project, model.project_id)
        assert project is not None
        scores = read_scores(store, model=model)
        test = {image.sha256 for image in scores.images}
        calibration = [
            image.key for image in training_split(session, project=project).train if image.sha256 not in test
        ]
        rows = session.exec(select(StoredImage).where(col(StoredImage.sha256).in_(test)))
        keys = {row.sha256: row.key for row in rows}
    known = [image for image in scores.images if image.sha256 in keys]
    if not calibration:
        raise ValidationException(
            f"Version {version} of project {project_name} cannot be quantised: its project has no normal training "
            "images left to calibrate on."
        )
    labels = np.array([image.label for image in known], dtype=np.int64)
    return _Sources(model, calibration, [keys[image.sha256] for image in known], labels)


def _build(hosting: Hosting, sources: _Sources) -> QuantisationReport:
    # NNCF takes seconds to import: only when building
    from service.engine.export.quantize import DEFAULT_SUBSET_SIZE, quantize_openvino

    store, prefix = hosting.context.store, _prefix(sources.model)
    folder = hosting.runtime.cache.fetch(prefix)
    image_size = int(json.loads((folder / METADATA_FILE).read_text()).get("image_size", 256))
    with tempfile.TemporaryDirectory(prefix="openlv-int8-") as work:
        int8_dir = Path(work) / OPENVINO_INT8_DIR
        images: Iterable[np.ndarray] = (to_rgb_array(store.get(key)) for key in sources.calibration_keys)
        tiling = read_tiling(folder)
        if tiling is not None:
            per_image = math.ceil(DEFAULT_SUBSET_SIZE / len(sources.calibration_keys))
            images = calibration_tiles(images, tiling, per_image=per_image)
        xml = quantize_openvino(folder / OPENVINO_DIR / OPENVINO_FILE, images, int8_dir, image_size=image_size)
        report = QuantisationReport(
            f32_auroc=_auroc(store, folder, folder / OPENVINO_DIR / OPENVINO_FILE, sources),
            int8_auroc=_auroc(store, folder, xml, sources),
            calibration_images=len(sources.calibration_keys),
            test_images=len(sources.test_keys),
        )
        for path in sorted(int8_dir.iterdir()):
            store.put(f"{prefix}{OPENVINO_INT8_DIR}/{path.name}", path.read_bytes())
    store.put(prefix + REPORT, json.dumps(asdict(report)).encode(), "application/json")
    hosting.runtime.cache.evict(prefix)
    return report


def _auroc(store: ObjectStore, folder: Path, xml: Path, sources: _Sources) -> float:
    inferencer = OpenVinoInferencer(xml, tiling=read_tiling(folder), palette=read_palette(folder))
    scores = np.concatenate([inferencer.predict(batch).pred_score for batch in _batches(store, sources.test_keys)])
    return float(metrics.image_auroc(sources.test_labels, scores.astype(np.float64)))


def _batches(store: ObjectStore, keys: list[str]) -> Iterator[list[bytes]]:
    for start in range(0, len(keys), EVALUATION_BATCH):
        yield [store.get(key) for key in keys[start : start + EVALUATION_BATCH]]

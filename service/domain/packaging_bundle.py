"""The edge bundle of a packaging job: one zip an edge device runs with openlv's ONNX inferencer.

```
model.onnx            the whole pipeline (uint8 NHWC RGB images of any size -> pred_score, anomaly_map)
openvino/model.xml    the same graph as OpenVINO IR (+ model.bin)
metadata.json         the saved model's metadata with the thresholds in use when packaged, and the package settings
recipe.json           an AWS IoT Greengrass v2 recipe: component name/version, the zip as artifact, a run command
README.md             how to run it
```

The layout is the engine's saved-model folder without the torch checkpoint, so `load_inferencer(folder)` opens the
unzipped bundle as it is. The per-image training evaluation is left out: a device needs none of it.
"""

import io
import json
import shlex
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from service.domain.packaging_targets import EdgeTarget
from service.engine.inference.layout import CHECKPOINT_FILE, METADATA_FILE, ONNX_FILE, OPENVINO_DIR, OPENVINO_FILE

RECIPE_FILE = "recipe.json"
README_FILE = "README.md"
REQUIRED_FILES = (ONNX_FILE, f"{OPENVINO_DIR}/{OPENVINO_FILE}", METADATA_FILE)
DECOMPRESSED_PATH = "{artifacts:decompressedPath}"
"""The Greengrass recipe variable for the folder where a device unpacks the component's archives."""


def is_bundled(name: str) -> bool:
    """Whether a file of the saved-model folder goes into the bundle (all but the torch checkpoint)."""
    return name != CHECKPOINT_FILE


class BundleError(Exception):
    """The saved model cannot be packaged (files missing or unreadable)."""


@dataclass(frozen=True)
class BundleSpec:
    """Everything a bundle records besides the model files."""

    project_name: str
    model_version: int
    job_name: str
    algorithm: str
    image_size: int | None
    image_threshold: float
    component_name: str
    component_version: str
    component_description: str
    tags: dict[str, str]
    target: EdgeTarget
    artifact_uri: str

    @property
    def folder_name(self) -> str:
        """The folder Greengrass unpacks the zip into: the archive's file name without `.zip`."""
        return self.artifact_uri.rsplit("/", 1)[-1].removesuffix(".zip")


def build_bundle(model_files: Mapping[str, bytes], spec: BundleSpec) -> bytes:
    """The zip for a saved model's files (paths relative to its folder); BundleError if a required file is missing."""
    missing = [name for name in REQUIRED_FILES if name not in model_files]
    if missing:
        raise BundleError(f"The trained model's artifacts lack {', '.join(missing)}; train the model again.")
    try:
        saved_metadata = json.loads(model_files[METADATA_FILE])
    except ValueError:
        raise BundleError(f"The trained model's {METADATA_FILE} is not valid JSON; train the model again.") from None
    image_size = spec.image_size or int(saved_metadata.get("image_size") or 0) or None
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name in sorted(model_files):
            if is_bundled(name) and name != METADATA_FILE:
                archive.writestr(name, model_files[name])
        archive.writestr(METADATA_FILE, json.dumps(edge_metadata(saved_metadata, spec, image_size), indent=2))
        archive.writestr(RECIPE_FILE, json.dumps(recipe(spec, image_size), indent=2))
        archive.writestr(README_FILE, readme(spec))
    return buffer.getvalue()


def edge_metadata(saved: dict[str, Any], spec: BundleSpec, image_size: int | None) -> dict[str, Any]:
    """The saved metadata with the image threshold in use (hosting's), the model's settings and the package's."""
    metadata = {key: value for key, value in saved.items() if key != "evaluation"}
    thresholds = dict(saved.get("thresholds") or {})
    thresholds["image"] = spec.image_threshold
    metadata.update(thresholds=thresholds, algorithm=spec.algorithm, image_size=image_size)
    metadata["package"] = {
        "project_name": spec.project_name,
        "model_version": str(spec.model_version),
        "job_name": spec.job_name,
        "component_name": spec.component_name,
        "component_version": spec.component_version,
        "target": spec.target.describe(),
        "tags": spec.tags,
        "packaged_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    return metadata


def check_command(folder: str, image_size: int | None) -> str:
    """A shell command that loads the model in `folder` with openlv's ONNX inferencer and scores one blank image."""
    size = image_size or 256
    code = (
        "import numpy as np; "
        "from service.engine.inference import load_inferencer; "
        f"model = load_inferencer({folder!r}, 'onnx'); "
        f"result = model.predict(np.zeros((1, {size}, {size}, 3), np.uint8)); "
        "print('openlv model ready; blank image score', float(result.pred_score[0]))"
    )
    return f"python3 -c {shlex.quote(code)}"


def recipe(spec: BundleSpec, image_size: int | None) -> dict[str, Any]:
    """A Greengrass v2 recipe: the zip is the one artifact, unpacked on the device; Run checks the model loads."""
    folder = f"{DECOMPRESSED_PATH}/{spec.folder_name}"
    return {
        "RecipeFormatVersion": "2020-01-25",
        "ComponentName": spec.component_name,
        "ComponentVersion": spec.component_version,
        "ComponentDescription": spec.component_description,
        "ComponentPublisher": "openlv",
        "ComponentConfiguration": {
            "DefaultConfiguration": {
                "ModelFolder": folder,
                "ImageThreshold": spec.image_threshold,
                "Target": spec.target.describe(),
            }
        },
        "Manifests": [
            {
                "Platform": spec.target.greengrass_platform,
                "Lifecycle": {"Run": check_command(folder, image_size)},
                "Artifacts": [{"Uri": spec.artifact_uri, "Unarchive": "ZIP"}],
            }
        ],
    }


def readme(spec: BundleSpec) -> str:
    target = spec.target
    device = (
        f"{target.device} ({target.os} {target.arch}, {target.accelerator})"
        if target.device
        else (f"{target.os} {target.arch}, {target.accelerator}")
    )
    return f"""# {spec.component_name} {spec.component_version}

Model version {spec.model_version} of the openlv project `{spec.project_name}` ({spec.algorithm}), packaged by job
`{spec.job_name}` for {device}.

## Files

- `model.onnx`: the whole pipeline. Input `image`: uint8 RGB images, shape (batch, height, width, 3), any size.
  Outputs `pred_score` (batch,) and `anomaly_map` (batch, size, size), both normalised to [0, 1], and for a model
  trained on masks with two or more defect classes `class_scores` (batch, classes, size, size).
- `openvino/model.xml` + `model.bin`: the same graph as OpenVINO IR (fp32).
- `metadata.json`: thresholds (image {spec.image_threshold:g}: a score at or above it means anomalous), image size,
  algorithm, the defect classes and their colours (`classes`, null for a model without classes), and this
  package's settings.
- `recipe.json`: an AWS IoT Greengrass v2 recipe whose Run step loads the model and scores a blank image.

## Run it on the device

Install openlv (it brings onnxruntime and numpy), unzip this package, then:

```python
from PIL import Image
from service.engine.inference import load_inferencer

model = load_inferencer("path/to/unzipped/package", "onnx")  # an OnnxInferencer with the thresholds above
detection = model.predict_image(Image.open("part.png"))
print(detection.is_anomalous, detection.score, detection.area_percentage)  # detection.mask: the defect pixels
print([(found.name, found.color, found.area_percentage) for found in detection.classes])  # a model with classes
```

`OnnxInferencer` runs the graph with ONNX Runtime's CPU provider; pass `"openvino"` to use the OpenVINO IR instead.
The compiler options recorded in `metadata.json` describe the target; the graph itself is not compiled for it.

## Deploy with Greengrass

Upload this zip to `{spec.artifact_uri}`, create the component from `recipe.json`, and deploy it to your core devices.
"""

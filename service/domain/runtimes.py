"""The inference runtimes a model version can be hosted with, and which one a StartModel gets.

`onnxruntime` runs the ONNX graph, `openvino` the f32 OpenVINO IR, `openvino-int8` an INT8 IR that
`service.domain.quantisation` builds from the f32 one at the first StartModel that asks for it.
"""

from service.db.models import Model
from service.errors import ValidationException
from service.settings import Settings

ONNXRUNTIME = "onnxruntime"
OPENVINO = "openvino"
OPENVINO_INT8 = "openvino-int8"
RUNTIMES = (ONNXRUNTIME, OPENVINO, OPENVINO_INT8)
ALIASES = {"onnx": ONNXRUNTIME}


def check_runtime(runtime: str | None) -> str | None:
    """A requested runtime by its canonical name (None stays None); ValidationException for an unknown one."""
    if runtime is None:
        return None
    canonical = ALIASES.get(runtime, runtime)
    if canonical not in RUNTIMES:
        raise ValidationException(f"Runtime must be one of {', '.join(RUNTIMES)}; got {runtime!r}.")
    return canonical


def model_runtime(model: Model, settings: Settings) -> str:
    """The runtime the model is (or will be) hosted with: its own choice, else LV_HOSTING_RUNTIME."""
    return check_runtime(model.runtime) or settings.hosting_runtime

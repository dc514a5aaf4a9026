"""Edge targets of a packaging job: AWS's TargetDevice or TargetPlatform, and the CompilerOptions they take.

Lookout for Vision compiled the model for the target; openlv's bundle carries the portable ONNX graph and OpenVINO IR
instead, so the target and options are checked the way AWS documents them and recorded in the recipe, not applied.
"""

import json
import re
from dataclasses import dataclass, field

from service.errors import ValidationException

JETSON_XAVIER = "jetson_xavier"
NVIDIA, CPU = "NVIDIA", "CPU"
DEFAULT_MCPU = "core-avx2"

_GREENGRASS_ARCH = {"ARM64": "aarch64", "X86_64": "amd64"}
# The NVIDIA Jetson AGX Xavier as AWS targeted it: JetPack 4.4 (TensorRT 7.1.3, CUDA 10.2), Volta GPU (sm_72).
_JETSON_XAVIER_OPTIONS = {"gpu-code": "sm_72", "trt-ver": "7.1.3", "cuda-ver": "10.2"}
_NVIDIA_OPTIONS = {
    "gpu-code": (re.compile(r"^sm_\d{2,3}$"), "sm_75"),
    "trt-ver": (re.compile(r"^\d+\.\d+\.\d+$"), "7.1.3"),
    "cuda-ver": (re.compile(r"^\d+\.\d+$"), "10.2"),
}
_MCPU = re.compile(r"^[a-z0-9][a-z0-9_.+-]*$")


@dataclass(frozen=True)
class EdgeTarget:
    """Where the package will run: an OS and architecture (Greengrass names), an accelerator and compiler options."""

    device: str | None
    os: str
    arch: str
    accelerator: str
    compiler_options: dict[str, str] = field(default_factory=dict)

    @property
    def greengrass_platform(self) -> dict[str, str]:
        return {"os": self.os.lower(), "architecture": _GREENGRASS_ARCH[self.arch]}

    def describe(self) -> dict[str, object]:
        return {
            "TargetDevice": self.device,
            "Os": self.os,
            "Arch": self.arch,
            "Accelerator": self.accelerator,
            "CompilerOptions": self.compiler_options,
        }


def parse_target(*, device: str | None, platform: dict[str, str] | None, compiler_options: str | None) -> EdgeTarget:
    """The target of a Greengrass configuration: exactly one of TargetDevice and TargetPlatform (as AWS requires)."""
    if (device is None) == (platform is None):
        raise ValidationException("Specify exactly one of TargetDevice and TargetPlatform in the Greengrass settings.")
    options = _parse_options(compiler_options)
    if device is not None:
        if device != JETSON_XAVIER:
            raise ValidationException(
                f"TargetDevice {device!r} is not supported; the supported device is jetson_xavier."
            )
        _check_nvidia_options(options, required=False)
        return EdgeTarget(device, "LINUX", "ARM64", NVIDIA, {**_JETSON_XAVIER_OPTIONS, **options})
    assert platform is not None
    if platform.get("Os") != "LINUX":
        raise ValidationException(f"TargetPlatform Os {platform.get('Os')!r} is not supported; use LINUX.")
    arch = platform.get("Arch")
    if arch not in _GREENGRASS_ARCH:
        raise ValidationException(f"TargetPlatform Arch {arch!r} is not supported; use ARM64 or X86_64.")
    accelerator = platform.get("Accelerator") or CPU
    if accelerator == NVIDIA:
        _check_nvidia_options(options, required=True)
        return EdgeTarget(None, "LINUX", arch, NVIDIA, options)
    if accelerator == CPU:
        return EdgeTarget(None, "LINUX", arch, CPU, {"mcpu": _check_cpu_options(options)})
    raise ValidationException(f"TargetPlatform Accelerator {accelerator!r} is not supported; use NVIDIA or CPU.")


def _parse_options(text: str | None) -> dict[str, str]:
    if text is None:
        return {}
    try:
        options = json.loads(text)
    except json.JSONDecodeError:
        options = None
    if not isinstance(options, dict) or not all(isinstance(value, str) for value in options.values()):
        raise ValidationException(
            'CompilerOptions must be a JSON object of strings, such as {"gpu-code": "sm_75", "trt-ver": "7.1.3", '
            '"cuda-ver": "10.2"} for NVIDIA or {"mcpu": "core-avx2"} for a CPU.'
        )
    return options


def _check_nvidia_options(options: dict[str, str], *, required: bool) -> None:
    unknown = sorted(set(options) - set(_NVIDIA_OPTIONS))
    if unknown:
        raise ValidationException(
            f"CompilerOptions {', '.join(unknown)} do not apply to an NVIDIA accelerator; use gpu-code, trt-ver, cuda-ver."
        )
    for name, (pattern, example) in _NVIDIA_OPTIONS.items():
        value = options.get(name)
        if value is None and required:
            raise ValidationException(f"An NVIDIA accelerator needs the {name} compiler option (such as {example!r}).")
        if value is not None and not pattern.fullmatch(value):
            raise ValidationException(
                f"Compiler option {name} {value!r} is not valid; use a value such as {example!r}."
            )


def _check_cpu_options(options: dict[str, str]) -> str:
    unknown = sorted(set(options) - {"mcpu"})
    if unknown:
        raise ValidationException(f"CompilerOptions {', '.join(unknown)} do not apply to a CPU; only mcpu does.")
    mcpu = options.get("mcpu", DEFAULT_MCPU)
    if not _MCPU.fullmatch(mcpu):
        raise ValidationException(
            f"Compiler option mcpu {mcpu!r} is not valid; use an instruction set such as core-avx2."
        )
    return mcpu

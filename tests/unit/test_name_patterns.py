"""Every name pattern matches the whole value: a final newline is refused, not let through by `$` (finding 8)."""

from typing import Any

import pytest
from botocore.exceptions import ClientError

from service.arns import parse_arn
from service.domain import packaging_targets
from service.domain.imports import validate_splits
from service.domain.names import validate_project_name
from service.domain.uploads import group_parts
from service.errors import ValidationException
from service.settings import Settings


def test_project_name_with_a_final_newline_is_refused() -> None:
    assert validate_project_name("nl") == "nl"
    with pytest.raises(ValidationException):
        validate_project_name("nl\n")


def test_split_with_a_final_newline_is_refused() -> None:
    assert validate_splits(["train"]) == ["train"]
    with pytest.raises(ValidationException):
        validate_splits(["train\n"])


def test_upload_part_name_with_a_final_newline_is_a_problem() -> None:
    items, problems = group_parts([("image.a", "x"), ("label.b\n", "normal")])
    assert [item.part_id for item in items] == ["a"]
    assert [name for name, _ in problems] == ["label.b\n"]


def test_arn_with_a_final_newline_is_refused(tmp_path: Any) -> None:
    settings = Settings(home=tmp_path)
    arn = f"arn:aws:lookoutvision:{settings.region}:{settings.account_id}:project/p1"
    assert parse_arn(settings, arn) == ("project", ["p1"])
    with pytest.raises(ValidationException):
        parse_arn(settings, arn + "\n")


@pytest.mark.parametrize(
    ("platform", "options"),
    [
        ({"Os": "LINUX", "Arch": "X86_64", "Accelerator": "CPU"}, '{"mcpu": "core-avx2\\n"}'),
        (
            {"Os": "LINUX", "Arch": "ARM64", "Accelerator": "NVIDIA"},
            '{"gpu-code": "sm_75\\n", "trt-ver": "7.1.3", "cuda-ver": "10.2"}',
        ),
    ],
    ids=["cpu", "nvidia"],
)
def test_compiler_option_with_a_final_newline_is_refused(platform: dict[str, str], options: str) -> None:
    packaging_targets.parse_target(device=None, platform=platform, compiler_options=options.replace("\\n", ""))
    with pytest.raises(ValidationException):
        packaging_targets.parse_target(device=None, platform=platform, compiler_options=options)


def test_create_project_named_with_a_newline_is_a_validation_error(lv: Any) -> None:
    with pytest.raises(ClientError) as raised:
        lv.create_project(ProjectName="nl\n")
    assert raised.value.response["Error"]["Code"] == "ValidationException"

"""Validation of names that Lookout for Vision constrains."""

import re

from service.errors import ValidationException

_PROJECT_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_\-]{0,254}$")
DATASET_TYPES = ("train", "test")


def validate_project_name(name: str) -> str:
    if not _PROJECT_NAME.fullmatch(name or ""):
        raise ValidationException(
            f"Invalid project name {name!r}: use 1-255 characters, letters, digits, '-' and '_', "
            "starting with a letter or digit."
        )
    return name


def validate_dataset_type(dataset_type: str) -> str:
    if dataset_type not in DATASET_TYPES:
        raise ValidationException(f"Invalid DatasetType {dataset_type!r}: must be 'train' or 'test'.")
    return dataset_type

"""The one vocabulary of model version statuses (Lookout for Vision's names) and the one "model must be X" check.

Never import status strings from anywhere else; compare and assign `ModelStatus` members (a `StrEnum`, so the
database column and the wire format keep the plain names).
"""

from collections.abc import Collection
from enum import StrEnum

from service.db.models import Model
from service.errors import ConflictException


class ModelStatus(StrEnum):
    TRAINING = "TRAINING"
    TRAINED = "TRAINED"
    TRAINING_FAILED = "TRAINING_FAILED"
    STARTING_HOSTING = "STARTING_HOSTING"
    HOSTED = "HOSTED"
    HOSTING_FAILED = "HOSTING_FAILED"
    STOPPING_HOSTING = "STOPPING_HOSTING"
    DELETING = "DELETING"


BUSY_HOSTING = frozenset({ModelStatus.HOSTED, ModelStatus.STARTING_HOSTING, ModelStatus.STOPPING_HOSTING})
STARTABLE = frozenset({ModelStatus.TRAINED, ModelStatus.HOSTING_FAILED})
STOPPABLE = frozenset({ModelStatus.HOSTED, ModelStatus.STARTING_HOSTING, ModelStatus.HOSTING_FAILED})
PACKAGEABLE = frozenset({ModelStatus.TRAINED, ModelStatus.HOSTED})
DELETABLE = frozenset(ModelStatus) - BUSY_HOSTING


def require_status(model: Model, allowed: Collection[ModelStatus], *, project_name: str, hint: str) -> None:
    """ConflictException `Model <v> of project <p> is <status>; <hint>` unless the model is in one of `allowed`."""
    if model.status not in allowed:
        raise ConflictException(
            f"Model {model.version} of project {project_name} is {model.status}; {hint}",
            resource_id=f"{project_name}/{model.version}",
            resource_type="MODEL",
        )

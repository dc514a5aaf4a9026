"""The name a hosted model version's deployment has in the inference backend (units, Serve applications)."""

from service.db.models import Model


def deployment_key(model: Model) -> str:
    return model_deployment_key(model.id)


def model_deployment_key(model_id: int | None) -> str:
    """`deployment_key` of the model with this id."""
    return f"model-{model_id}"

"""Imports every built-in model so each registers itself with the registry."""

from service.engine.models import draem, padim, patchcore, stfpm  # noqa: F401

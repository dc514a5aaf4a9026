"""Imports every built-in model so each registers itself with the registry."""
from service.engine.models import draem  # noqa: F401
from service.engine.models import padim  # noqa: F401
from service.engine.models import patchcore  # noqa: F401
from service.engine.models import stfpm  # noqa: F401

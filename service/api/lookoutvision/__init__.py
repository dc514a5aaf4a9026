"""The Lookout for Vision 2020-11-20 REST API: thin translators between the wire format and the domain."""

from fastapi import APIRouter, Depends

from service.api.lookoutvision import datasets, hosting, models, packaging, projects, tags
from service.auth.dependency import require_signature

router = APIRouter(prefix="/2020-11-20", dependencies=[Depends(require_signature)])
router.include_router(hosting.router)  # first: DetectAnomalies is the hot path, and routes are matched in order
router.include_router(projects.router)
router.include_router(datasets.router)
router.include_router(tags.router)
router.include_router(models.router)
router.include_router(packaging.router)

"""openlv extensions under the same API prefix and signature rules as the AWS operations (see docs/api-extensions.md)."""

from fastapi import APIRouter, Depends

from service.api.ext import (
    access_keys,
    dataset_problems,
    detections,
    imports,
    review,
    shadow,
    thresholds,
    training,
    uploads,
)
from service.auth.dependency import require_signature

router = APIRouter(prefix="/2020-11-20", dependencies=[Depends(require_signature)])
router.include_router(uploads.router)
router.include_router(imports.router)
router.include_router(thresholds.router)
router.include_router(training.router)
router.include_router(detections.router)
router.include_router(access_keys.router)
router.include_router(review.router)
router.include_router(dataset_problems.router)
router.include_router(shadow.router)

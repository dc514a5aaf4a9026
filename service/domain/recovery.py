"""Start-up recovery after a crash: what a killed process left half-done is rolled back before requests are served.

Datasets claimed by a process that is gone return to their previous state, packaging jobs that were running fail
(start them again), and stored objects that no entry uses (queued deletions, rows, files and partial writes of an
uncommitted upload) are removed. Training jobs and hosting
have their own recovery (`service.jobs`, `service.domain.hosting.resume_hosting`); this module never touches them.
"""

import logging

from service.context import AppContext
from service.domain import dataset_state, packaging, stored_objects

log = logging.getLogger("openlv")


def recover_on_start(context: AppContext) -> None:
    released = dataset_state.release_abandoned_claims(context.engine)
    packaging_jobs = packaging.settle_interrupted_jobs(context.engine)
    removed = stored_objects.sweep(context.engine, context.store)
    if released or packaging_jobs or removed:
        log.warning(
            "start-up recovery: %d interrupted dataset update(s) rolled back, %d packaging job(s) failed, "
            "%d orphan object(s) removed",
            released,
            packaging_jobs,
            removed,
        )

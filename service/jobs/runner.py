"""The one interface between the service and whatever executes training jobs.

The embedded worker pool (`service.jobs.pool`) implements it with local worker processes; a Ray implementation can
replace it without touching the domain, which only writes job rows and calls these methods after committing them.
"""

from typing import Protocol


class JobRunner(Protocol):
    def start(self) -> None:
        """Settle jobs left RUNNING by a previous crash, then begin running queued jobs."""

    def submit(self, job_id: int) -> None:
        """A job row was committed in state QUEUED: run it when a slot is free."""

    def cancel(self, job_id: int) -> None:
        """The job's cancellation was requested in its row: make sure it stops, by force if it does not listen."""

    def recover(self) -> None:
        """Settle RUNNING jobs whose worker is gone (resumed or failed, never RUNNING forever)."""

    def close(self) -> None:
        """Stop running jobs; interrupted ones go back to the queue for the next start."""

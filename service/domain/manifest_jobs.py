"""Manifest contents validated after the call is answered, as Lookout for Vision did.

CreateDataset with a DatasetSource and UpdateDatasetEntries check the request itself at once (project, dataset,
the manifest object, Changes being JSON Lines) and answer CREATE_IN_PROGRESS / UPDATE_IN_PROGRESS. The lines and every
image they name are then validated and applied here, in one transaction: all or nothing. Bad lines end the dataset in
CREATE_FAILED / UPDATE_FAILED_ROLLBACK_COMPLETE with a short StatusMessage (how many, the first few) and the full list
kept on the dataset (ListDatasetProblems). This module never answers a request; the dataset is claimed by this
process (`dataset_state.OWNER`), so a process that dies meanwhile leaves no entry changed and its claim is released
on start-up (`dataset_state.release_abandoned_claims`) or once it is stale.
"""

import logging
from collections.abc import Sequence

from sqlmodel import Session, col, select

from service.context import AppContext
from service.db.engine import transaction
from service.db.models import Dataset, DatasetEntry, StoredImage
from service.domain import dataset_state
from service.domain.entries import EntriesRejected, Problem, apply_entries
from service.domain.manifests import prepare_manifest
from service.errors import ServiceError

log = logging.getLogger("openlv.datasets")
SHOWN_IN_MESSAGE = 3


def populate_dataset(context: AppContext, *, dataset_id: int, manifest: bytes) -> None:
    """Fill a CREATE_IN_PROGRESS dataset from its manifest: CREATE_COMPLETE, or CREATE_FAILED holding no entry."""
    _apply(
        context,
        dataset_id=dataset_id,
        data=manifest,
        relabel=False,
        done=(dataset_state.CREATE_COMPLETE, dataset_state.CREATED_MESSAGE),
        failed=dataset_state.CREATE_FAILED,
    )


def apply_update(context: AppContext, *, dataset_id: int, changes: bytes) -> None:
    """Apply a claimed UpdateDatasetEntries batch: UPDATE_COMPLETE, or UPDATE_FAILED_ROLLBACK_COMPLETE with no entry
    changed."""
    _apply(
        context,
        dataset_id=dataset_id,
        data=changes,
        relabel=True,
        done=(dataset_state.UPDATE_COMPLETE, dataset_state.UPDATED_MESSAGE),
        failed=dataset_state.UPDATE_FAILED_ROLLBACK_COMPLETE,
    )


def _apply(
    context: AppContext, *, dataset_id: int, data: bytes, relabel: bool, done: tuple[str, str], failed: str
) -> None:
    try:
        with transaction(context.engine) as session:
            dataset = session.get(Dataset, dataset_id)
            if dataset is None:
                return
            existing = entry_sizes(session, dataset) if relabel else None
            pending, problems, total = prepare_manifest(
                data, settings=context.settings, store=context.store, existing_sizes=existing
            )
            if problems:
                raise EntriesRejected(problems, total=total)
            apply_entries(session, store=context.store, dataset=dataset, pending=pending)
            dataset_state.set_status(session, dataset=dataset, status=done[0], message=done[1])
    except EntriesRejected as exc:
        message = summary(exc.problems, total=exc.total, created=not relabel)
        dataset_state.record_failed_update(
            context.engine, dataset_id=dataset_id, message=message, problems=problem_list(exc.problems), status=failed
        )
    except ServiceError as exc:
        dataset_state.record_failed_update(context.engine, dataset_id=dataset_id, message=exc.message, status=failed)
    except Exception:
        log.exception("manifest of dataset %s failed", dataset_id)
        message = "The manifest could not be applied because of an internal error; no entry changed. Try again."
        dataset_state.record_failed_update(context.engine, dataset_id=dataset_id, message=message, status=failed)


def summary(problems: Sequence[Problem], *, total: int, created: bool) -> str:
    """A StatusMessage short enough to read: the count, the first bad lines, where the rest are."""
    outcome = "the dataset holds no entry" if created else "no entry changed"
    shown = "; ".join(f"{where}: {reason}" for where, reason in problems[:SHOWN_IN_MESSAGE])
    more = len(problems) - SHOWN_IN_MESSAGE
    rest = f"; and {more} more" if more > 0 else ""
    return (
        f"{len(problems)} of {total} manifest lines were refused, so {outcome}: {shown}{rest}. "
        "ListDatasetProblems lists every refused line."
    )


def problem_list(problems: Sequence[Problem]) -> list[dict]:
    """The refused lines as ListDatasetProblems answers them."""
    return [{"Entry": where, "Reason": reason} for where, reason in problems]


def entry_sizes(session: Session, dataset: Dataset) -> dict[str, tuple[int, int]]:
    """source-ref -> (width, height) of the dataset's images: lines naming these relabel without reading the image."""
    query = (
        select(DatasetEntry.source_ref, StoredImage.width, StoredImage.height)
        .join(StoredImage, col(StoredImage.sha256) == col(DatasetEntry.image_sha256))
        .where(DatasetEntry.dataset_id == dataset.id)
    )
    return {ref: (width, height) for ref, width, height in session.exec(query)}

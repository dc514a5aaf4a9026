"""The life of content-addressed objects (images and masks stored once per SHA-256, shared by every entry using them).

A file is deleted only when no entry refers to it, and the decision is taken in the transaction that drops the last
reference: `release` locks each `StoredImage` row, checks that no entry uses it, deletes the row and queues the key in
`ObjectDeletion`. After that commit the queued files are deleted. A writer storing the same bytes again (`claim`)
deletes the queue row first, so a queued deletion and a new reference can never both win:

- PostgreSQL: `claim` holds the row FOR KEY SHARE until its transaction ends, and `release` takes it FOR UPDATE SKIP
  LOCKED: a row an upload is adding a reference to is kept, without waiting (waiting would deadlock against an upload
  of several images); one that upload then does not use is collected on the next start. Deleting a queued key takes
  that queue row's lock, so the file deleter and a writer of the same key take turns.
- SQLite: each of these starts with a write, and SQLite runs one writing transaction at a time.

`sweep` runs on start-up: queued deletions a crash left behind, rows no entry uses, and files (and `.tmp-` files) that
an interrupted upload wrote without committing their rows. This module never decides which entries exist.
"""

import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, event, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from service.db.engine import transaction
from service.db.models import DatasetEntry, ObjectDeletion, StoredImage, utcnow
from service.storage import ObjectStore

log = logging.getLogger("openlv.storage")

IMAGE_PREFIX = "images/"
_CLAIM_ATTEMPTS = 5


def claim(session: Session, store: ObjectStore, *, row: dict[str, Any], data: bytes, content_type: str) -> StoredImage:
    """The `StoredImage` with these bytes, its file present and its row held until the caller's transaction ends."""
    sha = row["sha256"]
    for _ in range(_CLAIM_ATTEMPTS):
        session.execute(_insert_ignoring_duplicates(session, StoredImage, "sha256").values(**row))
        locked = select(StoredImage).where(StoredImage.sha256 == sha).with_for_update(key_share=True)
        stored = session.exec(locked.execution_options(populate_existing=True)).first()
        if stored is not None:
            break
        # A release deleted the row between the insert and the lock: insert it again.
    else:
        raise RuntimeError(f"stored image {sha} kept disappearing while it was being stored")
    session.execute(delete(ObjectDeletion).where(col(ObjectDeletion.key) == stored.key))
    if not store.exists(stored.key):
        store.put(stored.key, data, content_type)
    return stored


def release(session: Session, store: ObjectStore, shas: Iterable[str]) -> list[str]:
    """Forget the stored images among `shas` that no entry uses any more; their files go after the commit.

    Call it after the caller's transaction dropped (and flushed) its references; returns the keys queued."""
    session.flush()
    queued = []
    for sha in sorted(set(shas)):
        locked = select(StoredImage).where(StoredImage.sha256 == sha).with_for_update(skip_locked=True)
        stored = session.exec(locked).first()
        if stored is None or _is_referenced(session, sha):
            continue
        session.delete(stored)
        session.flush()
        session.execute(
            _insert_ignoring_duplicates(session, ObjectDeletion, "key").values(key=stored.key, queued_at=utcnow())
        )
        queued.append(stored.key)
    if queued:
        engine = session.get_bind()
        assert isinstance(engine, Engine)
        event.listen(session, "after_commit", lambda _s: delete_queued(engine, store, queued), once=True)
    return queued


def delete_queued(engine: Engine, store: ObjectStore, keys: Iterable[str]) -> int:
    """Delete the files of queued keys that no writer claimed back; how many were deleted. Failures stay queued."""
    deleted = 0
    for key in keys:
        try:
            with transaction(engine) as session:
                taken = session.execute(delete(ObjectDeletion).where(col(ObjectDeletion.key) == key))
                if (
                    taken.rowcount == 1
                    and session.exec(select(StoredImage).where(StoredImage.key == key)).first() is None
                ):
                    store.delete(key)
                    deleted += 1
        except Exception:
            log.exception("could not delete stored object %s; it stays queued", key)
    return deleted


def sweep(engine: Engine, store: ObjectStore) -> int:
    """Start-up collection (no upload is running yet): queued deletions, unused rows, files without rows."""
    with transaction(engine) as session:
        unused = session.exec(
            select(StoredImage.sha256).where(
                ~select(DatasetEntry.id)
                .where(
                    or_(
                        col(DatasetEntry.image_sha256) == col(StoredImage.sha256),
                        col(DatasetEntry.mask_sha256) == col(StoredImage.sha256),
                    )
                )
                .exists()
            )
        ).all()
        if unused:
            release(session, store, unused)
    with transaction(engine) as session:
        queued = list(session.exec(select(ObjectDeletion.key)))
    removed = delete_queued(engine, store, queued)
    with transaction(engine) as session:
        known = set(session.exec(select(StoredImage.key)))
    for key in list(store.list(IMAGE_PREFIX)):
        if key not in known:
            store.delete(key)
            removed += 1
    return removed + store.remove_partial_writes()


def _is_referenced(session: Session, sha: str) -> bool:
    query = select(DatasetEntry.id).where(or_(DatasetEntry.image_sha256 == sha, DatasetEntry.mask_sha256 == sha))
    return session.exec(query.limit(1)).first() is not None


def _insert_ignoring_duplicates(session: Session, table: Any, key: str) -> Any:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing(index_elements=[key])

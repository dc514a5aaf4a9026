"""Writes the detections log off the request path: requests hand records to a queue, one thread stores them in
batches. `flush` waits until everything handed over so far is written (listing calls it, so a caller always sees
its own detections)."""

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

log = logging.getLogger("openlv.hosting")

Record = TypeVar("Record")

_BATCH = 64


class BackgroundRecorder(Generic[Record]):
    def __init__(self, write: Callable[[Sequence[Record]], None], *, capacity: int = 10_000) -> None:
        self.write = write
        self._queue: queue.Queue[Record | None] = queue.Queue(maxsize=capacity)
        self._written = threading.Condition()
        self._submitted = 0
        self._done = 0
        self._thread = threading.Thread(target=self._run, name="lv-detections-log", daemon=True)
        self._thread.start()

    def record(self, item: Record) -> None:
        """Queue one record; blocks only when `capacity` records are already waiting (storage far behind)."""
        with self._written:
            self._submitted += 1
        self._queue.put(item)

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every record queued before this call is written; False on timeout."""
        with self._written:
            target = self._submitted
            return self._written.wait_for(lambda: self._done >= target, timeout=timeout)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < _BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._write(batch)
                    return
                batch.append(item)
            self._write(batch)

    def _write(self, batch: list[Record]) -> None:
        try:
            self.write(batch)
        except Exception:
            log.exception("could not write %d detection records", len(batch))
        with self._written:
            self._done += len(batch)
            self._written.notify_all()

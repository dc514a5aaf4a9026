"""Writes the detections log off the request path: requests hand records to a queue, one thread stores them in
batches. `flush` waits until everything handed over so far is written (listing calls it, so a caller always sees
its own detections).

The writer lingers up to `linger_s` after a record arrives so that a steady stream is written as one batch (one
transaction, the images' fsyncs together) instead of one write per request: at one request at a time a per-request
write landed just as the next request needed the interpreter, and cost it about 2 ms. A flush or close ends the
lingering at once."""

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

log = logging.getLogger("openlv.hosting")

Record = TypeVar("Record")

_BATCH = 64
_FLUSH = object()
_CLOSE = object()


class BackgroundRecorder(Generic[Record]):
    def __init__(
        self, write: Callable[[Sequence[Record]], None], *, capacity: int = 10_000, linger_s: float = 0.25
    ) -> None:
        self.write = write
        self.linger_s = linger_s
        self._queue: queue.Queue[object] = queue.Queue(maxsize=capacity)
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
            if self._done >= target:
                return True
        self._queue.put(_FLUSH)
        with self._written:
            return self._written.wait_for(lambda: self._done >= target, timeout=timeout)

    def close(self) -> None:
        self._queue.put(_CLOSE)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _CLOSE:
                return
            if first is _FLUSH:
                continue
            batch, closing = self._gather(first)
            self._write(batch)
            if closing:
                return

    def _gather(self, first: object) -> tuple[list[Record], bool]:
        """The batch that starts with `first`: until it is full, `linger_s` has passed, or a flush or close arrives."""
        batch: list[Record] = [first]  # type: ignore[list-item]
        deadline = time.monotonic() + self.linger_s
        while len(batch) < _BATCH:
            try:
                item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if item is _FLUSH:
                break
            if item is _CLOSE:
                return batch, True
            batch.append(item)  # type: ignore[arg-type]
        return batch, False

    def _write(self, batch: list[Record]) -> None:
        try:
            self.write(batch)
        except Exception:
            log.exception("could not write %d detection records", len(batch))
        with self._written:
            self._done += len(batch)
            self._written.notify_all()

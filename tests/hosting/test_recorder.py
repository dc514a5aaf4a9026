"""The detections-log writer: batches a steady stream, and a flush or close never waits out the linger window."""

import threading
import time

from service.hosting.recorder import BackgroundRecorder


class Sink:
    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.lock = threading.Lock()

    def __call__(self, batch: list[int]) -> None:
        with self.lock:
            self.batches.append(list(batch))


def test_records_arriving_within_the_linger_window_are_written_as_one_batch() -> None:
    sink = Sink()
    recorder = BackgroundRecorder(sink, linger_s=1.0)
    for item in range(5):
        recorder.record(item)
        time.sleep(0.02)
    assert recorder.flush(timeout=5)
    assert sink.batches == [[0, 1, 2, 3, 4]]
    recorder.close()


def test_a_flush_returns_without_waiting_out_the_linger_window() -> None:
    sink = Sink()
    recorder = BackgroundRecorder(sink, linger_s=30.0)
    recorder.record(1)
    started = time.monotonic()
    assert recorder.flush(timeout=10)
    assert time.monotonic() - started < 2.0
    assert sink.batches == [[1]]
    recorder.record(2)
    assert recorder.flush(timeout=10)
    assert sink.batches == [[1], [2]]
    recorder.close()


def test_a_lone_record_is_written_once_the_window_passes() -> None:
    sink = Sink()
    recorder = BackgroundRecorder(sink, linger_s=0.05)
    recorder.record(7)
    deadline = time.monotonic() + 5
    while not sink.batches and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sink.batches == [[7]]
    recorder.close()


def test_close_writes_what_is_waiting_at_once() -> None:
    sink = Sink()
    recorder = BackgroundRecorder(sink, linger_s=30.0)
    recorder.record(1)
    recorder.record(2)
    started = time.monotonic()
    recorder.close()
    assert time.monotonic() - started < 2.0
    assert sink.batches == [[1, 2]]


def test_a_failed_write_is_counted_done_so_a_flush_does_not_hang() -> None:
    def broken(batch: list[int]) -> None:
        raise OSError("disk full")

    recorder = BackgroundRecorder(broken, linger_s=30.0)
    recorder.record(1)
    assert recorder.flush(timeout=5)
    recorder.close()


def test_a_flush_with_nothing_pending_returns_at_once() -> None:
    recorder = BackgroundRecorder(Sink(), linger_s=30.0)
    assert recorder.flush(timeout=0.5)
    recorder.close()

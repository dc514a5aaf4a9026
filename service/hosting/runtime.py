"""What a running service holds for hosting: the inference backend, the artefact cache, the detections log writer, the
shadow runner (shadow traffic and its results' writer), and one control thread that starts and stops deployments in
order (so a stop never overtakes the start it follows).
"""

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from service.hosting.backend import DeploymentError, DeploymentSpec, InferenceBackend
from service.hosting.model_cache import ArtifactCache
from service.hosting.recorder import BackgroundRecorder
from service.hosting.shadow import ShadowRunner
from service.settings import Settings

log = logging.getLogger("openlv.hosting")

RETENTION_SWEEP_INTERVAL_S = 3600.0


class HostingRuntime:
    def __init__(
        self,
        backend: InferenceBackend,
        cache: ArtifactCache,
        recorder: BackgroundRecorder[Any],
        settings: Settings,
        sweep_retention: Callable[[], None],
        shadows: ShadowRunner[Any],
    ) -> None:
        self.backend = backend
        self.cache = cache
        self.recorder = recorder
        self.shadows = shadows
        self.settings = settings
        self._control = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lv-hosting-control")
        self._closed = threading.Event()
        self._sweep_retention = sweep_retention
        self._sweeper = threading.Thread(target=self._sweep_forever, name="lv-retention", daemon=True)
        self._sweeper.start()

    def deploy(
        self,
        *,
        key: str,
        artifacts_prefix: str,
        min_units: int,
        max_units: int,
        runtime: str,
        on_result: Callable[[str | None], None],
    ) -> None:
        """Start a deployment in the background; `on_result(None)` once it serves, else `on_result(reason)`."""

        def run() -> None:
            try:
                directory = self.cache.fetch(artifacts_prefix)
                self.backend.start(
                    DeploymentSpec(
                        key=key, artifacts_dir=directory, min_units=min_units, max_units=max_units, runtime=runtime
                    )
                )
            except DeploymentError as exc:
                on_result(str(exc))
                return
            except Exception as exc:
                log.exception("starting deployment %s failed", key)
                on_result(f"the model could not be started: {exc}")
                return
            on_result(None)

        self._control.submit(_logged(run, f"deploy {key}"))

    def undeploy(self, *, key: str, on_done: Callable[[], None]) -> None:
        """Stop a deployment in the background, then call `on_done`."""

        def run() -> None:
            self.backend.stop(key)
            on_done()

        self._control.submit(_logged(run, f"undeploy {key}"))

    def drain(self, timeout: float = 60.0) -> None:
        """Wait until the start and stop operations queued so far have run."""
        self._control.submit(lambda: None).result(timeout=timeout)

    def close(self) -> None:
        self._closed.set()
        self._control.shutdown(wait=True, cancel_futures=True)
        self.backend.close()
        self.recorder.close()
        self.shadows.close()
        self._sweeper.join(timeout=5)

    def _sweep_forever(self) -> None:
        while True:
            try:
                self._sweep_retention()
            except Exception:
                log.exception("purging expired detection images failed")
            if self._closed.wait(RETENTION_SWEEP_INTERVAL_S):
                return


def _logged(task: Callable[[], None], what: str) -> Callable[[], None]:
    def run() -> None:
        try:
            task()
        except Exception:
            log.exception("hosting control operation failed: %s", what)

    return run

"""A local copy of each hosted model's artefacts: runtimes load files, while artefacts live in object storage.

The cache never shrinks by itself: the domain evicts a model's copy when the model is deleted, and on start-up keeps
only the copies of models that still exist (`retain`), so a copy deleted while the service was down goes too.
"""

import hashlib
import shutil
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path

from service.hosting.backend import DeploymentError
from service.storage import ObjectStore

_COMPLETE = ".complete"


class ArtifactCache:
    """Copies the objects under a model's artefact prefix into `root/<digest of prefix>/` once, atomically."""

    def __init__(self, store: ObjectStore, root: Path) -> None:
        self.store = store
        self.root = root
        self._lock = threading.Lock()

    def local_dir(self, prefix: str) -> Path:
        return self.root / hashlib.sha256(prefix.encode()).hexdigest()[:24]

    def fetch(self, prefix: str) -> Path:
        """The local folder holding the artefacts under `prefix`; raises `DeploymentError` when there are none."""
        target = self.local_dir(prefix)
        with self._lock:
            if (target / _COMPLETE).is_file():
                return target
            prefix = prefix.rstrip("/") + "/"
            keys = list(self.store.list(prefix))
            if not keys:
                raise DeploymentError(f"no model artefacts found under {prefix} in storage")
            self.root.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(dir=self.root, prefix=".fetch-"))
            try:
                for key in keys:
                    path = staging / key[len(prefix) :]
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(self.store.get(key))
                (staging / _COMPLETE).touch()
                shutil.rmtree(target, ignore_errors=True)
                staging.rename(target)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
        return target

    def evict(self, prefix: str) -> None:
        with self._lock:
            shutil.rmtree(self.local_dir(prefix), ignore_errors=True)

    def retain(self, prefixes: Iterable[str]) -> list[Path]:
        """Remove every cached copy (and unfinished fetch) that is not of one of `prefixes`; returns what went."""
        keep = {self.local_dir(prefix).name for prefix in prefixes}
        with self._lock:
            if not self.root.is_dir():
                return []
            removed = sorted(path for path in self.root.iterdir() if path.name not in keep)
            for path in removed:
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
        return removed

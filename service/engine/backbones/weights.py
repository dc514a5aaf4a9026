"""Backbone checkpoints: openlv's own (shipped in the package), and ImageNet's with a verified local cache, a resumable
download and an offline import.

The official torchvision checkpoints are named `<arch>-<hex>.pth`, where `<hex>` is the start of the file's SHA-256;
that prefix is what a file must hash to before it enters the cache. Downloads go to `<file>.part` (resumed with an HTTP
Range request after an interruption), are verified, then renamed into place atomically: the cache never holds a
half-written or corrupted checkpoint. An exclusive lock file serialises concurrent downloads of the same checkpoint.

The cache folder and the download site are always passed in by the caller (the service takes them from `Settings`);
this module never reads the environment, so the API process and a training worker cannot disagree about them.
"""

import fcntl
import hashlib
import http.client
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from service.engine.errors import WeightsUnavailableError

DEFAULT_BASE_URL = "https://download.pytorch.org/models/"
_CHUNK_BYTES = 1 << 20
_TIMEOUT_SECONDS = 60.0
_HASH_PREFIX_PATTERN = re.compile(r"-([0-9a-f]{8,64})\.pth$")


@dataclass(frozen=True)
class CheckpointFile:
    """One checkpoint file; its expected SHA-256 prefix is read from its torchvision-style name."""

    file_name: str

    @property
    def sha256_prefix(self) -> str:
        match = _HASH_PREFIX_PATTERN.search(self.file_name)
        if match is None:
            raise ValueError(f"{self.file_name!r} does not end in -<sha256 prefix>.pth")
        return match.group(1)


IMAGENET_CHECKPOINTS: dict[str, CheckpointFile] = {
    "resnet18": CheckpointFile("resnet18-f37072fd.pth"),
    "wide_resnet50_2": CheckpointFile("wide_resnet50_2-95faca4d.pth"),
}


OPENLV_ARCHITECTURE = "openlv_resnet18_w32"
OPENLV_CHECKPOINT = CheckpointFile("openlv_resnet18_w32-23fe74e6.pth")
OPENLV_SHA256 = "23fe74e6506f316a8d61d9ad3f16e5cd614199356572fb9787dafad8713d4536"
"""The backbone openlv pretrains on procedural images (bench/pretrain_backbone.py) and ships beside this module."""


def openlv_weights_path() -> Path:
    """The shipped openlv checkpoint, after checking its full SHA-256 (a damaged install fails here, not silently)."""
    path = Path(__file__).with_name(OPENLV_CHECKPOINT.file_name)
    if not path.is_file():
        raise WeightsUnavailableError(f"openlv backbone weights {path} are missing from this installation")
    actual = sha256_of(path)
    if actual != OPENLV_SHA256:
        raise WeightsUnavailableError(f"{path} is corrupted: its SHA-256 is {actual}, expected {OPENLV_SHA256}")
    return path


def imagenet_checkpoint(name: str) -> CheckpointFile:
    try:
        return IMAGENET_CHECKPOINTS[name]
    except KeyError:
        known = ", ".join(sorted(IMAGENET_CHECKPOINTS))
        raise ValueError(f"no ImageNet checkpoint for backbone {name!r}; known: {known}") from None


def imagenet_weights_available(name: str, cache_dir: str | os.PathLike[str]) -> bool:
    """Whether the ImageNet checkpoint of backbone `name` is already in the cache (no network access)."""
    return (Path(cache_dir) / imagenet_checkpoint(name).file_name).is_file()


def imagenet_weights_path(name: str, cache_dir: str | os.PathLike[str], base_url: str | None = None) -> Path:
    """The cached checkpoint of backbone `name`, downloaded first when missing.

    `base_url` (a mirror of download.pytorch.org/models) defaults to download.pytorch.org. Raises
    `WeightsUnavailableError` when the file is not cached and cannot be downloaded, with instructions for an offline
    import.
    """
    checkpoint = imagenet_checkpoint(name)
    directory = Path(cache_dir)
    target = directory / checkpoint.file_name
    if target.is_file():
        return target
    url = (base_url or DEFAULT_BASE_URL).rstrip("/") + "/"
    url += checkpoint.file_name
    try:
        download_checkpoint(url, checkpoint, directory)
    except (OSError, http.client.HTTPException) as exc:
        raise WeightsUnavailableError(
            f"ImageNet weights for {name} are not cached and could not be downloaded from {url} ({exc}). "
            f"Put {checkpoint.file_name} into {directory}, or run `lv weights import PATH` with a copy of it."
        ) from exc
    return target


def download_checkpoint(url: str, checkpoint: CheckpointFile, directory: Path) -> Path:
    """Download `url` into `directory/checkpoint.file_name`, resuming a previous partial download.

    Raises `WeightsUnavailableError` when the completed file does not match its checksum (the partial file is removed,
    so the next attempt starts clean) and `OSError` or `http.client.HTTPException` when the network fails (the partial
    file is kept for the next attempt to resume).
    """
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / checkpoint.file_name
    partial = directory / (checkpoint.file_name + ".part")
    with _exclusive_lock(directory / (checkpoint.file_name + ".lock")):
        if target.is_file():
            return target
        _fetch_into(url, partial)
        try:
            _verify(partial, checkpoint)
        except WeightsUnavailableError:
            partial.unlink(missing_ok=True)
            raise
        os.replace(partial, target)
    return target


def import_weights(path: str | os.PathLike[str], name: str, cache_dir: str | os.PathLike[str]) -> Path:
    """Verify a local copy of backbone `name`'s ImageNet checkpoint and copy it into the cache (for offline hosts)."""
    checkpoint = imagenet_checkpoint(name)
    source = Path(path)
    if not source.is_file():
        raise WeightsUnavailableError(f"{source} is not a file")
    _verify(source, checkpoint)
    directory = Path(cache_dir)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / checkpoint.file_name
    with tempfile.NamedTemporaryFile(dir=directory, prefix=checkpoint.file_name, suffix=".tmp", delete=False) as tmp:
        copy = Path(tmp.name)
        try:
            with source.open("rb") as stream:
                shutil.copyfileobj(stream, tmp, _CHUNK_BYTES)
        except BaseException:
            copy.unlink(missing_ok=True)
            raise
    os.replace(copy, target)
    return target


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _verify(path: Path, checkpoint: CheckpointFile) -> None:
    actual = sha256_of(path)
    if not actual.startswith(checkpoint.sha256_prefix):
        raise WeightsUnavailableError(
            f"{path.name} is corrupted or is not {checkpoint.file_name}: its SHA-256 is {actual}, "
            f"expected one starting with {checkpoint.sha256_prefix}"
        )


def _fetch_into(url: str, partial: Path) -> None:
    """Append the rest of `url` to `partial`; start over when the server ignores the Range request."""
    offset = partial.stat().st_size if partial.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={offset}-"} if offset else {})
    try:
        response = urllib.request.urlopen(request, timeout=_TIMEOUT_SECONDS)
    except urllib.error.HTTPError as exc:
        if exc.code != 416:
            raise
        return  # the partial file already holds every byte; verification decides whether it is right
    with response:
        resumed = offset > 0 and response.status == 206
        length = response.headers.get("Content-Length")
        expected = (offset if resumed else 0) + int(length) if length is not None else None
        with partial.open("ab" if resumed else "wb") as stream:
            shutil.copyfileobj(response, stream, _CHUNK_BYTES)
    received = partial.stat().st_size
    if expected is not None and received < expected:
        raise ConnectionError(f"download of {url} stopped after {received} of {expected} bytes")


@contextmanager
def _exclusive_lock(lock_path: Path) -> Iterator[None]:
    with lock_path.open("a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)

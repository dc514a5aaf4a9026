"""What only the local backend has to guarantee: atomic writes and a root nothing can leave."""

import os
from pathlib import Path

import pytest

from service.storage import BucketUnavailable, StorageKeyError
from service.storage.local import LocalStore


@pytest.fixture
def local(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "root", "openlv")


def files_under(root: Path) -> list[str]:
    return sorted(path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file())


def test_writes_leave_no_temp_files(local: LocalStore) -> None:
    for index in range(5):
        local.put(f"d/{index}.bin", os.urandom(1000))
    local.put("d/0.bin", b"replaced")
    assert files_under(local.root) == [f"d/{index}.bin" for index in range(5)]


def test_failed_write_keeps_the_old_object_and_no_temp_file(local: LocalStore, monkeypatch: pytest.MonkeyPatch) -> None:
    local.put("obj", b"old")

    def failing_fsync(_fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="No space left"):
        local.put("obj", b"new")
    assert local.get("obj") == b"old"
    assert files_under(local.root) == ["obj"]


def test_leftover_temp_files_are_not_listed(local: LocalStore) -> None:
    local.put("d/real.bin", b"x")
    (local.root / "d" / ".tmp-crashed").write_bytes(b"partial")
    assert list(local.list()) == ["d/real.bin"]


def test_symlink_out_of_the_root_is_refused(local: LocalStore, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("do not read")
    (local.root / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(StorageKeyError, match="leaves the storage root"):
        local.get("link/secret.txt")
    with pytest.raises(StorageKeyError):
        local.put("link/new.txt", b"x")
    assert not (outside / "new.txt").exists()


def test_local_storage_holds_its_one_bucket_only(local: LocalStore) -> None:
    assert local.in_bucket("openlv") is local
    with pytest.raises(BucketUnavailable, match="local storage, which holds only bucket 'openlv'"):
        local.in_bucket("customer-bucket")

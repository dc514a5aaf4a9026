"""One behavioural suite for every ObjectStore backend (local disk and S3 through moto_server)."""

import pytest

from service.errors import ServiceError
from service.storage import ObjectNotFoundError, ObjectStore, StorageError, StorageKeyError, split_s3_uri

PNG_LIKE = bytes(range(256)) * 4


def test_put_get_roundtrip_and_overwrite(store: ObjectStore) -> None:
    store.put("images/ab/cd.png", PNG_LIKE, content_type="image/png")
    assert store.get("images/ab/cd.png") == PNG_LIKE
    store.put("images/ab/cd.png", b"second version")
    assert store.get("images/ab/cd.png") == b"second version"


def test_empty_object(store: ObjectStore) -> None:
    store.put("empty", b"")
    assert store.exists("empty")
    assert store.get("empty") == b""


def test_exists_and_delete(store: ObjectStore) -> None:
    assert not store.exists("a/b.bin")
    store.put("a/b.bin", b"x")
    assert store.exists("a/b.bin")
    assert not store.exists("a")  # a "folder" is not an object
    store.delete("a/b.bin")
    assert not store.exists("a/b.bin")
    store.delete("a/b.bin")  # deleting what is gone is not an error


def test_get_missing_raises_storage_own_error_never_an_api_error(store: ObjectStore) -> None:
    with pytest.raises(ObjectNotFoundError, match=f"s3://{store.bucket}/missing/key") as raised:
        store.get("missing/key")
    assert raised.value.key == "missing/key"
    with pytest.raises(StorageKeyError) as refused:
        store.get("../escape")
    for error in (raised.value, refused.value):
        assert isinstance(error, StorageError) and not isinstance(error, ServiceError)


def test_list_by_prefix(store: ObjectStore) -> None:
    keys = ["a/1.png", "a/2/3.png", "ab.png", "b/1.png"]
    for key in keys:
        store.put(key, key.encode())
    assert sorted(store.list()) == keys
    assert sorted(store.list("a/")) == ["a/1.png", "a/2/3.png"]
    assert sorted(store.list("a")) == ["a/1.png", "a/2/3.png", "ab.png"]
    assert list(store.list("zzz/")) == []


@pytest.mark.parametrize(
    "key", ["", "../escape", "a/../../escape", "/etc/passwd", "a\\b", "a//b", "./a", "a/./b", "a/..", "nul\x00byte"]
)
def test_malformed_and_traversal_keys_are_refused(store: ObjectStore, key: str) -> None:
    for operation in (
        lambda: store.put(key, b"x"),
        lambda: store.get(key),
        lambda: store.exists(key),
        lambda: store.delete(key),
    ):
        with pytest.raises(StorageKeyError):
            operation()


def test_s3_uris_name_a_bucket_and_a_checked_key(store: ObjectStore) -> None:
    assert split_s3_uri(f"s3://{store.bucket}/dir/img%201.png") == (store.bucket, "dir/img 1.png")
    assert split_s3_uri("s3://other/dir/img.png") == ("other", "dir/img.png")
    for bad in (f"https://{store.bucket}/dir/img.png", "s3:///dir/img.png", f"s3://{store.bucket}/dir/%2e%2e/escape"):
        with pytest.raises(StorageKeyError):
            split_s3_uri(bad)


def test_a_store_in_its_own_bucket_is_itself(store: ObjectStore) -> None:
    assert store.in_bucket(store.bucket) is store

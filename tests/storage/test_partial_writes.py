"""What a write interrupted by a crash leaves behind is removed on start-up, and nothing else is."""

from service.storage import ObjectStore
from service.storage.local import LocalStore


def test_remove_partial_writes_keeps_every_object(store: ObjectStore) -> None:
    store.put("images/ab/kept.png", b"whole")
    if isinstance(store, LocalStore):
        (store.root / "images" / "ab" / ".tmp-half").write_bytes(b"ha")
        assert store.remove_partial_writes() == 1
        assert not (store.root / "images" / "ab" / ".tmp-half").exists()
    else:
        assert store.remove_partial_writes() == 0  # an S3 object is written whole or not at all
    assert list(store.list("images/")) == ["images/ab/kept.png"]
    assert store.get("images/ab/kept.png") == b"whole"

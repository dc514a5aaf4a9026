"""What only the S3 backend does: create its bucket on first use, and keep objects where other S3 clients see them."""

import uuid

import pytest

from service.storage import BucketUnavailable, ObjectAccessError, ObjectNotFoundError
from service.storage.s3 import S3Store
from tests.helpers.s3_server import S3Server
from tests.storage.conftest import s3_store


def test_bucket_is_created_once_and_objects_are_plain_s3_objects(s3_server: S3Server) -> None:
    bucket = f"fresh-{uuid.uuid4().hex[:12]}"
    outside = s3_server.boto3_client()
    assert bucket not in {b["Name"] for b in outside.list_buckets()["Buckets"]}
    store = s3_store(s3_server, bucket)
    store.put("images/x.png", b"\x89PNG-bytes", content_type="image/png")
    head = outside.head_object(Bucket=bucket, Key="images/x.png")
    assert head["ContentType"] == "image/png"
    assert head["ContentLength"] == len(b"\x89PNG-bytes")
    again = s3_store(s3_server, bucket)  # opening an existing bucket keeps its objects
    assert again.get("images/x.png") == b"\x89PNG-bytes"
    outside.put_object(Bucket=bucket, Key="from-outside/y.png", Body=b"y")
    assert sorted(again.list()) == ["from-outside/y.png", "images/x.png"]


def test_other_buckets_are_used_as_they_are_and_refusals_name_the_object(s3_server: S3Server) -> None:
    store = s3_store(s3_server, f"own-{uuid.uuid4().hex[:12]}")
    customer, missing = f"customer-{uuid.uuid4().hex[:12]}", f"missing-{uuid.uuid4().hex[:12]}"
    outside = s3_server.boto3_client()
    outside.create_bucket(Bucket=customer)
    outside.put_object(Bucket=customer, Key="in/a.png", Body=b"a")
    other = store.in_bucket(customer)
    assert other.bucket == customer and other.get("in/a.png") == b"a"
    other.put("out/b.json", b"{}")
    assert outside.get_object(Bucket=customer, Key="out/b.json")["Body"].read() == b"{}"
    with pytest.raises(ObjectNotFoundError, match=f"s3://{customer}/in/nothing.png"):
        other.get("in/nothing.png")
    nowhere = store.in_bucket(missing)
    with pytest.raises(ObjectAccessError) as excinfo:
        nowhere.get("in/a.png")
    assert (excinfo.value.code, excinfo.value.uri) == ("NoSuchBucket", f"s3://{missing}/in/a.png")
    with pytest.raises(ObjectAccessError, match="NoSuchBucket"):
        list(nowhere.list("in/"))
    assert missing not in {b["Name"] for b in outside.list_buckets()["Buckets"]}, "another bucket is never created"


def test_an_allow_list_fences_other_buckets(s3_server: S3Server) -> None:
    store = s3_store(s3_server, f"own-{uuid.uuid4().hex[:12]}")
    fenced = S3Store(store.client, store.bucket, allowed_buckets=frozenset({"partner"}))
    assert fenced.in_bucket("partner").bucket == "partner"
    assert fenced.in_bucket(store.bucket) is fenced
    with pytest.raises(BucketUnavailable, match="LV_S3_ALLOWED_BUCKETS \\(partner\\)"):
        fenced.in_bucket("elsewhere")

"""What only the S3 backend does: create its bucket on first use, and keep objects where other S3 clients see them."""

import uuid

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

"""Calling openlv's extension endpoints below boto3: signed multipart uploads (see docs/api-extensions.md)."""

import httpx

from tests.helpers.live_server import LiveServer
from tests.helpers.signing import signed_headers

FilePart = tuple[str, bytes, str]
Part = tuple[str, str | FilePart]


def image_parts(
    part_id: str,
    data: bytes,
    label: str,
    *,
    filename: str | None = None,
    anomaly_class: str | None = None,
    mask: bytes | None = None,
) -> list[Part]:
    """The multipart parts that upload one image."""
    parts: list[Part] = [
        (f"image.{part_id}", (filename or f"{part_id}.png", data, "image/png")),
        (f"label.{part_id}", label),
    ]
    if anomaly_class is not None:
        parts.append((f"anomalyClass.{part_id}", anomaly_class))
    if mask is not None:
        parts.append((f"mask.{part_id}", (f"{part_id}_mask.png", mask, "image/png")))
    return parts


def upload_request(server: LiveServer, project: str, dataset_type: str, parts: list[Part]) -> httpx.Request:
    """An unsigned multipart request; text parts become form fields, tuples file parts, in the order given."""
    url = f"{server.url}/2020-11-20/projects/{project}/datasets/{dataset_type}/images"
    if not parts:  # httpx sends no multipart body without parts; this is the empty one
        return httpx.Request(
            "POST", url, content=b"--empty--\r\n", headers={"Content-Type": "multipart/form-data; boundary=empty"}
        )
    files = [(name, value if isinstance(value, tuple) else (None, value.encode(), None)) for name, value in parts]
    return httpx.Request("POST", url, files=files)


def upload(
    server: LiveServer, project: str, dataset_type: str, parts: list[Part], *, unsigned_payload: bool = False
) -> httpx.Response:
    """POST .../images signed like the SDK signs it: the body hashed, or `UNSIGNED-PAYLOAD`."""
    request = upload_request(server, project, dataset_type, parts)
    body = request.read()
    headers = signed_headers(
        "POST",
        str(request.url),
        body=body,
        headers={"Content-Type": request.headers["Content-Type"]},
        unsigned_payload=unsigned_payload,
        access_key_id=server.access_key_id,
        secret_access_key=server.secret_access_key,
        region=server.settings.region,
    )
    return httpx.post(str(request.url), content=body, headers=headers, timeout=60)

"""multipart/form-data bodies for the native upload endpoint (built here so the body can be signed as sent)."""

import mimetypes
import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class FilePart:
    filename: str
    content: bytes
    content_type: str | None = None


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def encode_multipart(parts: list[tuple[str, str | FilePart]]) -> tuple[bytes, str]:
    """The body and its Content-Type (with the boundary) for text fields and file parts, in order."""
    boundary = uuid.uuid4().hex
    chunks: list[bytes] = []
    for name, value in parts:
        disposition = f'form-data; name="{_quoted(name)}"'
        if isinstance(value, FilePart):
            content_type = value.content_type or mimetypes.guess_type(value.filename)[0] or "application/octet-stream"
            head = f'Content-Disposition: {disposition}; filename="{_quoted(value.filename)}"\r\n'
            head += f"Content-Type: {content_type}\r\n\r\n"
            payload = value.content
        else:
            head = f"Content-Disposition: {disposition}\r\n\r\n"
            payload = value.encode()
        chunks.append(f"--{boundary}\r\n{head}".encode() + payload + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"

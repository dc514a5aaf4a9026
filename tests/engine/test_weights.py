"""The ImageNet weights cache against a real HTTP server on loopback: download, verify, resume, offline import."""

import hashlib
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import torch

from service.engine.backbones import (
    IMAGENET_CHECKPOINTS,
    CheckpointFile,
    build_backbone,
    imagenet_weights_available,
    imagenet_weights_path,
    import_weights,
)
from service.engine.errors import WeightsUnavailableError
from service.settings import Settings


class WeightsServer:
    """Serves `files` by name with HTTP Range support; `cut_after` bytes ends a response early (a dropped link)."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.cut_after: int | None = None
        self.range_headers: list[str | None] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = server.files.get(self.path.lstrip("/"))
                if body is None:
                    self.send_error(404)
                    return
                requested = self.headers.get("Range")
                server.range_headers.append(requested)
                start = int(requested.removeprefix("bytes=").split("-")[0]) if requested else 0
                self.send_response(206 if requested else 200)
                if requested:
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                payload = body[start:]
                if server.cut_after is not None:
                    payload, server.cut_after = payload[: server.cut_after], None
                    self.close_connection = True
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def add_checkpoint(self, monkeypatch: pytest.MonkeyPatch, name: str, body: bytes) -> CheckpointFile:
        """Serve `body` under a torchvision-style name carrying its digest, and make it backbone `name`'s checkpoint."""
        checkpoint = CheckpointFile(f"{name}-{hashlib.sha256(body).hexdigest()[:8]}.pth")
        monkeypatch.setitem(IMAGENET_CHECKPOINTS, name, checkpoint)
        self.files[checkpoint.file_name] = body
        return checkpoint


@pytest.fixture
def server() -> Iterator[WeightsServer]:
    weights_server = WeightsServer()
    thread = threading.Thread(target=weights_server.httpd.serve_forever, daemon=True)
    thread.start()
    yield weights_server
    weights_server.httpd.shutdown()
    weights_server.httpd.server_close()


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for variable in ("LV_WEIGHTS_DIR", "LV_HOME", "LV_WEIGHTS_BASE_URL"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def random_bytes(size: int, seed: int = 0) -> bytes:
    return (
        torch.randint(0, 256, (size,), generator=torch.Generator().manual_seed(seed), dtype=torch.uint8)
        .numpy()
        .tobytes()
    )


def test_imagenet_weights_download_then_load_strictly(
    server: WeightsServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    source = build_backbone("resnet18", "random", seed=11)
    torch.save(source.state_dict(), tmp_path / "generated.pth")
    checkpoint = server.add_checkpoint(monkeypatch, "resnet18", (tmp_path / "generated.pth").read_bytes())
    cache = tmp_path / "cache"
    assert not imagenet_weights_available("resnet18", cache)

    model = build_backbone("resnet18", "imagenet", cache_dir=cache, base_url=server.url)

    assert imagenet_weights_available("resnet18", cache)
    assert sorted(p.name for p in cache.iterdir() if not p.name.endswith(".lock")) == [checkpoint.file_name]
    assert torch.equal(model.layer3[1].conv2.weight, source.layer3[1].conv2.weight)
    build_backbone("resnet18", "imagenet", cache_dir=cache, base_url=server.url)
    assert len(server.range_headers) == 1, "a cached checkpoint is not downloaded again"


def test_corrupted_download_is_refused_and_leaves_nothing(
    server: WeightsServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    checkpoint = server.add_checkpoint(monkeypatch, "resnet18", random_bytes(50_000))
    server.files[checkpoint.file_name] = random_bytes(50_000, seed=1)

    with pytest.raises(WeightsUnavailableError, match="corrupted"):
        imagenet_weights_path("resnet18", tmp_path, base_url=server.url)

    assert not any(p.suffix in (".pth", ".part") for p in tmp_path.iterdir())
    assert not imagenet_weights_available("resnet18", tmp_path)


def test_interrupted_download_resumes_with_a_range_request(
    server: WeightsServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    body = random_bytes(300_000)
    checkpoint = server.add_checkpoint(monkeypatch, "resnet18", body)
    server.cut_after = 120_000

    with pytest.raises(WeightsUnavailableError, match="could not be downloaded"):
        imagenet_weights_path("resnet18", tmp_path, base_url=server.url)
    assert (tmp_path / (checkpoint.file_name + ".part")).stat().st_size == 120_000
    assert not imagenet_weights_available("resnet18", tmp_path)

    path = imagenet_weights_path("resnet18", tmp_path, base_url=server.url)

    assert server.range_headers == [None, "bytes=120000-"]
    assert path.read_bytes() == body
    assert not (tmp_path / (checkpoint.file_name + ".part")).exists()


def test_offline_error_says_which_file_goes_where(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        closed_port = unused.getsockname()[1]
    cache, mirror = tmp_path / "lv" / "weights", f"http://127.0.0.1:{closed_port}/"

    with pytest.raises(WeightsUnavailableError) as raised:
        build_backbone("wide_resnet50_2", "imagenet", cache_dir=cache, base_url=mirror)

    message = str(raised.value)
    assert "wide_resnet50_2-95faca4d.pth" in message
    assert str(cache) in message
    assert "lv weights import PATH" in message


def test_import_verifies_and_copies_into_the_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    body = random_bytes(10_000)
    checkpoint = CheckpointFile(f"resnet18-{hashlib.sha256(body).hexdigest()[:8]}.pth")
    monkeypatch.setitem(IMAGENET_CHECKPOINTS, "resnet18", checkpoint)
    (tmp_path / "download.pth").write_bytes(body)
    (tmp_path / "other.pth").write_bytes(random_bytes(10_000, seed=2))
    cache = tmp_path / "cache"

    with pytest.raises(WeightsUnavailableError, match="corrupted"):
        import_weights(tmp_path / "other.pth", "resnet18", cache)
    assert not imagenet_weights_available("resnet18", cache)
    target = import_weights(tmp_path / "download.pth", "resnet18", cache)

    assert target == cache / checkpoint.file_name
    assert target.read_bytes() == body
    assert imagenet_weights_available("resnet18", cache)
    assert [p.name for p in target.parent.iterdir()] == [checkpoint.file_name]


def test_settings_name_the_weights_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    assert Settings().resolved_weights_dir == tmp_path / "lv-home" / "weights"
    monkeypatch.setenv("LV_HOME", str(tmp_path / "lv"))
    assert Settings().resolved_weights_dir == tmp_path / "lv" / "weights"
    monkeypatch.setenv("LV_WEIGHTS_DIR", str(tmp_path / "w"))
    assert Settings().resolved_weights_dir == tmp_path / "w"


def test_imagenet_weights_need_an_explicit_folder() -> None:
    with pytest.raises(WeightsUnavailableError, match="weights folder"):
        build_backbone("resnet18", "imagenet")


def test_official_checkpoint_names_carry_their_digest_prefix() -> None:
    assert IMAGENET_CHECKPOINTS["resnet18"].sha256_prefix == "f37072fd"
    assert IMAGENET_CHECKPOINTS["wide_resnet50_2"].sha256_prefix == "95faca4d"
    with pytest.raises(ValueError, match="sha256 prefix"):
        _ = CheckpointFile("resnet18.pth").sha256_prefix

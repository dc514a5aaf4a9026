"""A real openlv server on a loopback port, run by uvicorn in a background thread."""

import configparser
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn
from fastapi import FastAPI

from service.app import create_app
from service.context import AppContext
from service.settings import Settings


@dataclass
class LiveServer:
    url: str
    settings: Settings
    context: AppContext
    access_key_id: str
    secret_access_key: str
    app: FastAPI | None = None
    """The served app, for a server run in this process."""

    def boto3_client(self, **overrides: Any) -> Any:
        from sdk.boto import boto3_client

        options: dict[str, Any] = {
            "aws_access_key_id": self.access_key_id,
            "aws_secret_access_key": self.secret_access_key,
        }
        options.update(overrides)
        return boto3_client(self.url, region_name=self.settings.region, **options)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def run_live_server(settings: Settings) -> Iterator[LiveServer]:
    app = create_app(settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("openlv test server did not start")
        time.sleep(0.02)
    credentials = configparser.ConfigParser()
    credentials.read(settings.keys_file)
    profile = credentials["openlv"]
    try:
        yield LiveServer(
            url=f"http://127.0.0.1:{port}",
            app=app,
            settings=settings,
            context=app.state.context,
            access_key_id=profile["aws_access_key_id"],
            secret_access_key=profile["aws_secret_access_key"],
        )
    finally:
        server.should_exit = True
        thread.join(timeout=30)

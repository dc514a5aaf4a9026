"""The supervisor probes: unsigned, outside the API prefix, and readiness that follows the database."""

import httpx

from service.api.health import database_answers
from service.db.engine import build_engine
from tests.helpers.live_server import LiveServer, free_port


def test_probes_answer_without_a_signature(server: LiveServer) -> None:
    for path in ("/health", "/health/ready"):
        response = httpx.get(server.url + path)
        assert response.status_code == 200, response.text
        assert response.json() == {"status": "ok"}


def test_a_wrong_method_gets_the_one_error_shape(server: LiveServer) -> None:
    response = httpx.post(server.url + "/health")
    assert response.status_code == 400
    assert response.json()["__type"] == "ValidationException"


def test_readiness_fails_when_the_database_does_not_answer() -> None:
    dead = build_engine(f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none?connect_timeout=2")
    try:
        assert database_answers(dead) is False
    finally:
        dead.dispose()

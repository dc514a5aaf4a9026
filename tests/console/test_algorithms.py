"""The training form's algorithm choices: every registered model, with what it needs, and today's default."""

import httpx

from service.engine.registry import list_models
from tests.console.test_sessions import sign_in
from tests.helpers.live_server import LiveServer


def test_the_training_form_offers_every_registered_algorithm(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        sign_in(server, client)
        reply = client.get("/console/algorithms")
    assert reply.status_code == 200
    offered = {entry["Name"]: entry for entry in reply.json()["Algorithms"]}
    assert sorted(offered) == sorted(spec.name for spec in list_models())
    for spec in list_models():
        assert offered[spec.name]["NeedsPretrained"] is spec.needs_pretrained
        assert offered[spec.name]["Description"] == spec.description
    assert {"fastflow", "reverse_distillation"} <= set(offered)
    assert reply.json()["Default"] == "draem", "the test server holds no ImageNet weights"

"""BackboneWeights names a checkpoint in the weights cache, never a server path (finding 9)."""

from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.helpers.live_server import LiveServer
from tests.jobs.seed import OUTPUT


def refusal(lv: Any, weights: str) -> tuple[str, str]:
    with pytest.raises(ClientError) as raised:
        lv.create_model(
            ProjectName="no-such-project", OutputConfig=OUTPUT, Algorithm="patchcore", BackboneWeights=weights
        )
    error = raised.value.response["Error"]
    return error["Code"], error["Message"].replace(repr(weights), "<weights>")


def test_a_server_path_is_refused_the_same_whether_it_exists_or_not(lv: Any, tmp_path: Path) -> None:
    existing = tmp_path / "real.pth"
    existing.write_bytes(b"not a checkpoint")
    answers = {refusal(lv, path) for path in ("/etc/passwd", "/etc/nonexistent", str(existing), "../real.pth")}
    assert len(answers) == 1
    code, message = answers.pop()
    assert code == "ValidationException" and "weights cache" in message


def test_a_checkpoint_in_the_weights_cache_is_accepted(lv: Any, server: LiveServer) -> None:
    checkpoint = server.settings.resolved_weights_dir / "resnet18-custom.pth"
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    checkpoint.write_bytes(b"checkpoint")
    code, _ = refusal(lv, "resnet18-custom.pth")
    assert code == "ResourceNotFoundException"  # past the weights check, on to the (missing) project
    assert refusal(lv, "resnet18-absent.pth")[0] == "ValidationException"
    checkpoint.unlink()

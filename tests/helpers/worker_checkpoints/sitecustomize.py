"""Test seam for processes a test starts (training workers): trust checkpoints of the test's own making.

The official checkpoint names carry the first 8 hex digits of their SHA-256, which no generated file can match. A test
that puts this folder on `PYTHONPATH` and names its checkpoints in `OPENLV_TEST_CHECKPOINTS` (JSON, backbone -> file
name) gets the same table in every child process that it patched into its own. Without that variable it does nothing.
"""

import json
import os

if table := os.environ.get("OPENLV_TEST_CHECKPOINTS"):
    from service.engine.backbones import weights

    for backbone, file_name in json.loads(table).items():
        weights.IMAGENET_CHECKPOINTS[backbone] = weights.CheckpointFile(file_name)

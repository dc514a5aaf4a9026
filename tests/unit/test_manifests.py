"""Ground Truth manifest lines parsed without storage."""

import json

import pytest

from service.domain.manifests import LineRejected, parse_line
from tests.helpers.manifests import manifest_line

URI = "s3://openlv/a.png"


def test_labels_masks_and_classes_are_read():
    unlabeled = parse_line(1, json.dumps(manifest_line(URI)))
    assert (unlabeled.label, unlabeled.mask_ref) == (None, None)
    normal = parse_line(2, json.dumps(manifest_line(URI, "normal")))
    assert (normal.label, normal.human_annotated) == ("normal", True)
    masked = parse_line(3, json.dumps(manifest_line(URI, "anomaly", mask_ref="s3://openlv/m.png")))
    assert (masked.label, masked.mask_ref, masked.anomaly_class) == ("anomaly", "s3://openlv/m.png", "scratch")


def _with(**changes) -> str:
    line = manifest_line(URI, "anomaly")
    line.update(changes)
    return json.dumps(line)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{oops", "invalid JSON"),
        ("[1, 2]", "must be a JSON object"),
        (json.dumps({"anomaly-label": 0}), "'source-ref' must be"),
        (_with(**{"anomaly-label": True}), "must be 0 (normal) or 1 (anomaly)"),
        (_with(**{"anomaly-label": 0}), "means 'normal' but 'class-name' is 'anomaly'"),
        (_with(**{"anomaly-label-metadata": "yes"}), "must be an object"),
        (json.dumps({"source-ref": URI, "anomaly-label-metadata": {}}), "without 'anomaly-label'"),
        (_with(**{"anomaly-mask-ref": 7}), "must be an s3:// URI"),
        (
            _with(**{"anomaly-mask-ref": URI, "anomaly-mask-ref-metadata": {"internal-color-map": {"0": {}}}}),
            "needs a 'class-name'",
        ),
        ("{" + " " * 9000 + "}", "limit is 8192"),
    ],
    ids=[
        "syntax",
        "not-object",
        "no-source-ref",
        "bool-label",
        "label-class-mismatch",
        "metadata-type",
        "metadata-alone",
        "mask-ref-type",
        "colour-map",
        "too-long",
    ],
)
def test_bad_lines_say_why(text, reason):
    with pytest.raises(LineRejected) as excinfo:
        parse_line(1, text)
    assert reason in excinfo.value.reason

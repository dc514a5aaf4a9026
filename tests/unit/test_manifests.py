"""Ground Truth manifest lines parsed without storage."""

import json

import pytest

from service.domain.manifests import LineRejected, mask_colors, parse_line
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


@pytest.mark.parametrize(("value", "label"), [("0", "normal"), ("1", "anomaly"), (0, "normal"), (1, "anomaly")])
def test_labels_may_be_numbers_or_strings(value, label):
    line = manifest_line(URI, label)
    line["anomaly-label"] = value
    assert parse_line(1, json.dumps(line)).label == label


def _renamed(line: dict, old: str, new: str) -> dict:
    return {(key.replace(old, new, 1) if key.startswith(old) else key): value for key, value in line.items()}


def test_the_label_and_mask_are_found_through_their_metadata_type():
    line = _renamed(manifest_line(URI, "anomaly", mask_ref="s3://openlv/m.png"), "anomaly-label", "auto-label")
    line = _renamed(line, "anomaly-mask-ref", "auto-mask-ref")
    parsed = parse_line(1, json.dumps(line))
    assert (parsed.label, parsed.mask_ref, parsed.anomaly_class) == ("anomaly", "s3://openlv/m.png", "scratch")
    assert "auto-label" in parsed.line and "anomaly-label" not in parsed.line


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ({"source-ref": URI, "auto-label": 1}, "no label found among 'auto-label'"),
        (
            {"source-ref": URI, "auto-label": 1, "auto-label-metadata": {"class-name": "anomaly"}},
            "groundtruth/image-classification",
        ),
        (
            {**manifest_line(URI, "anomaly"), **_renamed(manifest_line(URI, "anomaly"), "anomaly-label", "job-2")},
            "2 label attributes ('anomaly-label', 'job-2')",
        ),
        ({**manifest_line(URI, "anomaly"), "anomaly-label": "yes"}, "as a number or a string; got 'yes'"),
    ],
    ids=["no-metadata", "untyped-metadata", "two-labels", "word-label"],
)
def test_a_line_whose_label_cannot_be_found_is_refused(line, reason):
    with pytest.raises(LineRejected) as excinfo:
        parse_line(1, json.dumps(line))
    assert reason in excinfo.value.reason


def test_a_stored_lines_mask_colour_map_is_read_in_the_maps_order():
    line = manifest_line(URI, "anomaly", mask_ref="s3://openlv/m.png")
    assert mask_colors(line) == (("#000000", "BACKGROUND"), ("#ffffff", "scratch"))
    renamed = {
        "source-ref": URI,
        "job-9-ref": "s3://openlv/m.png",
        "job-9-ref-metadata": {
            "type": "groundtruth/semantic-segmentation",
            "internal-color-map": {str(i): {"class-name": f"c{i}", "hex-color": f"#0000{i:02x}"} for i in (10, 2, 1)},
        },
    }
    assert [name for _, name in mask_colors(renamed)] == ["c1", "c2", "c10"]
    assert mask_colors(manifest_line(URI, "anomaly")) == ()

"""docs/cli.md is generated from the commands' help and must match the code."""

from cli.docs import DOCS_PATH, main, render


def test_committed_reference_is_up_to_date():
    assert DOCS_PATH.read_text() == render(), "docs/cli.md is stale: run `python -m cli.docs`"
    assert main(["--check"]) == 0


def test_reference_covers_every_command():
    text = render()
    for path in (
        "lv projects create",
        "lv datasets upload",
        "lv models threshold",
        "lv detect-anomalies",
        "lv demo",
        "lv keys create",
    ):
        assert f"## {path}\n" in text
    assert "-h, --help" in text

"""Output for people (tables, progress bars on stderr) and for scripts (`--json`)."""

import json
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Self

import click
from pydantic import BaseModel

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts instead of text.")


def to_jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(value, list | tuple):
        return [to_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {key: to_jsonable(item) for key, item in value.items()}
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def print_json(value: Any) -> None:
    click.echo(json.dumps(to_jsonable(value), indent=2, ensure_ascii=False))


def _cell(value: Any) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max([len(header), *(len(row[index]) for row in cells)]) for index, header in enumerate(headers)]
    for row in [list(headers), *cells]:
        click.echo("  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip())


def print_fields(fields: Sequence[tuple[str, Any]]) -> None:
    width = max(len(name) for name, _ in fields)
    for name, value in fields:
        click.echo(f"{name.ljust(width)}  {_cell(value)}")


class ProgressBar:
    """A click progress bar on stderr, opened on the first report; a report of 0 done starts a fresh bar (the next
    dataset of an import). Disabled (for --json) it does nothing. Use as `with ProgressBar(...) as bar: bar(done, total)`.
    """

    def __init__(self, label: str, *, enabled: bool = True) -> None:
        self.label = label
        self.enabled = enabled
        self._bar: Any = None

    def __call__(self, done: int, total: int, *, label: str | None = None) -> None:
        if not self.enabled:
            return
        if self._bar is None or (done == 0 and self._bar.pos):
            self.close()
            self._bar = click.progressbar(length=total, label=self.label, file=sys.stderr, show_pos=True)
            self._bar.__enter__()
        if label is not None:
            self._bar.label = label
        self._bar.update(max(0, done - self._bar.pos))

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def status(message: str, *, enabled: bool = True) -> None:
    """A line for people on stderr, so stdout stays clean for --json and pipes."""
    if enabled:
        click.echo(message, err=True)

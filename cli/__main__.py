"""`python -m cli` runs `lv`."""

from cli.main import cli

cli(prog_name="lv")

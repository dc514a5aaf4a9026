"""`lv`: the openlv command line."""

import click

from cli.commands.server import server


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="openlv", prog_name="lv")
def cli() -> None:
    """openlv: self-hosted visual anomaly detection with the AWS Lookout for Vision API."""


cli.add_command(server)

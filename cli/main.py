"""`lv`: the openlv command line."""

import click

import sdk
from cli.commands.configure import configure
from cli.commands.datasets import datasets
from cli.commands.demo import demo
from cli.commands.detect import detect_anomalies
from cli.commands.keys import keys
from cli.commands.models import models
from cli.commands.projects import projects
from cli.commands.review import review
from cli.commands.server import server
from cli.commands.weights import weights
from cli.session import Session

USER_ERRORS = (sdk.LookoutVisionError, FileNotFoundError, NotADirectoryError, ValueError)


class LvGroup(click.Group):
    """Turns SDK and input errors into one-line ClickExceptions (exit 1, no traceback)."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except USER_ERRORS as error:
            raise click.ClickException(str(error)) from error


@click.group(cls=LvGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="openlv", prog_name="lv")
@click.option("--profile", envvar="LV_PROFILE", help="Profile from `lv configure` (default: 'default' when it exists).")
@click.option("--endpoint-url", envvar="LV_ENDPOINT_URL", help="Service URL (default: the profile's, else :8642).")
@click.pass_context
def cli(ctx: click.Context, profile: str | None, endpoint_url: str | None) -> None:
    """openlv: self-hosted visual anomaly detection with the AWS Lookout for Vision API.

    Credentials come from the profile, else the usual AWS sources, else the lv-home/credentials file that
    `lv server` writes, so next to `make serve` no set-up is needed.
    """
    session = ctx.ensure_object(Session)
    session.profile, session.endpoint_url = profile, endpoint_url
    ctx.call_on_close(session.close)


for command in (server, configure, keys, projects, datasets, models, detect_anomalies, review, demo, weights):
    cli.add_command(command)

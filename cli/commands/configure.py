"""`lv configure`: save an endpoint and keys as a profile in the user config dir (secrets mode 0600)."""

import click

from cli.config import DEFAULT_PROFILE, Profile, config_dir, load_profile, save_profile
from cli.output import json_option, print_json


@click.command()
@click.option("--profile", "name", default=DEFAULT_PROFILE, show_default=True, help="Profile to write.")
@click.option("--endpoint-url", help="Service URL, e.g. http://127.0.0.1:8642.")
@click.option("--region", help="Region used in SigV4 signatures.")
@click.option("--access-key-id", help="Access key id.")
@click.option("--secret-access-key", help="Secret access key (prompted, hidden, when --access-key-id is given).")
@click.option("--show", is_flag=True, help="Print the profile (secret masked) instead of writing it.")
@json_option
def configure(
    name: str,
    endpoint_url: str | None,
    region: str | None,
    access_key_id: str | None,
    secret_access_key: str | None,
    show: bool,
    as_json: bool,
) -> None:
    """Write or show a profile. Options left out keep the profile's current values.

    Files: $LV_CONFIG_DIR (else the user config dir)/config and /credentials, INI like the AWS CLI.
    """
    current = load_profile(name) or Profile(name)
    if show:
        shown = {
            "profile": name,
            "config_dir": str(config_dir()),
            "endpoint_url": current.endpoint_url,
            "region": current.region,
            "access_key_id": current.access_key_id,
            "secret_access_key": "****" if current.secret_access_key else None,
        }
        if as_json:
            print_json(shown)
        else:
            for key, value in shown.items():
                click.echo(f"{key}: {value if value is not None else '-'}")
        return
    if access_key_id and not secret_access_key:
        secret_access_key = click.prompt("Secret access key", hide_input=True)
    profile = Profile(
        name=name,
        endpoint_url=endpoint_url or current.endpoint_url,
        region=region or current.region,
        access_key_id=access_key_id or current.access_key_id,
        secret_access_key=secret_access_key or current.secret_access_key,
    )
    directory = save_profile(profile)
    if as_json:
        print_json({"profile": name, "config_dir": str(directory)})
    else:
        click.echo(f"profile {name!r} written to {directory}")

"""`lv keys`: create, list and delete access keys and their roles (admin keys only)."""

from typing import get_args

import click

import sdk
from cli.output import json_option, print_json, print_table
from cli.session import current_client


@click.group()
def keys() -> None:
    """Create, list and delete access keys: admin (everything), reviewer (review queue, read-only), inference
    (DetectAnomalies, read-only)."""


@keys.command()
@click.option("--role", required=True, type=click.Choice(get_args(sdk.AccessKeyRole)), help="What the key may call.")
@click.option("--description", default="", help="What the key is for (up to 255 characters).")
@json_option
def create(role: sdk.AccessKeyRole, description: str, as_json: bool) -> None:
    """Create a key; its secret is shown this once only."""
    key = sdk.AccessKey.create(role=role, description=description, client=current_client())
    if as_json:
        print_json(key)
        return
    click.echo(f"created {key.role} key {key.access_key_id}")
    click.echo(f"secret access key (shown once): {key.secret_access_key}")
    click.echo(f"use it with: lv configure --profile NAME --access-key-id {key.access_key_id}")


@keys.command(name="list")
@json_option
def list_keys(as_json: bool) -> None:
    """List every key (never a secret)."""
    found = list(sdk.AccessKey.list(client=current_client()))
    if as_json:
        print_json(found)
        return
    print_table(
        ["ACCESS KEY ID", "ROLE", "CREATED", "DESCRIPTION"],
        [[key.access_key_id, key.role, key.creation_timestamp, key.description] for key in found],
    )


@keys.command()
@click.argument("access_key_id")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@json_option
def delete(access_key_id: str, yes: bool, as_json: bool) -> None:
    """Delete key ACCESS_KEY_ID; it is refused from the next request on."""
    if not yes:
        click.confirm(f"Delete access key {access_key_id}? Requests signed with it will be refused.", abort=True)
    sdk.AccessKey.delete_id(access_key_id, client=current_client())
    if as_json:
        print_json({"AccessKeyId": access_key_id})
    else:
        click.echo(f"deleted access key {access_key_id}")

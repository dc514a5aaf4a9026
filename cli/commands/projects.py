"""`lv projects`: create, list, describe, delete."""

import click

import sdk
from cli.output import json_option, print_fields, print_json, print_table
from cli.session import current_client


@click.group()
def projects() -> None:
    """Create, list, describe and delete projects."""


@projects.command()
@click.argument("name")
@json_option
def create(name: str, as_json: bool) -> None:
    """Create project NAME."""
    project = sdk.Project.create(name, client=current_client())
    if as_json:
        print_json(project)
    else:
        click.echo(f"created project {project.name} ({project.arn})")


@projects.command(name="list")
@json_option
def list_projects(as_json: bool) -> None:
    """List every project."""
    found = list(sdk.Project.list(client=current_client()))
    if as_json:
        print_json(found)
        return
    print_table(["NAME", "CREATED", "ARN"], [[p.name, p.creation_timestamp, p.arn] for p in found])


@projects.command()
@click.argument("name")
@json_option
def describe(name: str, as_json: bool) -> None:
    """Show project NAME, its datasets and its models."""
    project = sdk.Project.get(name, client=current_client())
    models = list(project.models())
    if as_json:
        print_json({"Project": project, "Models": models})
        return
    print_fields([("name", project.name), ("arn", project.arn), ("created", project.creation_timestamp)])
    for summary in project.dataset_summaries:
        stats = project.datasets.describe(summary.dataset_type).image_stats
        click.echo(
            f"dataset {summary.dataset_type}: {summary.status}, {stats.total} images "
            f"({stats.normal} normal, {stats.anomaly} anomaly)"
        )
    for model in models:
        click.echo(f"model {model.version}: {model.status} ({model.algorithm or '-'})")


@projects.command()
@click.argument("name")
@click.option("--force", is_flag=True, help="Stop and delete the project's models and datasets first.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@json_option
def delete(name: str, force: bool, yes: bool, as_json: bool) -> None:
    """Delete project NAME (with --force, everything in it)."""
    project = sdk.Project.get(name, client=current_client())
    if force and not yes:
        click.confirm(f"Delete project {name} with all its models and datasets?", abort=True)
    project.delete(force=force)
    if as_json:
        print_json({"ProjectArn": project.arn})
    else:
        click.echo(f"deleted project {name}")

"""`lv datasets`: create, upload, import, describe, entries."""

from pathlib import Path

import click

import sdk
from cli.output import ProgressBar, json_option, print_fields, print_json, print_table
from cli.session import current_client

project_option = click.option(
    "--project", "-p", envvar="LV_PROJECT", required=True, help="Project name [env LV_PROJECT]."
)
type_option = click.option(
    "--type", "dataset_type", type=click.Choice(["train", "test"]), default="train", show_default=True, help="Dataset."
)


def _collection(project: str) -> sdk.DatasetCollection:
    return sdk.DatasetCollection(current_client(), project)


@click.group()
def datasets() -> None:
    """Create datasets, upload or import images, list entries."""


@datasets.command()
@project_option
@type_option
@click.option("--manifest", help="Fill it from a Ground Truth manifest at s3://bucket/key.")
@json_option
def create(project: str, dataset_type: str, manifest: str | None, as_json: bool) -> None:
    """Create the project's train or test dataset (empty, or from a manifest: waits until its lines are checked)."""
    dataset = _collection(project).create(dataset_type, manifest=manifest)
    if manifest is not None:
        dataset = dataset.wait()
    if as_json:
        print_json(dataset)
    else:
        click.echo(f"created {dataset_type} dataset of {project}: {dataset.status}")


@datasets.command()
@project_option
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--label", type=click.Choice(["normal", "anomaly", "unlabeled"]), default="normal", show_default=True, help="Label."
)
@click.option("--anomaly-class", help="Anomaly class of the images (with --label anomaly).")
@type_option
@click.option("--batch-size", type=click.IntRange(1, 100), default=32, show_default=True, help="Images per request.")
@json_option
def upload(
    project: str,
    paths: tuple[Path, ...],
    label: str,
    anomaly_class: str | None,
    dataset_type: str,
    batch_size: int,
    as_json: bool,
) -> None:
    """Upload image files, or every image under folders, with one label. Creates the dataset when missing."""
    collection = _collection(project)
    with ProgressBar("uploading", enabled=not as_json) as bar:
        result = collection.upload(
            list(paths),
            label=label,
            anomaly_class=anomaly_class,
            dataset_type=dataset_type,
            batch_size=batch_size,
            progress=bar,
        )
    _print_upload(result, as_json)


@datasets.command(name="import")
@project_option
@click.argument("source")
@click.option(
    "--layout",
    type=click.Choice(["mvtec", "folders"]),
    default="mvtec",
    show_default=True,
    help="mvtec: train/good, test/<defect>, ground_truth/. folders: normal/, anomaly/[<class>/], masks/.",
)
@click.option(
    "--type", "dataset_type", type=click.Choice(["train", "test"]), help="Only this dataset (mvtec: default both)."
)
@json_option
def import_(project: str, source: str, layout: str, dataset_type: str | None, as_json: bool) -> None:
    """Import a folder tree: a local path is uploaded, an s3:// URI in the service's storage is imported server-side."""
    collection = _collection(project)
    with ProgressBar("uploading", enabled=not as_json) as bar:
        if layout == "mvtec":
            kinds = [dataset_type] if dataset_type else ["train", "test"]
            results = collection.import_mvtec(source, dataset_types=kinds, progress=bar)
        else:
            results = {
                dataset_type or "train": collection.import_folders(
                    source, dataset_type=dataset_type or "train", progress=bar
                )
            }
    if as_json:
        print_json(results)
        return
    for kind, result in results.items():
        stats = result.image_stats
        click.echo(f"{kind}: {stats.total} images ({stats.normal} normal, {stats.anomaly} anomaly)")


def _print_upload(result: sdk.UploadResult, as_json: bool) -> None:
    if as_json:
        print_json(result)
        return
    stats = result.image_stats
    click.echo(
        f"uploaded {len(result.images)} images ({result.duplicates} already there) to {result.dataset_type}: "
        f"{stats.total} images, {stats.normal} normal, {stats.anomaly} anomaly"
    )


@datasets.command()
@project_option
@type_option
@json_option
def describe(project: str, dataset_type: str, as_json: bool) -> None:
    """Show a dataset's status and image counts."""
    dataset = _collection(project).describe(dataset_type)
    if as_json:
        print_json(dataset)
        return
    stats = dataset.image_stats
    print_fields(
        [
            ("dataset", f"{project}/{dataset.dataset_type}"),
            ("status", dataset.status),
            ("message", dataset.status_message),
            ("images", stats.total),
            ("labeled", stats.labeled),
            ("normal", stats.normal),
            ("anomaly", stats.anomaly),
            ("updated", dataset.last_updated_timestamp),
        ]
    )


@datasets.command()
@project_option
@type_option
@click.option("--labeled/--unlabeled", default=None, help="Only labeled or only unlabeled entries.")
@click.option("--anomaly-class", type=click.Choice(["normal", "anomaly"]), help="Only entries with this label.")
@click.option("--contains", help="Only entries whose source-ref contains this text.")
@click.option("--limit", type=click.IntRange(min=1), help="Stop after this many entries.")
@json_option
def entries(
    project: str,
    dataset_type: str,
    labeled: bool | None,
    anomaly_class: str | None,
    contains: str | None,
    limit: int | None,
    as_json: bool,
) -> None:
    """List a dataset's entries (JSON: the Ground Truth manifest lines)."""
    found = []
    for entry in _collection(project).entries(
        dataset_type, labeled=labeled, anomaly_class=anomaly_class, source_ref_contains=contains
    ):
        found.append(entry)
        if limit is not None and len(found) >= limit:
            break
    if as_json:
        print_json([entry.line for entry in found])
        return
    print_table(
        ["SOURCE", "LABEL", "CLASS", "MASK"],
        [[e.source_ref, e.label or "unlabeled", e.anomaly_class, "yes" if e.mask_ref else ""] for e in found],
    )

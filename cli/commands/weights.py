"""`lv weights`: the local cache of ImageNet backbone checkpoints, for machines without internet access.

Unlike every other command this one manages files on this machine rather than calling the API, so it imports the
engine's cache module and the service's `Settings` (lazily, on use): the folder is `Settings.resolved_weights_dir`,
the one the service and its training workers read. Run it where the service runs, with the same `LV_HOME` /
`LV_WEIGHTS_DIR` (next to `make serve`, none: both default to `lv-home/weights`).
"""

from pathlib import Path

import click

from cli.output import print_json, print_table


def _cache_dir(option: Path | None) -> Path:
    from service.settings import Settings

    return option if option is not None else Settings().resolved_weights_dir


def _backbone_of(path: Path, known: list[str]) -> str:
    matches = [name for name in known if path.name.startswith(f"{name}-")]
    if len(matches) != 1:
        raise click.ClickException(f"cannot tell the backbone from {path.name}; pass --backbone ({', '.join(known)})")
    return matches[0]


@click.group()
def weights() -> None:
    """Import and list ImageNet backbone checkpoints in the service's weights cache."""


@weights.command(name="import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--backbone", help="resnet18 or wide_resnet50_2 (default: read from the torchvision file name).")
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Cache folder (default: LV_WEIGHTS_DIR, else LV_HOME/weights).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def import_(path: Path, backbone: str | None, cache_dir: Path | None, as_json: bool) -> None:
    """Verify a checkpoint file (SHA-256 prefix of its official name) and copy it into the cache."""
    from service.engine.backbones import weights as cache
    from service.engine.errors import WeightsUnavailableError

    name = backbone or _backbone_of(path, sorted(cache.IMAGENET_CHECKPOINTS))
    try:
        target = cache.import_weights(path, name, _cache_dir(cache_dir))
    except WeightsUnavailableError as error:
        raise click.ClickException(str(error)) from error
    if as_json:
        print_json({"backbone": name, "path": str(target)})
    else:
        click.echo(f"imported {name} weights to {target}")


@weights.command(name="list")
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Cache folder (default: LV_WEIGHTS_DIR, else LV_HOME/weights).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_weights(cache_dir: Path | None, as_json: bool) -> None:
    """Which ImageNet checkpoints are cached."""
    from service.engine.backbones import weights as cache

    directory = _cache_dir(cache_dir)
    rows = [
        {"backbone": name, "file": checkpoint.file_name, "cached": (directory / checkpoint.file_name).is_file()}
        for name, checkpoint in sorted(cache.IMAGENET_CHECKPOINTS.items())
    ]
    if as_json:
        print_json({"cache_dir": str(directory), "checkpoints": rows})
        return
    click.echo(f"cache: {directory}")
    print_table(
        ["BACKBONE", "FILE", "CACHED"], [[r["backbone"], r["file"], "yes" if r["cached"] else "no"] for r in rows]
    )

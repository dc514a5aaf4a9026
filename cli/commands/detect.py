"""`lv detect-anomalies`: ask a hosted model about images, concurrently, one line per image and a summary.

Exit status: 0 every image is normal, 1 an error (a usage error is 2, as for every command), 3 at least one image is
anomalous and none failed.
"""

import asyncio
from pathlib import Path

import click

import sdk
from cli.output import print_json
from cli.session import current_client
from sdk.local_images import plain_images

EXIT_ANOMALOUS = 3


def _images(paths: tuple[Path, ...]) -> list[Path]:
    return [image.path for image in plain_images(paths, label="unlabeled")]


def _resolve_model(client: sdk.Client, project: str, version: str | None) -> sdk.Model:
    if version is not None:
        return sdk.Model.get(project, version, client=client)
    return sdk.Project.get(project, client=client).hosted_model()


async def _detect_all(
    client: sdk.Client, model: sdk.Model, images: list[Path], concurrency: int
) -> list[sdk.DetectionResult | BaseException]:
    config = client.config
    credentials = config.credentials
    async with sdk.AsyncClient(
        config.endpoint_url,
        region=config.region,
        access_key_id=credentials.access_key_id if credentials else None,
        secret_access_key=credentials.secret_access_key if credentials else None,
        timeout=config.timeout,
        max_retries=config.max_retries,
    ) as async_client:
        target = sdk.AsyncModel(async_client, model.project_name, model.version)
        return await target.detect_many(images, concurrency=concurrency)


def _save_mask(result: sdk.DetectionResult, image: Path, folder: Path) -> None:
    if result.mask_png is not None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{image.stem}_mask.png").write_bytes(result.mask_png)


@click.command(name="detect-anomalies")
@click.argument("images", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--project", "-p", envvar="LV_PROJECT", required=True, help="Project name [env LV_PROJECT].")
@click.option("--model-version", help="Model version (default: the project's only hosted model).")
@click.option("--save-mask", type=click.Path(file_okay=False, path_type=Path), help="Write <name>_mask.png files here.")
@click.option("--concurrency", type=click.IntRange(1, 64), default=8, show_default=True, help="Requests in flight.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document (results and summary).")
def detect_anomalies(
    images: tuple[Path, ...],
    project: str,
    model_version: str | None,
    save_mask: Path | None,
    concurrency: int,
    as_json: bool,
) -> None:
    """Detect anomalies in IMAGES (PNG/JPEG files or folders of them) with a hosted model.

    Prints one line per image (verdict, confidence, anomalous area) and a summary. Exit status: 0 all normal,
    1 an error (any image failed, or the request was refused), 2 a usage error, 3 some image is anomalous.
    """
    client = current_client()
    model = _resolve_model(client, project, model_version)
    paths = _images(images)
    if not paths:
        raise click.ClickException("no PNG or JPEG images found")
    results = asyncio.run(_detect_all(client, model, paths, concurrency))
    anomalous = failed = 0
    records = []
    width = max(len(str(path)) for path in paths)
    for path, result in zip(paths, results, strict=True):
        if isinstance(result, BaseException):
            failed += 1
            records.append({"source": str(path), "error": str(result)})
            if not as_json:
                click.echo(f"{path!s:<{width}}  error      {result}")
            continue
        anomalous += result.is_anomalous
        if save_mask is not None:
            _save_mask(result, path, save_mask)
        records.append(result.to_dict())
        if not as_json:
            click.echo(f"{path!s:<{width}}  {result.line()}")
    summary = {
        "images": len(paths),
        "normal": len(paths) - anomalous - failed,
        "anomalous": anomalous,
        "failed": failed,
        "model": f"{model.project_name}/{model.version}",
    }
    if as_json:
        print_json({"results": records, "summary": summary})
    else:
        click.echo(
            f"{summary['images']} image{'s' if len(paths) != 1 else ''}: {summary['normal']} normal, {anomalous} anomalous, {failed} failed "
            f"(model {summary['model']})"
        )
    if failed or anomalous:
        click.get_current_context().exit(1 if failed else EXIT_ANOMALOUS)

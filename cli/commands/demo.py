"""`lv demo`: synthetic images uploaded, a model trained, hosted and queried, end to end in a few minutes."""

import tempfile
from pathlib import Path

import click

import sdk
from cli.commands.models import wait_trained
from cli.demo_data import make_demo_images
from cli.output import ProgressBar, print_json, status
from cli.session import current_client


@click.command()
@click.option("--project", "-p", default="lv-demo", show_default=True, help="Project to create.")
@click.option("--replace", is_flag=True, help="Delete an existing project of that name first.")
@click.option(
    "--algorithm", type=click.Choice(sdk.ALGORITHMS), default="padim", show_default=True, help="Algorithm to train."
)
@click.option(
    "--weights",
    default="random",
    show_default=True,
    help="Backbone weights; imagenet trains a better model once cached (`lv weights import`).",
)
@click.option("--image-size", type=click.IntRange(64, 1024), default=64, show_default=True, help="Input size.")
@click.option("--images", "n_train", type=click.IntRange(8, 500), default=24, show_default=True, help="Train images.")
@click.option("--keep-hosted/--stop", default=True, show_default=True, help="Leave the model hosted at the end.")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), help="Keep the images here.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
def demo(
    project: str,
    replace: bool,
    algorithm: sdk.Algorithm,
    weights: str,
    image_size: int,
    n_train: int,
    keep_hosted: bool,
    workdir: Path | None,
    as_json: bool,
) -> None:
    """Run the whole flow on synthetic images: create a project, upload, train, host, detect."""
    client = current_client()

    def say(message: str) -> None:
        status(message, enabled=not as_json)

    if replace:
        try:
            sdk.Project.get(project, client=client).delete(force=True)
            say(f"deleted the existing project {project}")
        except sdk.NotFoundError:
            pass
    with tempfile.TemporaryDirectory(prefix="lv-demo-") as scratch:
        root = workdir or Path(scratch)
        images = make_demo_images(root, n_train=n_train)
        say(f"images drawn under {root}")
        created = sdk.Project.create(project, client=client)
        with ProgressBar("uploading", enabled=not as_json) as bar:
            created.datasets.import_folders(images.train, dataset_type="train", progress=bar)
            created.datasets.import_folders(images.test, dataset_type="test", progress=bar)
        model = created.train(algorithm=algorithm, weights=weights, image_size=image_size, description="lv demo")
        say(f"training model {model.version} ({algorithm})")
        model = wait_trained(model, timeout=3600, as_json=as_json)
        performance = model.performance
        say(
            f"trained: F1 {performance.f1_score:.3f}" if performance and performance.f1_score is not None else "trained"
        )
        say("starting hosting")
        model.start(min_units=1)
        results = [model.detect(path) for path in images.queries]
        if not keep_hosted:
            model.stop()
    if as_json:
        print_json({"project": project, "model": model.refresh(), "results": [result.to_dict() for result in results]})
        return
    width = max(len(path.name) for path in images.queries)
    for path, result in zip(images.queries, results, strict=True):
        click.echo(f"{path.name:<{width}}  {result.line()}")
    if keep_hosted:
        click.echo(f"model {model.version} of {project} is hosted: lv detect-anomalies -p {project} IMAGE...")
        click.echo(f"stop it with: lv models stop -p {project} {model.version}")

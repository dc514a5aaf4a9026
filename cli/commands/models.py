"""`lv models`: train, list, describe, delete, start, stop, threshold, and `lv models shadow` (`cli.commands.shadow`)."""

import click

import sdk
from cli.commands.shadow import shadow
from cli.output import ProgressBar, json_option, print_fields, print_json, print_table, status
from cli.session import current_client
from sdk.resources.evaluation import ModelPerformance

project_option = click.option(
    "--project", "-p", envvar="LV_PROJECT", required=True, help="Project name [env LV_PROJECT]."
)
version_argument = click.argument("version")


def _model(project: str, version: str) -> sdk.Model:
    return sdk.Model.get(project, version, client=current_client())


def training_bar(enabled: bool) -> ProgressBar:
    return ProgressBar("training", enabled=enabled)


def wait_trained(model: sdk.Model, *, timeout: float, as_json: bool) -> sdk.Model:
    """Wait with a percent bar labelled with the training phase."""
    with training_bar(not as_json) as bar:
        return model.wait(
            timeout=timeout,
            progress=lambda job: bar(int(job.percent or 0), 100, label=f"training: {job.phase or job.state}"),
        )


def _parse_hyperparameters(pairs: tuple[str, ...]) -> dict[str, str]:
    parsed = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--hyperparameter")
        parsed[key] = value
    return parsed


@click.group()
def models() -> None:
    """Train, host and tune model versions."""


models.add_command(shadow)


@models.command()
@project_option
@click.option(
    "--algorithm",
    type=click.Choice(sdk.ALGORITHMS),
    help="Algorithm to train (default: the server's choice: patchcore with ImageNet weights, else draem).",
)
@click.option("--hyperparameter", "-H", "hyperparameters", multiple=True, help="KEY=VALUE, repeatable.")
@click.option(
    "--weights",
    help="Backbone weights: imagenet, openlv (shipped, offline) or random (default: imagenet if cached, else openlv).",
)
@click.option("--image-size", type=click.IntRange(64, 1024), help="Input size in pixels.")
@click.option("--tile-size", help="Tile side in pixels of the original images, or auto (default: no tiling).")
@click.option("--runtime", type=click.Choice(sdk.RUNTIMES), help="Runtime to host it with (default: the server's).")
@click.option("--description", help="A description of the model version.")
@click.option("--wait/--no-wait", default=True, show_default=True, help="Wait until trained, with a progress bar.")
@click.option("--timeout", type=float, default=3600, show_default=True, help="Seconds to wait.")
@json_option
def train(
    project: str,
    algorithm: sdk.Algorithm | None,
    hyperparameters: tuple[str, ...],
    weights: str | None,
    image_size: int | None,
    tile_size: str | None,
    runtime: sdk.Runtime | None,
    description: str | None,
    wait: bool,
    timeout: float,
    as_json: bool,
) -> None:
    """Train a new model version on the project's datasets."""
    model = sdk.Project.get(project, client=current_client()).train(
        algorithm=algorithm,
        hyperparameters=_parse_hyperparameters(hyperparameters),
        weights=weights,
        image_size=image_size,
        tile_size=tile_size,
        runtime=runtime,
        description=description,
    )
    status(
        f"training model {model.version} of {project} ({model.algorithm or 'default algorithm'})", enabled=not as_json
    )
    if wait:
        model = wait_trained(model, timeout=timeout, as_json=as_json)
    _show(model, as_json)


@models.command(name="list")
@project_option
@json_option
def list_models(project: str, as_json: bool) -> None:
    """List the project's model versions, newest first."""
    found = list(sdk.Project.get(project, client=current_client()).models())
    if as_json:
        print_json(found)
        return
    rows = [
        [m.version, m.status, m.algorithm, m.performance and m.performance.f1_score, m.creation_timestamp]
        for m in found
    ]
    print_table(["VERSION", "STATUS", "ALGORITHM", "F1", "CREATED"], rows)


def _show(model: sdk.Model, as_json: bool) -> None:
    if as_json:
        print_json(model)
        return
    performance = model.performance or ModelPerformance()
    print_fields(
        [
            ("model", f"{model.project_name}/{model.version}"),
            ("status", model.status),
            ("message", model.status_message),
            ("algorithm", model.algorithm),
            ("runtime", model.runtime),
            ("f1", performance.f1_score),
            ("precision", performance.precision),
            ("recall", performance.recall),
            ("inference units", f"{model.min_inference_units or '-'}..{model.max_inference_units or '-'}"),
            ("created", model.creation_timestamp),
        ]
    )


@models.command()
@project_option
@version_argument
@json_option
def describe(project: str, version: str, as_json: bool) -> None:
    """Show a model version."""
    _show(_model(project, version), as_json)


@models.command()
@project_option
@version_argument
@json_option
def delete(project: str, version: str, as_json: bool) -> None:
    """Delete a model version (stop hosting it first)."""
    model = _model(project, version)
    model.delete()
    if as_json:
        print_json({"ModelArn": model.arn})
    else:
        click.echo(f"deleted model {version} of {project}")


@models.command()
@project_option
@version_argument
@click.option("--min-units", type=click.IntRange(min=1), default=1, show_default=True, help="Fewest inference units.")
@click.option("--max-units", type=click.IntRange(min=1), help="Most inference units (autoscaling).")
@click.option(
    "--runtime",
    type=click.Choice(sdk.RUNTIMES),
    help="Inference runtime (default: the model's, else the server's); openvino-int8 is quantised on first use.",
)
@click.option("--wait/--no-wait", default=True, show_default=True, help="Wait until HOSTED.")
@click.option("--timeout", type=float, default=600, show_default=True, help="Seconds to wait.")
@json_option
def start(
    project: str,
    version: str,
    min_units: int,
    max_units: int | None,
    runtime: sdk.Runtime | None,
    wait: bool,
    timeout: float,
    as_json: bool,
) -> None:
    """Host a trained model version so it answers detect-anomalies."""
    status(f"starting model {version} of {project}", enabled=not as_json)
    model = _model(project, version).start(min_units, max_units, runtime=runtime, wait=wait, timeout=timeout)
    _show(model, as_json)


@models.command()
@project_option
@version_argument
@click.option("--wait/--no-wait", default=True, show_default=True, help="Wait until stopped.")
@json_option
def stop(project: str, version: str, wait: bool, as_json: bool) -> None:
    """Stop hosting a model version."""
    _show(_model(project, version).stop(wait=wait), as_json)


def _policy(point: sdk.OperatingPoint) -> str | None:
    policy = point.threshold_policy
    if policy is None:
        return None
    text = policy.policy if policy.value is None else f"{policy.policy} {policy.value:g}"
    return text if policy.confidence is None else f"{text} at {100 * policy.confidence:g} % confidence"


def _target(point: sdk.OperatingPoint) -> str | None:
    """E.g. "recall 0.983, lower bound 0.951 at 95 % confidence (target 0.95)"."""
    target = point.target
    if target is None:
        return None
    metric = {"Recall": "recall", "Precision": "precision", "FalsePositiveRate": "FPR"}.get(
        target.metric, target.metric
    )
    text = f"{metric} {target.estimate:.3f}"
    if target.bound is not None and target.confidence is not None:
        side = (target.bound_side or "").lower()
        text += f", {side} bound {target.bound:.3f} at {100 * target.confidence:g} % confidence"
    return f"{text} (target {target.value:g})"


def _interval_fields(intervals: sdk.MetricIntervals | None) -> list[tuple[str, str | None]]:
    if intervals is None:
        return []
    rates = {"precision": intervals.precision, "recall": intervals.recall, "fpr": intervals.false_positive_rate}
    level = f"{100 * intervals.confidence_level:g} %"
    return [
        (
            f"{name} {level}",
            None if rate is None else f"{rate.lower:.3f} .. {rate.upper:.3f} ({rate.successes}/{rate.trials})",
        )
        for name, rate in rates.items()
    ]


@models.command()
@project_option
@version_argument
@click.option("--target-recall", type=click.FloatRange(0, 1), help="Lowest threshold reaching this recall.")
@click.option("--target-precision", type=click.FloatRange(0, 1), help="A threshold reaching this precision.")
@click.option("--target-fpr", type=click.FloatRange(0, 1), help="A threshold keeping false positives at most this.")
@click.option("--value", type=click.FloatRange(0, 1), help="A manual threshold on the 0..1 score scale.")
@click.option("--f1-optimal", is_flag=True, help="Back to the F1-optimal threshold chosen at training.")
@click.option(
    "--confidence",
    type=click.FloatRange(0.5, 1, max_open=True),
    help="With a target: meet it with this confidence on the next parts (Clopper-Pearson bound), e.g. 0.95.",
)
@json_option
def threshold(
    project: str,
    version: str,
    target_recall: float | None,
    target_precision: float | None,
    target_fpr: float | None,
    value: float | None,
    f1_optimal: bool,
    confidence: float | None,
    as_json: bool,
) -> None:
    """Show the image threshold and its test-set effect, or move it with one policy option.

    Each rate is shown with its two-sided 95 % (or --confidence) Clopper-Pearson interval.
    """
    model = _model(project, version)
    chosen = [option for option in (target_recall, target_precision, target_fpr, value) if option is not None]
    if chosen or f1_optimal:
        point: sdk.OperatingPoint = model.set_threshold(
            target_recall=target_recall,
            target_precision=target_precision,
            target_fpr=target_fpr,
            value=value,
            f1_optimal=f1_optimal,
            confidence=confidence,
        )
    elif confidence is not None:
        raise click.UsageError("--confidence goes with --target-recall, --target-precision or --target-fpr.")
    else:
        point = model.metrics
    if as_json:
        print_json(point)
        return
    matrix = point.confusion_matrix
    print_fields(
        [
            ("threshold", point.threshold),
            ("policy", _policy(point)),
            ("precision", point.performance.precision),
            ("recall", point.performance.recall),
            ("f1", point.performance.f1_score),
            ("false positive rate", point.false_positive_rate),
            ("target", _target(point)),
            *_interval_fields(point.intervals),
            (
                "tp/fp/tn/fn",
                f"{matrix.true_positives}/{matrix.false_positives}/{matrix.true_negatives}/{matrix.false_negatives}",
            ),
        ]
    )

"""`lv review`: the routing policy, the reviewer's next task on the terminal, statistics, adding verdicts to a dataset."""

from pathlib import Path

import click

import sdk
from cli.output import json_option, print_fields, print_json, print_table, status
from cli.session import current_client
from sdk.resources.review import get_review_policy

project_option = click.option(
    "--project", "-p", envvar="LV_PROJECT", required=True, help="Project name [env LV_PROJECT]."
)
REASONS = click.Choice(["SAMPLED", "LOW_CONFIDENCE", "SCORE_BAND", "ANOMALOUS"])
VERDICTS = click.Choice(["normal", "anomaly"])


def _project(name: str) -> sdk.Project:
    return sdk.Project.get(name, client=current_client())


@click.group()
def review() -> None:
    """Human review: route doubtful detections to reviewers and learn from their verdicts."""


@review.group()
def policy() -> None:
    """Set or show the review routing policy."""


def _print_policy(found: sdk.ReviewPolicy, as_json: bool) -> None:
    if as_json:
        print_json(found)
        return
    band = f"{found.score_band.low:g}-{found.score_band.high:g}" if found.score_band else None
    print_fields(
        [
            ("project", found.project_name),
            ("model version", found.model_version or "all (project policy)"),
            ("confidence below", found.confidence_below),
            ("score band", band),
            ("sampling percent", found.sampling_percent),
            ("all anomalous", found.all_anomalous),
            ("hourly cap", found.hourly_cap),
            ("daily cap", found.daily_cap),
            ("paused", found.paused),
            ("required reviews", found.required_reviews),
            ("lease seconds", found.lease_seconds),
            ("task time to live (s)", found.task_time_to_live_seconds),
        ]
    )


@policy.command(name="set")
@project_option
@click.option("--model-version", help="Set this model version's own policy (default: the project's).")
@click.option("--confidence-below", type=click.FloatRange(0, 1), help="Route results less confident than this.")
@click.option("--score-band", type=(float, float), metavar="LOW HIGH", help="Route normalised scores in [LOW, HIGH].")
@click.option(
    "--sampling-percent",
    type=click.FloatRange(0, 100),
    default=0,
    show_default=True,
    help="Audit this share of all results at random.",
)
@click.option("--all-anomalous", is_flag=True, help="Route every anomalous result.")
@click.option("--hourly-cap", type=click.IntRange(0), help="At most this many routed per UTC hour.")
@click.option("--daily-cap", type=click.IntRange(0), help="At most this many routed per UTC day.")
@click.option("--paused", is_flag=True, help="Route nothing for now.")
@click.option(
    "--required-reviews",
    type=click.IntRange(1, 3),
    default=1,
    show_default=True,
    help="Agreeing reviewers a task needs.",
)
@click.option(
    "--lease-seconds",
    type=click.IntRange(1),
    default=300,
    show_default=True,
    help="How long a claim lasts without activity.",
)
@click.option(
    "--ttl-seconds",
    type=click.IntRange(60),
    default=604800,
    show_default=True,
    help="How long a task waits before it expires.",
)
@json_option
def set_policy(
    project: str,
    model_version: str | None,
    confidence_below: float | None,
    score_band: tuple[float, float] | None,
    sampling_percent: float,
    all_anomalous: bool,
    hourly_cap: int | None,
    daily_cap: int | None,
    paused: bool,
    required_reviews: int,
    lease_seconds: int,
    ttl_seconds: int,
    as_json: bool,
) -> None:
    """Replace the routing policy; it applies from the next DetectAnomalies."""
    found = _project(project).set_review_policy(
        model_version=model_version,
        confidence_below=confidence_below,
        score_band=score_band,
        sampling_percent=sampling_percent,
        all_anomalous=all_anomalous,
        hourly_cap=hourly_cap,
        daily_cap=daily_cap,
        paused=paused,
        required_reviews=required_reviews,
        lease_seconds=lease_seconds,
        task_time_to_live_seconds=ttl_seconds,
    )
    _print_policy(found, as_json)


@policy.command(name="show")
@project_option
@click.option("--model-version", help="The policy that applies to this model version.")
@json_option
def show_policy(project: str, model_version: str | None, as_json: bool) -> None:
    """Show the routing policy."""
    _print_policy(get_review_policy(current_client(), project, model_version=model_version), as_json)


@review.command(name="list")
@project_option
@click.option("--status", type=click.Choice(["PENDING", "CLAIMED", "COMPLETED", "EXPIRED"]), help="Only this status.")
@click.option("--model-version", help="Only this model version.")
@click.option("--reason", type=REASONS, help="Only tasks routed for this reason.")
@json_option
def list_tasks(project: str, status: str | None, model_version: str | None, reason: str | None, as_json: bool) -> None:
    """List review tasks, oldest first."""
    found = list(_project(project).review_tasks(status=status, model_version=model_version, reason=reason))
    if as_json:
        print_json(found)
        return
    print_table(
        ["task", "version", "status", "reason", "model", "confidence", "score", "human", "verdicts"],
        [
            [
                t.task_id,
                t.model_version,
                t.status,
                t.reason,
                "anomaly" if t.is_anomalous else "normal",
                t.confidence,
                t.score,
                t.human_verdict,
                f"{t.verdict_count}/{t.required_reviews}",
            ]
            for t in found
        ],
    )


@review.command(name="next")
@project_option
@click.option("--model-version", help="Only tasks of this model version.")
@click.option(
    "--save-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default="lv-review",
    show_default=True,
    help="Where the image and heatmap are written.",
)
@click.option(
    "--verdict",
    type=click.Choice(["normal", "anomaly", "skip", "release"]),
    help="Answer without being asked (for scripts).",
)
@click.option(
    "--mask",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A PNG mask of the image's size, white = defect (verdict anomaly).",
)
@click.option("--note", default="", help="A note for the audit trail.")
@json_option
def next_task(
    project: str,
    model_version: str | None,
    save_dir: Path,
    verdict: str | None,
    mask: Path | None,
    note: str,
    as_json: bool,
) -> None:
    """Claim the next task, write its image and heatmap, and record your verdict (asked on the terminal)."""
    task = _project(project).next_review_task(model_version=model_version)
    if task is None:
        status(f"no review task waits in {project}", enabled=not as_json)
        if as_json:
            print_json({})
        return
    task.describe()
    save_dir.mkdir(parents=True, exist_ok=True)
    image_path = save_dir / f"task-{task.task_id}.{'jpg' if task.image_format == 'jpeg' else 'png'}"
    heatmap_path = save_dir / f"task-{task.task_id}-heatmap.png"
    if task.image is not None:
        image_path.write_bytes(task.image)
    if task.heatmap is not None:
        heatmap_path.write_bytes(task.heatmap)
    model_verdict = "anomaly" if task.is_anomalous else "normal"
    status(
        f"task {task.task_id} ({task.reason}): model says {model_verdict}, confidence {task.confidence:.3f}, "
        f"score {task.score:.3f} (threshold {task.threshold:.3f})\n  image:   {image_path}\n  heatmap: {heatmap_path}",
        enabled=not as_json,
    )
    if verdict is None:
        verdict = click.prompt("verdict", type=click.Choice(["normal", "anomaly", "skip", "release"]))
        if verdict == "anomaly" and mask is None:
            answer = click.prompt("mask PNG (empty for none)", default="", show_default=False)
            mask = Path(answer) if answer else None
    if verdict == "skip":
        task.skip()
    elif verdict == "release":
        task.release()
    else:
        task.complete(verdict, mask=mask.read_bytes() if mask else None, note=note)
    if as_json:
        print_json(task.model_copy(update={"image": None, "heatmap": None, "anomaly_mask": None, "human_mask": None}))
    else:
        status(f"task {task.task_id}: {task.status}" + (f" ({task.human_verdict})" if task.human_verdict else ""))


@review.command(name="stats")
@project_option
@click.argument("version")
@json_option
def stats(project: str, version: str, as_json: bool) -> None:
    """What review found for a model version, with production precision and recall from the audits."""
    found = _project(project).review_statistics(version)
    if as_json:
        print_json(found)
        return

    def share(value: sdk.Proportion | None) -> str | None:
        if value is None:
            return None
        return f"{value.estimate:.3f} (95% {value.low:.3f}-{value.high:.3f}, {value.successes}/{value.trials})"

    audits = found.audits
    print_fields(
        [
            ("routed", found.routed),
            ("pending / claimed", f"{found.pending} / {found.claimed}"),
            ("completed / expired", f"{found.completed} / {found.expired}"),
            ("by reason", ", ".join(f"{k} {v}" for k, v in found.routed_by_reason.items())),
            ("disputed", found.disputed),
            ("agreement rate", found.agreement_rate),
            ("false positives / negatives", f"{found.false_positives} / {found.false_negatives}"),
            ("median time to review (s)", found.median_time_to_review_seconds),
            (
                "audits (TP FP TN FN)",
                " ".join(
                    str(n)
                    for n in (
                        audits.true_positives,
                        audits.false_positives,
                        audits.true_negatives,
                        audits.false_negatives,
                    )
                ),
            ),
            ("production precision", share(found.precision)),
            ("production recall", share(found.recall)),
        ]
    )


@review.command(name="add-to-dataset")
@project_option
@click.option("--dataset", "dataset_type", type=click.Choice(["train", "test"]), required=True, help="Target dataset.")
@click.option("--task-id", "task_ids", multiple=True, help="A completed task, repeatable (default: all that match).")
@click.option("--model-version", help="Only tasks of this model version.")
@click.option("--reason", type=REASONS, help="Only tasks routed for this reason.")
@click.option("--verdict", type=VERDICTS, help="Only tasks with this human verdict.")
@json_option
def add_to_dataset(
    project: str,
    dataset_type: str,
    task_ids: tuple[str, ...],
    model_version: str | None,
    reason: str | None,
    verdict: str | None,
    as_json: bool,
) -> None:
    """Copy completed review tasks into the train or test dataset as human-annotated entries."""
    if task_ids and (model_version or reason or verdict):
        raise click.UsageError("give --task-id or filters, not both")
    selection: dict[str, object] = (
        {"task_ids": list(task_ids)}
        if task_ids
        else {"model_version": model_version, "reason": reason, "verdict": verdict}
    )
    added = _project(project).add_reviews_to_dataset(dataset_type, **selection)
    if as_json:
        print_json(added)
        return
    click.echo(
        f"added {len(added.added_task_ids)} task(s) to the {dataset_type} dataset of {project}; "
        f"{len(added.already_added_task_ids)} were there already"
    )

"""`lv models shadow`: run a candidate version in the shadow of the live one, compare, promote (again to roll back),
send the disagreements to review, stop."""

import click

import sdk
from cli.output import json_option, print_fields, print_json, print_table
from cli.session import current_client
from sdk.resources.shadow import ShadowModelSide

project_option = click.option(
    "--project", "-p", envvar="LV_PROJECT", required=True, help="Project name [env LV_PROJECT]."
)
version_argument = click.argument("version")


def _model(project: str, version: str) -> sdk.Model:
    return sdk.Model.get(project, version, client=current_client())


def _show_pair(pair: sdk.ShadowPair, as_json: bool) -> None:
    if as_json:
        print_json(pair)
        return
    print_fields(
        [
            ("project", pair.project_name),
            ("live", pair.live_model_version),
            ("shadow", pair.shadow_model_version),
            ("status", pair.status),
            ("sample percent", pair.sample_percent),
            ("promotions", pair.promotions),
            ("dropped", pair.dropped),
            ("failed", pair.failed),
            ("started", pair.started_at),
            ("stopped", pair.stopped_at),
        ]
    )


@click.group()
def shadow() -> None:
    """Run a candidate model version in the shadow of the live one."""


@shadow.command()
@project_option
@version_argument
@click.option("--live", required=True, help="The live model version the candidate VERSION shadows.")
@click.option(
    "--sample-percent",
    type=click.FloatRange(0, 100, min_open=True),
    default=100.0,
    show_default=True,
    help="Share of the live traffic copied to the shadow.",
)
@json_option
def start(project: str, version: str, live: str, sample_percent: float, as_json: bool) -> None:
    """Run hosted model VERSION in the shadow of hosted model --live."""
    _show_pair(_model(project, version).shadow(live=live, sample_percent=sample_percent), as_json)


def _latency(side: ShadowModelSide) -> str | None:
    if side.latency_p50_millis is None or side.latency_p99_millis is None:
        return None
    return f"p50 {side.latency_p50_millis:.1f} ms, p99 {side.latency_p99_millis:.1f} ms"


@shadow.command()
@project_option
@version_argument
@click.option(
    "--max-disagreements",
    type=click.IntRange(0, 100),
    default=20,
    show_default=True,
    help="Newest disagreements to list.",
)
@json_option
def show(project: str, version: str, max_disagreements: int, as_json: bool) -> None:
    """Compare the answers of VERSION's shadow pair (running, or the last one)."""
    found = _model(project, version).describe_shadow_comparison(max_disagreements=max_disagreements)
    if as_json:
        print_json(found)
        return
    _show_pair(found.shadow_model, as_json)
    live, candidate = found.live, found.shadow
    print_fields(
        [
            ("compared", found.compared),
            ("agreement", found.agreement_rate),
            ("only live anomalous", found.disagreements.live_anomalous),
            ("only shadow anomalous", found.disagreements.shadow_anomalous),
            ("score correlation", found.score_correlation),
            (f"live {live.model_version} latency", _latency(live)),
            (f"shadow {candidate.model_version} latency", _latency(candidate)),
            ("reviewed", found.reviewed),
            (f"live {live.model_version} FP / FN", f"{live.false_positives} / {live.false_negatives}"),
            (
                f"shadow {candidate.model_version} FP / FN",
                f"{candidate.false_positives} / {candidate.false_negatives}",
            ),
        ]
    )
    if found.disagreement_samples:
        click.echo()
        print_table(
            ["result", "direction", "live score", "shadow score", "image", "review task"],
            [
                [
                    item.result_id,
                    item.direction,
                    item.live.score,
                    item.shadow.score,
                    (item.image or {}).get("Key"),
                    item.review_task_id,
                ]
                for item in found.disagreement_samples
            ],
        )


@shadow.command()
@project_option
@version_argument
@json_option
def promote(project: str, version: str, as_json: bool) -> None:
    """Swap live and shadow of VERSION's pair (run again to roll back)."""
    _show_pair(_model(project, version).promote_shadow(), as_json)


@shadow.command()
@project_option
@version_argument
@click.option("--max-tasks", type=click.IntRange(1, 1000), default=100, show_default=True, help="Most tasks to add.")
@json_option
def review(project: str, version: str, max_tasks: int, as_json: bool) -> None:
    """Send the disagreements of VERSION's pair to the reviewer queue."""
    sent = _model(project, version).send_shadow_disagreements_to_review(max_tasks=max_tasks)
    if as_json:
        print_json(sent)
    else:
        click.echo(f"{len(sent.task_ids)} disagreements sent to review ({sent.already_in_review} were already there)")


@shadow.command()
@project_option
@version_argument
@json_option
def stop(project: str, version: str, as_json: bool) -> None:
    """End VERSION's pair and stop hosting its shadow model."""
    _show_pair(_model(project, version).stop_shadow(), as_json)

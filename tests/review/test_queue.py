"""The reviewer queue through boto3 on a live server: order of the next task, leases, RequiredReviews, release and
skip, expiry, listing, and 8 concurrent claimers that never share a task (SQLite and PostgreSQL)."""

import io
import threading
import time
from datetime import timedelta
from typing import Any

import httpx
import numpy as np
import pytest
from botocore.exceptions import ClientError
from PIL import Image
from sqlmodel import col, func, select

from service.auth.roles import Role
from service.db.engine import transaction
from service.db.models import ReviewAction
from tests.helpers.live_server import LiveServer
from tests.helpers.signing import signed_headers
from tests.review.conftest import error_code, reviewer_client
from tests.review.seed import SIZE, png, seed_tasks


def claim(client: Any, project: str, **options: Any) -> dict[str, Any] | None:
    return client.claim_review_task(ProjectName=project, **options).get("ReviewTask")


def complete(client: Any, project: str, task_id: str, verdict: str, **options: Any) -> dict[str, Any]:
    reply = client.complete_review_task(ProjectName=project, TaskId=task_id, Verdict=verdict, **options)
    return reply["ReviewTask"]


def test_next_is_the_closest_to_the_threshold_with_audits_interleaved(server: LiveServer, project_name: str) -> None:
    ids = seed_tasks(server, project_name, [0.9, 0.52, 0.3, 0.45, 0.95, 0.05], sampled={4, 5})
    reviewer = reviewer_client(server)
    order = []
    while (task := claim(reviewer, project_name)) is not None:
        assert task["Status"] == "CLAIMED" and task["LeaseExpiresAt"] is not None
        order.append(task["TaskId"])
        done = complete(reviewer, project_name, task["TaskId"], "anomaly" if task["IsAnomalous"] else "normal")
        assert done["Status"] == "COMPLETED"
    assert order == [ids[1], ids[3], ids[4], ids[2], ids[0], ids[5]]


def test_describe_shows_the_image_heatmap_and_mask_and_renews_the_lease(server: LiveServer, project_name: str) -> None:
    [task_id] = seed_tasks(server, project_name, [0.55], lease_seconds=30)
    reviewer = reviewer_client(server)
    claimed = claim(reviewer, project_name, TaskId=task_id)
    assert claimed is not None
    time.sleep(0.05)
    described = reviewer.describe_review_task(ProjectName=project_name, TaskId=task_id)["ReviewTask"]
    assert described["LeaseExpiresAt"] > claimed["LeaseExpiresAt"]
    assert (described["Score"], described["Threshold"], described["IsAnomalous"]) == (0.55, 0.5, True)
    image = Image.open(io.BytesIO(described["Image"]))
    heatmap = Image.open(io.BytesIO(described["Heatmap"]))
    mask = Image.open(io.BytesIO(described["AnomalyMask"]))
    assert image.size == heatmap.size == mask.size == (SIZE, SIZE) and heatmap.format == "PNG"
    assert not np.array_equal(np.asarray(heatmap.convert("RGB")), np.asarray(image.convert("RGB")))
    other = reviewer_client(server)
    seen = other.describe_review_task(ProjectName=project_name, TaskId=task_id)["ReviewTask"]
    assert seen["LeaseExpiresAt"] == described["LeaseExpiresAt"], "a reader who does not hold it renews nothing"


@pytest.mark.timeout(300)
def test_eight_concurrent_claimers_never_hold_the_same_task(server: LiveServer, project_name: str) -> None:
    ids = seed_tasks(server, project_name, [0.5 + 0.01 * (index % 40) for index in range(48)])
    claimed: dict[str, list[str]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def work(number: int) -> None:
        mine = claimed.setdefault(str(number), [])
        try:
            client = reviewer_client(server, f"claimer {number}")
            start.wait()
            while (task := claim(client, project_name)) is not None:
                mine.append(task["TaskId"])
                complete(client, project_name, task["TaskId"], "normal")
        except BaseException as error:  # noqa: BLE001 -- reported by the main thread
            errors.append(error)
            start.abort()  # the others would wait at the barrier for this thread forever

    threads = [threading.Thread(target=work, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert not errors, errors
    everything = [task_id for mine in claimed.values() for task_id in mine]
    assert sorted(everything, key=int) == ids, "every task claimed exactly once"
    assert sum(1 for mine in claimed.values() if mine) >= 2, "the claimers worked side by side"
    with transaction(server.context.engine) as session:
        verdicts = session.exec(
            select(ReviewAction.task_id, func.count())
            .where(col(ReviewAction.task_id).in_([int(i) for i in ids]))
            .group_by(col(ReviewAction.task_id))
        ).all()
    assert len(verdicts) == len(ids) and {count for _, count in verdicts} == {1}


def test_an_expired_lease_cannot_complete_and_the_task_goes_to_the_next_reviewer(
    server: LiveServer, project_name: str
) -> None:
    [task_id] = seed_tasks(server, project_name, [0.48], lease_seconds=1)
    first, second = reviewer_client(server), reviewer_client(server)
    assert claim(first, project_name) is not None
    assert claim(second, project_name) is None, "a held task is not offered to anyone else"
    time.sleep(1.3)
    with pytest.raises(ClientError) as late:
        complete(first, project_name, task_id, "normal")
    assert error_code(late) == "ConflictException" and "lease" in late.value.response["Error"]["Message"]
    task = first.describe_review_task(ProjectName=project_name, TaskId=task_id)["ReviewTask"]
    assert task["VerdictCount"] == 0 and task["Actions"] == []
    taken = claim(second, project_name)
    assert taken is not None and taken["TaskId"] == task_id
    assert complete(second, project_name, task_id, "anomaly")["HumanVerdict"] == "anomaly"


def test_required_reviews_wait_for_agreement_and_flag_a_dispute(server: LiveServer, project_name: str) -> None:
    [task_id] = seed_tasks(server, project_name, [0.51], required_reviews=2)
    one, two, three = (reviewer_client(server) for _ in range(3))
    assert claim(one, project_name) is not None
    after_one = complete(one, project_name, task_id, "normal", Note="looks clean")
    assert (after_one["Status"], after_one["VerdictCount"], after_one["Disputed"]) == ("PENDING", 1, False)
    assert claim(one, project_name) is None, "a reviewer never judges a task twice"
    with pytest.raises(ClientError) as again:
        claim(one, project_name, TaskId=task_id)
    assert error_code(again) == "ConflictException"
    assert claim(two, project_name) is not None
    after_two = complete(two, project_name, task_id, "anomaly")
    assert (after_two["Status"], after_two["Disputed"]) == ("PENDING", True)
    assert claim(three, project_name) is not None
    final = complete(three, project_name, task_id, "anomaly")
    assert (final["Status"], final["HumanVerdict"], final["Disputed"], final["VerdictCount"]) == (
        "COMPLETED",
        "anomaly",
        True,
        3,
    )
    trail = final["Actions"]
    assert [action["Verdict"] for action in trail] == ["normal", "anomaly", "anomaly"]
    assert trail[0]["Note"] == "looks clean" and all(action["ModelScore"] == 0.51 for action in trail)
    assert len({action["Reviewer"] for action in trail}) == 3


def test_release_returns_a_task_and_skip_keeps_it_from_that_reviewer(server: LiveServer, project_name: str) -> None:
    [task_id] = seed_tasks(server, project_name, [0.6])
    first, second = reviewer_client(server), reviewer_client(server)
    claim(first, project_name)
    released = first.release_review_task(ProjectName=project_name, TaskId=task_id)["ReviewTask"]
    assert released["Status"] == "PENDING" and "ClaimedBy" not in released
    assert claim(first, project_name) is not None
    skipped = first.skip_review_task(ProjectName=project_name, TaskId=task_id)["ReviewTask"]
    assert skipped["Status"] == "PENDING" and [a["Action"] for a in skipped["Actions"]] == ["SKIP"]
    assert claim(first, project_name) is None
    assert claim(second, project_name) is not None


def test_tasks_past_their_time_to_live_expire(server: LiveServer, lv: Any, project_name: str) -> None:
    seed_tasks(server, project_name, [0.5], ttl=timedelta(seconds=-1))
    assert claim(reviewer_client(server), project_name) is None
    listed = lv.list_review_tasks(ProjectName=project_name)["ReviewTasks"]
    assert [task["Status"] for task in listed] == ["EXPIRED"]


def test_listing_filters_and_pages(server: LiveServer, lv: Any, project_name: str) -> None:
    ids = seed_tasks(server, project_name, [0.2, 0.4, 0.6, 0.8, 0.9], sampled={0})
    reviewer = reviewer_client(server)
    claim(reviewer, project_name, TaskId=ids[4])
    complete(reviewer, project_name, ids[4], "anomaly")

    def listed(**filters: Any) -> list[str]:
        return [t["TaskId"] for t in lv.list_review_tasks(ProjectName=project_name, **filters)["ReviewTasks"]]

    assert listed() == ids
    assert listed(Status="COMPLETED") == [ids[4]] and listed(Status="PENDING") == ids[:4]
    assert listed(Reason="SAMPLED") == [ids[0]] and listed(ModelVersion="1") == ids and listed(ModelVersion="2") == []
    pages = lv.get_paginator("list_review_tasks").paginate(ProjectName=project_name, PaginationConfig={"PageSize": 2})
    assert [task["TaskId"] for page in pages for task in page["ReviewTasks"]] == ids
    with pytest.raises(ClientError) as bad:
        lv.list_review_tasks(ProjectName=project_name, NextToken="bm90LWEtdG9rZW4")
    assert error_code(bad) == "ValidationException"


def test_bad_input_is_refused_and_changes_nothing(server: LiveServer, lv: Any, project_name: str) -> None:
    ids = seed_tasks(server, project_name, [0.55, 0.45])
    other_project = project_name + "-other"
    [foreign] = seed_tasks(server, other_project, [0.5])
    reviewer = reviewer_client(server)
    claim(reviewer, project_name, TaskId=ids[0])

    def refused(call: Any, **params: Any) -> str:
        with pytest.raises(ClientError) as error:
            call(**params)
        return error_code(error)

    assert refused(reviewer.describe_review_task, ProjectName=project_name, TaskId="99999") == (
        "ResourceNotFoundException"
    )
    assert refused(reviewer.claim_review_task, ProjectName=project_name, TaskId=foreign) == "ResourceNotFoundException"
    assert refused(reviewer.describe_review_task, ProjectName=project_name, TaskId=foreign) == (
        "ResourceNotFoundException"
    )
    wrong_size = png(np.zeros((SIZE + 4, SIZE), dtype=np.uint8))
    assert (
        refused(complete, client=reviewer, project=project_name, task_id=ids[0], verdict="anomaly", Mask=wrong_size)
        == "ValidationException"
    )
    assert (
        refused(
            complete,
            client=reviewer,
            project=project_name,
            task_id=ids[0],
            verdict="normal",
            Mask=png(np.zeros((SIZE, SIZE), dtype=np.uint8)),
        )
        == "ValidationException"
    )
    assert refused(reviewer.complete_review_task, ProjectName=project_name, TaskId=ids[0], Verdict="maybe") == (
        "ValidationException"
    )
    assert refused(complete, client=reviewer, project=project_name, task_id=ids[1], verdict="normal") == (
        "ConflictException"
    ), "a task one has not claimed"
    task = reviewer.describe_review_task(ProjectName=project_name, TaskId=ids[0])["ReviewTask"]
    assert (task["Status"], task["VerdictCount"]) == ("CLAIMED", 0)
    good_mask = np.zeros((SIZE, SIZE), dtype=np.uint8)
    good_mask[4:9, 4:9] = 255
    done = complete(reviewer, project_name, ids[0], "anomaly", Mask=png(good_mask))
    assert done["Status"] == "COMPLETED" and done["Actions"][0]["HasMask"] is True
    assert refused(complete, client=reviewer, project=project_name, task_id=ids[0], verdict="normal") == (
        "ConflictException"
    ), "a double complete"
    described = reviewer.describe_review_task(ProjectName=project_name, TaskId=ids[0])["ReviewTask"]
    assert described["HumanVerdict"] == "anomaly" and described["VerdictCount"] == 1
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(described["HumanMask"]))), good_mask)

    lv.put_review_policy(ProjectName=project_name, ConfidenceBelow=0.7, HourlyCap=5)
    for bad in (
        {"HourlyCap": -1},
        {"DailyCap": -3},
        {"RequiredReviews": 4},
        {"SamplingPercent": 101},
        {"ScoreBand": {"Low": 0.6, "High": 0.4}},
        {"ModelVersion": "7"},
    ):
        code = refused(lv.put_review_policy, ProjectName=project_name, ConfidenceBelow=0.2, **bad)
        assert code in {"ValidationException", "ResourceNotFoundException"}, bad
    policy = lv.describe_review_policy(ProjectName=project_name)["ReviewPolicy"]
    assert (policy["ConfidenceBelow"], policy["HourlyCap"]) == (0.7, 5)
    claim(reviewer, project_name, TaskId=ids[1])
    assert (
        refused(complete, client=reviewer, project=project_name, task_id=ids[1], verdict="anomaly", Mask=b"not a png")
        == "ValidationException"
    )
    assert reviewer.describe_review_task(ProjectName=project_name, TaskId=ids[1])["ReviewTask"]["VerdictCount"] == 0


def test_deleting_the_model_and_project_takes_their_tasks_and_policy(
    server: LiveServer, lv: Any, project_name: str
) -> None:
    ids = seed_tasks(server, project_name, [0.5, 0.6])
    reviewer = reviewer_client(server)
    claim(reviewer, project_name, TaskId=ids[0])
    complete(reviewer, project_name, ids[0], "normal")
    lv.put_review_policy(ProjectName=project_name, SamplingPercent=5)
    lv.put_review_policy(ProjectName=project_name, ModelVersion="1", SamplingPercent=50)
    lv.delete_model(ProjectName=project_name, ModelVersion="1")
    deadline = time.monotonic() + 60
    while lv.list_models(ProjectName=project_name)["Models"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert lv.list_review_tasks(ProjectName=project_name)["ReviewTasks"] == []
    lv.delete_project(ProjectName=project_name)
    with transaction(server.context.engine) as session:
        left = session.exec(
            select(func.count()).select_from(ReviewAction).where(col(ReviewAction.task_id).in_([int(i) for i in ids]))
        ).one()
    assert left == 0


def test_claim_without_a_body_takes_the_next_task(server: LiveServer, project_name: str) -> None:
    [task_id] = seed_tasks(server, project_name, [0.5])
    pair = server.context.keys.create(role=Role.REVIEWER, description="curl-like reviewer")
    url = f"{server.url}/2020-11-20/projects/{project_name}/reviewtasks/claim"
    headers = signed_headers(
        "POST",
        url,
        body=b"",
        headers={},
        unsigned_payload=False,
        access_key_id=pair.access_key_id,
        secret_access_key=pair.secret_access_key,
        region=server.settings.region,
    )
    reply = httpx.post(url, headers=headers, timeout=30)
    assert reply.status_code == 200, reply.text
    assert reply.json()["ReviewTask"]["TaskId"] == task_id

"""ListDatasetProblems (openlv extension): every manifest line the dataset's last CreateDataset or UpdateDatasetEntries
refused, in manifest order; DescribeDataset's StatusMessage names only the first few."""

from typing import Any

from fastapi import APIRouter, Query

from service.api.deps import Context
from service.api.pagination import decode_token, encode_token, page_size
from service.db.engine import transaction
from service.domain.dataset_state import get_dataset

router = APIRouter()


@router.get("/projects/{project_name}/datasets/{dataset_type}/problems")
def list_dataset_problems(
    project_name: str,
    dataset_type: str,
    context: Context,
    next_token: str | None = Query(default=None, alias="nextToken"),
    max_results: int | None = Query(default=None, alias="maxResults"),
) -> dict[str, Any]:
    limit = page_size(max_results)
    cursor = decode_token(next_token, expected_keys={"from"})
    start = int(cursor["from"]) if cursor else 0
    with transaction(context.engine) as session:
        dataset = get_dataset(session, project_name=project_name, dataset_type=dataset_type)
        status, problems = dataset.status, list(dataset.problems)
    response: dict[str, Any] = {"Status": status, "Problems": problems[start : start + limit]}
    if start + limit < len(problems):
        response["NextToken"] = encode_token({"from": start + limit})
    return response

"""ListDatasetProblems (openlv extension): every manifest line the dataset's last CreateDataset or UpdateDatasetEntries
refused, in manifest order; DescribeDataset's StatusMessage names only the first few."""

from typing import Any

from fastapi import APIRouter, Query

from service.api.deps import Context
from service.api.pagination import page_request, page_response
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
    page = page_request(next_token, max_results, key="from")
    start = int(page.cursor or 0)
    with transaction(context.engine) as session:
        dataset = get_dataset(session, project_name=project_name, dataset_type=dataset_type)
        status, problems = dataset.status, list(dataset.problems)
    numbered = list(enumerate(problems))[start : start + page.limit + 1]
    listed = page_response(page, numbered, items="Problems", shape=lambda row: row[1], cursor_of=lambda row: row[0] + 1)
    return {"Status": status, **listed}

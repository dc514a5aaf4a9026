"""The console's HTML pages: thin shells rendered from templates; each page's data comes from the public API.

A page checks the session and the role (see `console.access`) and that the project exists, then renders its shell;
the page's ES module calls the same API the SDK uses, with the session cookie and the CSRF token. Pages never read
datasets or models beyond what names the page: the data is paged by the API.
"""

from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from console import access
from service.auth.session import Session, current_session
from service.context import AppContext
from service.db.engine import transaction
from service.domain import projects, training_runs
from service.errors import ResourceNotFoundException

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
router = APIRouter(prefix="/console", include_in_schema=False)


def signed_in(request: Request) -> Session | None:
    context: AppContext = request.app.state.context
    if not context.settings.auth_enabled:
        return Session(access_key_id="anonymous", csrf_token="")
    return current_session(request, context.keys)


def render(
    request: Request, template: str, page_key: str, *, project: str | None = None, status: int = 200, **values: Any
) -> Response:
    """The page for a signed-in user whose role sees it; otherwise sign-in, or a page that says what is missing."""
    context: AppContext = request.app.state.context
    session = signed_in(request)
    if session is None:
        return RedirectResponse(f"/console/sign-in?next={quote(request.url.path)}", status_code=303)
    role = access.role_of(context, session.access_key_id)
    pages = access.pages_for(role)
    base = {
        "request": request,
        "session": session,
        "nav": pages,
        "page": page_key,
        "project": project,
        "home": access.home_for(role),
        "role": role,
        **values,
    }
    if page_key not in {page.key for page in pages}:
        return _problem(base, 403, "Not available to this key", "Your access key's role does not include this page.")
    if project is not None:
        try:
            with transaction(context.engine) as db:
                projects.get_project(db, name=project)
        except ResourceNotFoundException:
            return _problem(base, 404, "No such project", f"There is no project named {project}.")
    return TEMPLATES.TemplateResponse(request, template, base, status_code=status)


def _problem(values: dict[str, Any], status: int, title: str, message: str) -> HTMLResponse:
    values = {**values, "title": title, "message": message, "project": None}
    return TEMPLATES.TemplateResponse(values["request"], "problem.html", values, status_code=status)


@router.get("")
@router.get("/")
def console_home(request: Request) -> Response:
    session = signed_in(request)
    if session is None:
        return RedirectResponse("/console/sign-in", status_code=303)
    role = access.role_of(request.app.state.context, session.access_key_id)
    return RedirectResponse(access.home_for(role), status_code=303)


@router.get("/projects")
def projects_page(request: Request) -> Response:
    return render(request, "projects.html", "projects")


@router.get("/projects/{project}")
def project_page(request: Request, project: str) -> Response:
    return render(request, "project.html", "project", project=project)


@router.get("/projects/{project}/training")
def training_page(request: Request, project: str) -> Response:
    bucket = request.app.state.context.settings.storage_bucket
    return render(request, "training.html", "training", project=project, bucket=bucket)


@router.get("/projects/{project}/models")
def models_page(request: Request, project: str) -> Response:
    return render(request, "models.html", "models", project=project)


@router.get("/projects/{project}/models/{version}")
def model_page(request: Request, project: str, version: str) -> Response:
    context: AppContext = request.app.state.context
    try:
        with transaction(context.engine) as db:
            training_runs.get_model(db, project_name=project, version=version)
    except ResourceNotFoundException:
        message = f"Project {project} has no model version {version}."
        return render(
            request, "problem.html", "models", project=project, status=404, title="No such model", message=message
        )
    return render(request, "model.html", "models", project=project, version=version)


@router.get("/projects/{project}/hosting")
def hosting_page(request: Request, project: str) -> Response:
    return render(request, "hosting.html", "hosting", project=project)


@router.get("/projects/{project}/detections")
def detections_page(request: Request, project: str) -> Response:
    return render(request, "detections.html", "detections", project=project)


@router.get("/review")
def review_home_page(request: Request) -> Response:
    return render(request, "review_home.html", "review")


@router.get("/projects/{project}/review")
def review_page(request: Request, project: str) -> Response:
    return render(request, "review.html", "review", project=project)

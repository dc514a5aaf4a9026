"""The web console, served by the service at /console: server-rendered page shells, ES modules, one stylesheet.

`mount(app)` is all the service needs: it adds the session signer, the console's routes, its static files and the
redirect from `/`. The console calls the public API with a session cookie (see `service.auth.session`).
"""

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from service.auth.session import SessionSigner

STATIC = Path(__file__).parent / "static"


def mount(app: FastAPI) -> None:
    from console import images, pages, sign_in
    from console.heatmaps import Heatmaps

    context = app.state.context
    app.state.sessions = SessionSigner(context.settings.session_key_file)
    app.state.console_heatmaps = Heatmaps(context.store, context.settings.resolved_home / "console-cache")
    app.include_router(sign_in.router)
    app.include_router(images.router)
    app.include_router(pages.router)
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")
    app.add_api_route("/", lambda: RedirectResponse("/console/", status_code=303), include_in_schema=False)

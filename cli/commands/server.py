"""`lv server`: start the service (what `make serve` runs).

Every default comes from the service's `Settings` (so `LV_HOST`, `LV_PORT`, `LV_HOME` and every other `LV_*` variable
apply as they do to the service); the options only override them.
"""

from pathlib import Path

import click


@click.command()
@click.option("--host", help="Address to listen on (default: LV_HOST, else 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default: LV_PORT, else 8642).")
@click.option(
    "--home", type=click.Path(file_okay=False, path_type=Path), help="Data directory (default: LV_HOME, else lv-home)."
)
def server(host: str | None, port: int | None, home: Path | None) -> None:
    """Start the openlv service and print where the API and the credentials are."""
    import uvicorn

    from service.app import create_app
    from service.settings import Settings

    overrides = {"host": host, "port": port, "home": home}
    settings = Settings(**{name: value for name, value in overrides.items() if value is not None})
    app = create_app(settings)
    url = f"http://{settings.host}:{settings.port}"
    click.echo(f"openlv {app.version} listening on {url}")
    click.echo(f"  API endpoint:  {url}   (boto3: sdk.boto3_client(endpoint_url='{url}'))")
    click.echo(f"  credentials:   {settings.keys_file}   (profile 'openlv', mode 0600)")
    click.echo(f"  data:          {settings.resolved_home}")
    click.echo(f"  weights:       {settings.resolved_weights_dir}   (lv weights import PATH)")
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info", http="httptools", loop="uvloop")

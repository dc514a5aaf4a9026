"""`lv server`: start the service (what `make serve` runs)."""

from pathlib import Path

import click


@click.command()
@click.option("--host", envvar="LV_HOST", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", envvar="LV_PORT", default=8642, show_default=True, type=int, help="Port to listen on.")
@click.option("--home", envvar="LV_HOME", default="lv-home", show_default=True, help="Data directory.")
def server(host: str, port: int, home: str) -> None:
    """Start the openlv service and print where the API and the credentials are."""
    import uvicorn

    from service.app import create_app
    from service.settings import Settings

    settings = Settings(home=Path(home), host=host, port=port)
    app = create_app(settings)
    url = f"http://{host}:{port}"
    click.echo(f"openlv {app.version} listening on {url}")
    click.echo(f"  API endpoint:  {url}   (boto3: sdk.boto3_client(endpoint_url='{url}'))")
    click.echo(f"  credentials:   {settings.keys_file}   (profile 'openlv', mode 0600)")
    click.echo(f"  data:          {settings.resolved_home}")
    uvicorn.run(app, host=host, port=port, log_level="info")

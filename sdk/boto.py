"""boto3 entry points for openlv.

botocore stopped shipping the ``lookoutvision`` service model when AWS retired the service, so openlv ships its own
under ``sdk/data/lookoutvision/2020-11-20/``. Either put :func:`data_path` on ``AWS_DATA_PATH`` and use plain
``boto3.client("lookoutvision", endpoint_url=...)``, or call :func:`boto3_client`, which needs no environment.
"""

import os
import pathlib
from typing import Any

import boto3
import botocore.session

SERVICE_NAME = "lookoutvision"
ENDPOINT_ENV = "LV_ENDPOINT_URL"
DEFAULT_REGION = "us-east-1"


def data_path() -> pathlib.Path:
    """The folder holding openlv's botocore models: the value to put on ``AWS_DATA_PATH``."""
    return pathlib.Path(__file__).resolve().parent / "data"


def _with_openlv_models(session: botocore.session.Session) -> botocore.session.Session:
    """Put openlv's models first on the session's loader search path (as boto3 adds its own data folder)."""
    search_paths = session.get_component("data_loader").search_paths
    folder = str(data_path())
    if folder not in search_paths:
        search_paths.insert(0, folder)
    return session


def boto3_client(
    endpoint_url: str | None = None,
    *,
    region_name: str | None = None,
    session: boto3.Session | None = None,
    **kwargs: Any,
) -> Any:
    """A boto3 ``lookoutvision`` client built from openlv's service model.

    ``endpoint_url`` defaults to ``$LV_ENDPOINT_URL``; without either, requests go to the AWS-style
    ``https://lookoutvision.{region}.amazonaws.com``. The region is ``region_name``, else the session's configured
    one, else ``us-east-1`` (openlv ignores it apart from SigV4 signing). Other keyword arguments (credentials,
    ``config``, ``verify``...) go to :meth:`boto3.Session.client` unchanged.
    """
    if session is None:
        session = boto3.Session(botocore_session=_with_openlv_models(botocore.session.Session()))
    else:
        # boto3 exposes no public accessor for its botocore session; boto3 itself extends this loader the same way.
        _with_openlv_models(session._session)
    return session.client(
        SERVICE_NAME,
        endpoint_url=endpoint_url or os.environ.get(ENDPOINT_ENV) or None,
        region_name=region_name or session.region_name or DEFAULT_REGION,
        **kwargs,
    )

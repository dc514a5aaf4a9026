"""Where the SDK finds its endpoint and credentials, in the order a user expects."""

import os
from dataclasses import dataclass
from pathlib import Path

import botocore.session

ENDPOINT_ENV = "LV_ENDPOINT_URL"
DEFAULT_ENDPOINT = "http://127.0.0.1:8642"
DEFAULT_REGION = "us-east-1"
LOCAL_PROFILE = "openlv"


@dataclass(frozen=True)
class ResolvedCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None


def resolve_endpoint(endpoint_url: str | None) -> str:
    return (endpoint_url or os.environ.get(ENDPOINT_ENV) or DEFAULT_ENDPOINT).rstrip("/")


def _local_credentials_file() -> Path:
    """The file `lv server` writes on first start: `$LV_HOME/credentials`, `./lv-home/credentials` by default."""
    return Path(os.environ.get("LV_HOME", "lv-home")) / "credentials"


def resolve_credentials(
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
    profile: str | None = None,
) -> ResolvedCredentials | None:
    """Explicit keys, else the usual AWS sources (env vars, shared credentials/config files, profile), else the local
    server's credentials file, so a client works with zero set-up next to `make serve`."""
    if access_key_id and secret_access_key:
        return ResolvedCredentials(access_key_id, secret_access_key)
    session = botocore.session.Session(profile=profile)
    found = session.get_credentials()
    if found is None and profile is None and _local_credentials_file().is_file():
        session = botocore.session.Session(profile=LOCAL_PROFILE)
        session.set_config_variable("credentials_file", str(_local_credentials_file()))
        found = session.get_credentials()
    if found is None:
        return None
    frozen = found.get_frozen_credentials()
    return ResolvedCredentials(frozen.access_key, frozen.secret_key, frozen.token)


def resolve_region(region: str | None, profile: str | None = None) -> str:
    if region:
        return region
    configured = botocore.session.Session(profile=profile).get_config_variable("region")
    return str(configured) if configured else DEFAULT_REGION

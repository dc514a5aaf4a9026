"""Profiles in the user config dir: `config` (endpoint, region) and `credentials` (keys, mode 0600), INI like AWS.

The dir is `$LV_CONFIG_DIR`, else Click's per-user app dir for "openlv" (e.g. ~/.config/openlv on Linux).
"""

import configparser
import os
from dataclasses import dataclass
from pathlib import Path

import click

CONFIG_DIR_ENV = "LV_CONFIG_DIR"
DEFAULT_PROFILE = "default"


def config_dir() -> Path:
    return Path(os.environ.get(CONFIG_DIR_ENV) or click.get_app_dir("openlv"))


@dataclass(frozen=True)
class Profile:
    name: str
    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None


def _read(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    if path.is_file():
        parser.read(path)
    return parser


def load_profile(name: str) -> Profile | None:
    """The named profile, or None when neither file has a section for it."""
    settings = _read(config_dir() / "config")
    secrets = _read(config_dir() / "credentials")
    if not settings.has_section(name) and not secrets.has_section(name):
        return None
    section = settings[name] if settings.has_section(name) else {}
    keys = secrets[name] if secrets.has_section(name) else {}
    return Profile(
        name=name,
        endpoint_url=section.get("endpoint_url"),
        region=section.get("region"),
        access_key_id=keys.get("aws_access_key_id"),
        secret_access_key=keys.get("aws_secret_access_key"),
    )


def _write_private(path: Path, parser: configparser.ConfigParser) -> None:
    """Write through a 0600 temp file and rename, so the secrets are never readable by others, even briefly."""
    tmp = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as stream:
        parser.write(stream)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def save_profile(profile: Profile) -> Path:
    """Merge the profile into `config` and `credentials`; returns the config dir."""
    directory = config_dir()
    directory.mkdir(parents=True, exist_ok=True)
    settings = _read(directory / "config")
    settings[profile.name] = {
        key: value for key, value in (("endpoint_url", profile.endpoint_url), ("region", profile.region)) if value
    }
    _write_private(directory / "config", settings)
    if profile.access_key_id and profile.secret_access_key:
        secrets = _read(directory / "credentials")
        secrets[profile.name] = {
            "aws_access_key_id": profile.access_key_id,
            "aws_secret_access_key": profile.secret_access_key,
        }
        _write_private(directory / "credentials", secrets)
    return directory

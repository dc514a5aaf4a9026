"""The client a command talks through: `--endpoint-url`, then the chosen profile, then the SDK's own fallbacks."""

from dataclasses import dataclass, field

import click

import sdk
from cli.config import DEFAULT_PROFILE, load_profile


@dataclass
class Session:
    profile: str | None = None
    endpoint_url: str | None = None
    _client: sdk.Client | None = field(default=None, repr=False)

    def client(self) -> sdk.Client:
        if self._client is None:
            self._client = self._build()
        return self._client

    def _build(self) -> sdk.Client:
        profile = load_profile(self.profile or DEFAULT_PROFILE)
        if profile is None and self.profile is not None:
            raise click.ClickException(
                f"no profile {self.profile!r}; create it with `lv configure --profile {self.profile}`"
            )
        if profile is None:
            return sdk.Client(self.endpoint_url)
        return sdk.Client(
            self.endpoint_url or profile.endpoint_url,
            region=profile.region,
            access_key_id=profile.access_key_id,
            secret_access_key=profile.secret_access_key,
        )

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def current_client() -> sdk.Client:
    """The client of the running command's `Session` (set up by the `lv` group)."""
    session = click.get_current_context().find_object(Session)
    if session is None:
        session = click.get_current_context().ensure_object(Session)
    return session.client()

"""The module-level default client, so `sdk.Project.create("pcb")` works with zero set-up after `make serve`."""

from sdk.client import Client

_default: Client | None = None


def default_client() -> Client:
    global _default
    if _default is None:
        _default = Client()
    return _default


def set_default_client(client: Client | None) -> None:
    """Replace the default client (None: build a fresh one from the environment on next use)."""
    global _default
    _default = client

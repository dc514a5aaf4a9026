"""Joining the Ray cluster named by LV_RAY_ADDRESS, once per process."""

import logging
import signal
import threading

import ray

from service.settings import Settings

NAMESPACE = "openlv"
"""Every API replica joins this namespace, so they all see the same Serve applications and tasks."""

_lock = threading.Lock()


def connect(settings: Settings) -> None:
    """Join the cluster (`local`: start one in this process); a no-op when this process already joined one."""
    with _lock:
        if ray.is_initialized():
            return
        sigterm = signal.getsignal(signal.SIGTERM) if threading.current_thread() is threading.main_thread() else None
        local = settings.ray_address == "local"
        ray.init(
            address=None if local else settings.ray_address,
            namespace=NAMESPACE,
            logging_level=logging.WARNING,
            log_to_driver=False,
            include_dashboard=False if local else None,
        )
        if sigterm is not None:
            signal.signal(signal.SIGTERM, sigterm)  # ray.init's handler exits at once; the server's shuts down cleanly

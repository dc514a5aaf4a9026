"""LV_EXECUTOR=ray: training runs as Ray tasks (`training`) and inference units as Ray Serve replicas (`serving`).

Imported only when the executor is `ray`, so the embedded service never needs Ray installed.
"""

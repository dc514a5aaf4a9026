"""openlv's ML core: backbones, anomaly models, metrics, export and inferencers.

Pure library: it never imports FastAPI, the database or the storage layer, so it can be tested, benchmarked and reused
on its own.
"""

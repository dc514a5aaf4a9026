"""Anomaly models, one folder each (`torch_model.py`, `lightning_model.py`, `README.md`)."""

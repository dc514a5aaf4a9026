"""Anomaly models, one folder each, all alike: `hyperparameters.py` (`<Name>Hyperparameters`), `torch_model.py`
(`<Name>Model`), `lightning_model.py` (`<Name>Lightning`), `README.md`, and `SPEC` in `__init__.py`; the registry's
`BUILTIN_MODELS` table lists them."""

"""Imports every built-in model so each registers itself with the registry."""

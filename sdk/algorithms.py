"""The training algorithms an openlv server of this version offers (CreateModel's `Algorithm`, `lv models train
--algorithm`); the same names as the engine's model registry, which a test pins."""

BUILTIN_ALGORITHMS: tuple[str, ...] = (
    "draem",
    "efficient_ad",
    "padim",
    "patchcore",
    "stfpm",
)

"""Learning a model's defect classes from the class masks of its labelled anomalous images.

The engine's models learn from normal images only, so the anomalous images of a run are its validation images; they
are also the only images whose masks say which class each defect is (with further labelled anomalies the caller
passes). The class head trains on their defect pixels and their intact ones (up to `PIXELS_PER_CLASS` of each class
and of intact surface, drawn evenly), which leaves the anomaly scores, thresholds and metrics untouched: the head
only names defects the anomaly map found.
"""

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from service.engine.classes.head import FEATURES, ClassHead
from service.engine.data.image_io import load_rgb, rgb_to_tensor
from service.engine.data.records import ImageRecord
from service.engine.palette import (
    DEFAULT_BACKGROUND,
    GENERIC_CLASS,
    ClassPalette,
    DefectClass,
    class_indices,
    is_background,
)

PIXELS_PER_CLASS = 8_000
STEPS = 200
LEARNING_RATE = 0.02


def _labelled(records: Sequence[ImageRecord]) -> list[ImageRecord]:
    return [r for r in records if r.label == 1 and r.mask is not None and r.mask_colors]


def _palette(records: Sequence[ImageRecord]) -> tuple[list[DefectClass], str]:
    """Every class the colour maps name (sorted by name, each with its first colour) and the background colour."""
    colours: dict[str, str] = {}
    background = None
    for record in records:
        for colour, name in record.mask_colors:
            if is_background(name):
                background = background or colour
            else:
                colours.setdefault(name, colour)
    return [DefectClass(name, colours[name]) for name in sorted(colours)], background or DEFAULT_BACKGROUND


def _class_maps(records: Sequence[ImageRecord], names: list[str], size: int) -> torch.Tensor:
    """int16 (N, S, S) class indices (0: intact, -1: a defect of no listed class) at the model's input size,
    nearest-neighbour."""
    maps = []
    for record in records:
        assert record.mask is not None
        indices = class_indices(np.asarray(load_rgb(record.mask)), record.mask_colors, names)
        tensor = torch.from_numpy(indices.astype(np.float32))[None, None]
        maps.append(F.interpolate(tensor, size=(size, size), mode="nearest")[0, 0].to(torch.int16))
    return torch.stack(maps)


def _sample(labels: torch.Tensor, n_classes: int, generator: torch.Generator) -> torch.Tensor:
    """Flat pixel positions, up to PIXELS_PER_CLASS of intact surface (0) and of each class."""
    flat = labels.reshape(-1)
    chosen = []
    for index in range(n_classes + 1):
        positions = torch.nonzero(flat == index).reshape(-1)
        order = torch.randperm(positions.numel(), generator=generator)[:PIXELS_PER_CLASS]
        chosen.append(positions[order])
    return torch.cat(chosen)


def _features_at(records: Sequence[ImageRecord], positions: torch.Tensor, size: int) -> torch.Tensor:
    """(P, FEATURES) head features at flat (N, S, S) positions, one image decoded at a time."""
    features = torch.empty((positions.numel(), FEATURES))
    image_of = positions // (size * size)
    with torch.no_grad():
        for index, record in enumerate(records):
            chosen = torch.nonzero(image_of == index).reshape(-1)
            if chosen.numel():
                image = rgb_to_tensor(load_rgb(record.image), size)[None]
                pixels = ClassHead.features(image)[0].reshape(FEATURES, -1)
                features[chosen] = pixels[:, positions[chosen] % (size * size)].T
    return features


def _train(head: ClassHead, features: torch.Tensor, targets: torch.Tensor) -> None:
    head.feature_mean.copy_(features.mean(dim=0).reshape(1, -1, 1, 1))
    head.feature_std.copy_(features.std(dim=0).clamp_min(1e-3).reshape(1, -1, 1, 1))
    optimiser = torch.optim.Adam(head.parameters(), lr=LEARNING_RATE)
    for _ in range(STEPS):
        optimiser.zero_grad()
        loss = F.cross_entropy(head.pixel_logits(features), targets)
        loss.backward()
        optimiser.step()


def learn_classes(
    records: Sequence[ImageRecord], image_size: int, seed: int = 0
) -> tuple[ClassPalette | None, ClassHead | None]:
    """(palette, head) from the anomalous records' class masks; (None, None) when they name no class but the
    generic `anomaly`, and no head when they name one class only."""
    labelled = _labelled(records)
    classes, background = _palette(labelled)
    if not classes:
        return None, None
    names = [defect.name for defect in classes]
    labels = _class_maps(labelled, names, image_size)
    present = [k for k in range(len(names)) if bool((labels == k + 1).any())]
    classes = [classes[k] for k in present]
    if not classes or [defect.name for defect in classes] == [GENERIC_CLASS]:
        return None, None
    palette = ClassPalette(tuple(classes), background)
    if len(classes) == 1:
        return palette, None
    remap = torch.full((len(names) + 2,), -1, dtype=torch.int16)  # label + 1 -> label among the present classes
    remap[1] = 0
    for position, k in enumerate(present):
        remap[k + 2] = position + 1
    labels = torch.stack([remap[one.long() + 1] for one in labels])
    positions = _sample(labels, len(classes), torch.Generator().manual_seed(seed))
    features = _features_at(labelled, positions, image_size)
    with torch.random.fork_rng(devices=[]):  # seeded initial weights, the caller's random state untouched
        torch.manual_seed(seed)
        head = ClassHead(len(classes))
    _train(head, features, labels.reshape(-1)[positions].long())
    return palette, head.eval()

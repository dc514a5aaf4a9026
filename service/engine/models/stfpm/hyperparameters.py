"""STFPM's typed hyperparameters (defaults: README.md)."""

from typing import Literal

from service.engine.models.base import BackboneHyperparameters


class StfpmHyperparameters(BackboneHyperparameters):
    """Defaults follow the paper: ResNet-18 layer1..layer3, SGD lr 0.4, momentum 0.9, weight decay 1e-4, 100 epochs.

    `weights` is the teacher's: "imagenet" (STFPM is only meaningful with a pretrained teacher), "random" (tests) or a
    checkpoint path. The student always starts from a random initialisation seeded by `seed`. For a handful of images,
    `optimizer="adam"` with `learning_rate=1e-3` converges in fewer steps than the paper's large-batch SGD.
    """

    image_size: int = 256
    optimizer: Literal["sgd", "adam"] = "sgd"
    learning_rate: float = 0.4
    momentum: float = 0.9
    weight_decay: float = 1e-4
    max_epochs: int = 100

"""What a training run produces, before and after it is saved as artefacts."""

from dataclasses import dataclass

from torch import nn

from service.engine.classes import ClassHead, ClassPalette
from service.engine.models.base import Hyperparameters
from service.engine.normalization import NormalizationStats, ScoreNormalizer, ScoreScale
from service.engine.tiling import TileLayout
from service.engine.training.evaluation import Evaluation


@dataclass
class TrainedModel:
    """A trained torch model (eval mode, on the CPU) with everything needed to export, serve and describe it.

    `stats` are the raw score statistics and thresholds from the validation images; `weights` says where the backbone
    weights came from ("imagenet", "random" or a checkpoint path; None for models without a pretrained backbone);
    `score_scale` is the normalisation those stats feed (CLIPPED only for models saved before it existed).
    `palette` names the defect classes the model was trained on (None: no classes, every defect is an anomaly);
    `class_head` tells them apart (None with fewer than two classes).
    """

    model_name: str
    model: nn.Module
    hyperparameters: Hyperparameters
    stats: NormalizationStats
    evaluation: Evaluation
    weights: str | None = None
    seed: int = 0
    score_scale: ScoreScale = ScoreScale.UNSATURATED
    tiling: TileLayout | None = None
    palette: ClassPalette | None = None
    class_head: ClassHead | None = None

    @property
    def image_size(self) -> int:
        return self.hyperparameters.image_size

    def normalizer(self) -> ScoreNormalizer:
        return ScoreNormalizer(self.stats, self.score_scale)

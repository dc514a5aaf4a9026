"""PaDiM (Defard et al., "PaDiM: a Patch Distribution Modeling Framework for Anomaly Detection and Localization",
ICPR 2020) as a plain module.

Each position of the layer1 grid gets a multivariate Gaussian of the embeddings of the good images at that position
(layer1..layer3 concatenated, a seeded random subset of the channels). A test patch scores its Mahalanobis distance to
its position's Gaussian; the upsampled, smoothed distance map is the anomaly map and its maximum the image score.
"""

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from service.engine.backbones import GaussianBlur2d, ImageNetNormalization, build_feature_extractor
from service.engine.errors import EngineError
from service.engine.types import InferenceBatch

ANOMALY_MAP_SIGMA = 4.0
DEFAULT_FEATURE_DIMS = {"resnet18": 100, "wide_resnet50_2": 550}


def first_stage_grid(image_size: int) -> int:
    """Side of the layer1 feature grid: the stride-2 stem convolution, then the stride-2 max pool."""
    after_conv = (image_size - 1) // 2 + 1
    return (after_conv - 1) // 2 + 1


class PadimModel(nn.Module):
    """Eval forward: images (B, 3, S, S) in [0, 1] at `image_size` -> `InferenceBatch` (raw scores; map at S x S).

    `mean` (P, d) and `inverse_covariance` (P, d, d), P = grid positions, are buffers: zero until `set_gaussians`.
    """

    def __init__(
        self,
        backbone: str = "resnet18",
        layers: tuple[str, ...] = ("layer1", "layer2", "layer3"),
        feature_dim: int | None = None,
        image_size: int = 256,
        weights: str = "imagenet",
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.normalization = ImageNetNormalization()
        self.feature_extractor = build_feature_extractor(backbone, layers, weights, seed=seed)
        channels = sum(self.feature_extractor.channels.values())
        dim = min(feature_dim or DEFAULT_FEATURE_DIMS[backbone], channels)
        generator = torch.Generator().manual_seed(seed)
        selected = torch.randperm(channels, generator=generator)[:dim].sort().values
        self.register_buffer("feature_index", selected)
        self.grid = first_stage_grid(image_size)
        positions = self.grid * self.grid
        self.register_buffer("mean", torch.zeros(positions, dim))
        self.register_buffer("inverse_covariance", torch.zeros(positions, dim, dim))
        self.anomaly_map_blur = GaussianBlur2d(ANOMALY_MAP_SIGMA)

    @property
    def feature_dim(self) -> int:
        return self.feature_index.shape[0]

    def embed(self, images: Tensor) -> Tensor:
        """Embeddings (B, P, d): the stages upsampled to the first stage's grid, concatenated, channels subsampled."""
        features = list(self.feature_extractor(self.normalization(images)).values())
        grid = features[0].shape[-2:]
        features = [features[0]] + [F.interpolate(f, size=grid, mode="nearest") for f in features[1:]]
        embedding = torch.cat(features, dim=1).index_select(1, self.feature_index)
        return embedding.flatten(2).transpose(1, 2)

    def set_gaussians(self, mean: Tensor, inverse_covariance: Tensor) -> None:
        if mean.shape != self.mean.shape or inverse_covariance.shape != self.inverse_covariance.shape:
            raise EngineError(
                f"Gaussians of shape {tuple(mean.shape)}/{tuple(inverse_covariance.shape)} do not fit a "
                f"{self.grid}x{self.grid} grid of {self.feature_dim} features"
            )
        self.mean.copy_(mean)
        self.inverse_covariance.copy_(inverse_covariance)

    def forward(self, images: Tensor) -> InferenceBatch:
        embedding = self.embed(images)
        batch = embedding.shape[0]
        centred = (embedding - self.mean).transpose(0, 1)
        squared = (torch.bmm(centred, self.inverse_covariance) * centred).sum(-1).clamp_min(0)
        distances = squared.sqrt().transpose(0, 1).reshape(batch, 1, self.grid, self.grid)
        anomaly_map = F.interpolate(distances, size=images.shape[-2:], mode="bilinear", align_corners=False)
        anomaly_map = self.anomaly_map_blur(anomaly_map).squeeze(1)
        return InferenceBatch(pred_score=anomaly_map.flatten(1).amax(1), anomaly_map=anomaly_map)

"""FastFlow (Yu et al., "FastFlow: Unsupervised Anomaly Detection and Localization via 2D Normalizing Flows", 2021,
arXiv:2111.07677) as a plain module.

A frozen ImageNet ResNet gives feature maps at several stages; each is layer-normalised (a learned LayerNorm over
channels and positions) and sent through its own 2D normalising flow, trained to map normal features to a standard
normal latent. At test time a position's likelihood is exp(-0.5 * mean over channels of z^2); the anomaly map is one
minus the likelihood, bilinearly upsampled to the input and averaged over stages (FastFlow's map, shifted by one so
that it is non-negative). The image score is the map's maximum.
"""

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from service.engine.backbones import ImageNetNormalization, build_feature_extractor
from service.engine.models.fastflow.flow import Flow2d
from service.engine.types import InferenceBatch

STAGE_STRIDES = {"layer1": 4, "layer2": 8, "layer3": 16, "layer4": 32}


class FastflowModel(nn.Module):
    """Eval forward: images (B, 3, S, S) in [0, 1] -> `InferenceBatch` (raw scores; map at S x S).

    `image_size` fixes the LayerNorms' shapes (each stage's grid is ceil(S / stride) squared).
    """

    def __init__(
        self,
        image_size: int,
        *,
        backbone: str = "resnet18",
        layers: tuple[str, ...] = ("layer1", "layer2", "layer3"),
        weights: str = "imagenet",
        seed: int = 0,
        flow_steps: int = 8,
        hidden_ratio: float = 1.0,
        clamp: float = 2.0,
        conv3x3_only: bool = False,
    ) -> None:
        super().__init__()
        self.normalization = ImageNetNormalization()
        self.feature_extractor = build_feature_extractor(backbone, layers, weights, seed=seed)
        generator = torch.Generator().manual_seed(seed)
        self.norms = nn.ModuleDict()
        self.flows = nn.ModuleDict()
        for layer, channels in self.feature_extractor.channels.items():
            grid = -(-image_size // STAGE_STRIDES[layer])
            self.norms[layer] = nn.LayerNorm([channels, grid, grid])
            self.flows[layer] = Flow2d(
                channels,
                flow_steps,
                hidden_ratio=hidden_ratio,
                clamp=clamp,
                conv3x3_only=conv3x3_only,
                generator=generator,
            )

    def latents(self, images: Tensor) -> tuple[dict[str, Tensor], Tensor]:
        """Each stage's latent (B, C, h, w) and the summed log|det J| per image, for images in [0, 1]."""
        with torch.no_grad():
            features = self.feature_extractor(self.normalization(images))
        latents: dict[str, Tensor] = {}
        log_det = torch.zeros(images.shape[0], device=images.device, dtype=images.dtype)
        for layer, feature in features.items():
            latents[layer], stage_log_det = self.flows[layer](self.norms[layer](feature))
            log_det = log_det + stage_log_det
        return latents, log_det

    def forward(self, images: Tensor) -> InferenceBatch:
        latents, _ = self.latents(images)
        maps = []
        for latent in latents.values():
            likelihood = torch.exp(-0.5 * latent.square().mean(dim=1, keepdim=True))
            maps.append(F.interpolate(1.0 - likelihood, size=images.shape[-2:], mode="bilinear", align_corners=False))
        anomaly_map = torch.stack(maps).mean(dim=0)[:, 0]
        return InferenceBatch(pred_score=anomaly_map.flatten(1).amax(dim=1), anomaly_map=anomaly_map)


def negative_log_likelihood(latents: dict[str, Tensor], log_det: Tensor) -> Tensor:
    """FastFlow's loss: 0.5 * sum of z^2 minus log|det J| per image (the standard-normal NLL up to a constant),
    averaged over the batch."""
    squared = torch.stack([latent.square().flatten(1).sum(dim=1) for latent in latents.values()]).sum(dim=0)
    return (0.5 * squared - log_det).mean()

"""Reverse Distillation (Deng & Li, "Anomaly Detection via Reverse Distillation from One-Class Embedding", CVPR 2022,
arXiv:2201.10703) as a plain module.

A frozen ImageNet ResNet (the teacher encoder) gives features at layer1..layer3. A trainable one-class bottleneck
embedding (OCBE) fuses them into one compact map, and a student decoder, a ResNet run backwards, reconstructs the
teacher's three feature maps from it. Trained on normal images only, the student reconstructs normal features; on a
defect the compact embedding drops what it never saw and the reconstruction departs from the teacher. The anomaly map
adds, over the three scales, one minus the per-position cosine similarity of teacher and student features, bilinearly
upsampled to the input, then smoothed by a Gaussian (sigma 4); the image score is its maximum.
"""

import torch.nn.functional as F
from torch import Tensor, nn

from service.engine.backbones import GaussianBlur2d, ImageNetNormalization, build_feature_extractor
from service.engine.backbones.resnet import BasicBlock, Bottleneck
from service.engine.models.reverse_distillation.decoder import OneClassBottleneck, StudentDecoder
from service.engine.types import InferenceBatch

LAYERS = ("layer1", "layer2", "layer3")
ANOMALY_MAP_SIGMA = 4.0
# Per backbone: teacher block type, its width, blocks in the bottleneck's stage, blocks per decoder stage.
ARCHITECTURE: dict[str, tuple[type[BasicBlock] | type[Bottleneck], int, int, tuple[int, int, int]]] = {
    "resnet18": (BasicBlock, 64, 2, (2, 2, 2)),
    "wide_resnet50_2": (Bottleneck, 128, 3, (3, 4, 6)),
}


def cosine_distance(teacher: Tensor, student: Tensor) -> Tensor:
    """1 - cosine similarity over channels per position: (B, C, h, w) pairs -> (B, 1, h, w)."""
    return 1.0 - (F.normalize(teacher, dim=1) * F.normalize(student, dim=1)).sum(dim=1, keepdim=True)


class ReverseDistillationModel(nn.Module):
    """Eval forward: images (B, 3, S, S) in [0, 1], S a multiple of 32 -> `InferenceBatch` (raw; map at S x S)."""

    def __init__(self, *, backbone: str = "resnet18", weights: str = "imagenet", seed: int = 0) -> None:
        super().__init__()
        block, width, bottleneck_blocks, decoder_blocks = ARCHITECTURE[backbone]
        self.normalization = ImageNetNormalization()
        self.teacher = build_feature_extractor(backbone, LAYERS, weights, seed=seed)
        self.bottleneck = OneClassBottleneck(block, bottleneck_blocks, width)
        self.decoder = StudentDecoder(block, decoder_blocks, width)
        self.anomaly_map_blur = GaussianBlur2d(ANOMALY_MAP_SIGMA)

    def features(self, images: Tensor) -> tuple[list[Tensor], list[Tensor]]:
        """Teacher and student feature maps, layer1 to layer3, for images in [0, 1]; the teacher without gradients."""
        teacher = list(self.teacher(self.normalization(images)).values())
        detached = [feature.detach() for feature in teacher]
        return detached, self.decoder(self.bottleneck(detached))

    def forward(self, images: Tensor) -> InferenceBatch:
        teacher, student = self.features(images)
        anomaly_map = sum(
            F.interpolate(cosine_distance(t, s), size=images.shape[-2:], mode="bilinear", align_corners=False)
            for t, s in zip(teacher, student, strict=True)
        )
        anomaly_map = self.anomaly_map_blur(anomaly_map)[:, 0]
        return InferenceBatch(pred_score=anomaly_map.flatten(1).amax(dim=1), anomaly_map=anomaly_map)

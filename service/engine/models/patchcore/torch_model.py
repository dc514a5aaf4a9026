"""PatchCore (Roth et al., "Towards Total Recall in Industrial Anomaly Detection", CVPR 2022) as a plain module.

Patch features: mid-level ResNet stages (layer2, layer3), each averaged over its 3x3 neighbourhood (locally aware
patch features), layer3 upsampled to layer2's grid, concatenated, and reduced to `pre_projection_dim` channels by
adaptive average pooling over the channel axis. Scores: each test patch's distance to its nearest memory-bank patch;
the image score is the largest one, re-weighted by how isolated that patch's nearest bank item is (paper, eq. 7).
"""

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from service.engine.backbones import GaussianBlur2d, ImageNetNormalization, build_feature_extractor
from service.engine.errors import EngineError
from service.engine.models.nearest import adopt_saved_bank_shape, nearest, squared_distances
from service.engine.types import InferenceBatch

ANOMALY_MAP_SIGMA = 4.0


def adaptive_average_matrix(in_features: int, out_features: int) -> Tensor:
    """(in_features, out_features) matrix equal to `adaptive_avg_pool1d` over features, so it exports as a MatMul."""
    matrix = torch.zeros(in_features, out_features)
    for column in range(out_features):
        start = (column * in_features) // out_features
        end = -((-(column + 1) * in_features) // out_features)
        matrix[start:end, column] = 1.0 / (end - start)
    return matrix


class PatchcoreModel(nn.Module):
    """Eval forward: images (B, 3, H, W) in [0, 1] -> `InferenceBatch` (raw scores; map at H x W).

    The memory bank is a buffer, empty until `set_memory_bank`; loading a state dict resizes it to the saved bank.
    """

    def __init__(
        self,
        backbone: str = "resnet18",
        layers: tuple[str, ...] = ("layer2", "layer3"),
        pre_projection_dim: int = 128,
        num_neighbors: int = 9,
        weights: str = "imagenet",
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.num_neighbors = num_neighbors
        self.normalization = ImageNetNormalization()
        self.feature_extractor = build_feature_extractor(backbone, layers, weights, seed=seed)
        channels = sum(self.feature_extractor.channels.values())
        self.embedding_dim = min(pre_projection_dim, channels)
        self.register_buffer("pre_projection", adaptive_average_matrix(channels, self.embedding_dim))
        self.register_buffer("memory_bank", torch.empty(0, self.embedding_dim))
        self.anomaly_map_blur = GaussianBlur2d(ANOMALY_MAP_SIGMA)

    def embed(self, images: Tensor) -> Tensor:
        """Locally aware patch features (B, h, w, D) on the grid of the first requested layer."""
        features = list(self.feature_extractor(self.normalization(images)).values())
        features = [F.avg_pool2d(feature, kernel_size=3, stride=1, padding=1) for feature in features]
        grid = features[0].shape[-2:]
        features = [features[0]] + [
            F.interpolate(f, size=grid, mode="bilinear", align_corners=False) for f in features[1:]
        ]
        return torch.cat(features, dim=1).permute(0, 2, 3, 1) @ self.pre_projection

    def set_memory_bank(self, memory_bank: Tensor) -> None:
        self.memory_bank = memory_bank.detach().to(self.pre_projection).contiguous()

    def forward(self, images: Tensor) -> InferenceBatch:
        if self.memory_bank.shape[0] == 0:
            raise EngineError("PatchCore has an empty memory bank: fit it before inference")
        embedding = self.embed(images)
        batch, height, width, dim = embedding.shape
        patches = embedding.reshape(batch, height * width, dim)
        distances, nearest_items = nearest(patches.reshape(-1, dim), self.memory_bank)
        patch_scores = distances.sqrt().reshape(batch, height * width)
        pred_score = self._image_scores(patches, patch_scores, nearest_items.reshape(batch, height * width))
        anomaly_map = F.interpolate(
            patch_scores.reshape(batch, 1, height, width), size=images.shape[-2:], mode="bilinear", align_corners=False
        )
        return InferenceBatch(pred_score=pred_score, anomaly_map=self.anomaly_map_blur(anomaly_map).squeeze(1))

    def _image_scores(self, patches: Tensor, patch_scores: Tensor, nearest_items: Tensor) -> Tensor:
        """s = (1 - softmax over N_b(m*) of |m_test - m|, taken at m*) * s*, where m_test is the most anomalous patch,
        m* its nearest bank item and N_b(m*) the `num_neighbors` bank items nearest to m* (m* itself first)."""
        batch, _, dim = patches.shape
        most_anomalous = patch_scores.argmax(dim=1, keepdim=True)
        max_scores = patch_scores.gather(1, most_anomalous).squeeze(1)
        test_patch = patches.gather(1, most_anomalous.unsqueeze(-1).expand(batch, 1, dim))
        nearest_item = self.memory_bank[nearest_items.gather(1, most_anomalous).squeeze(1)]
        neighbours_needed = min(self.num_neighbors, self.memory_bank.shape[0])
        _, neighbours = squared_distances(nearest_item, self.memory_bank).topk(neighbours_needed, largest=False)
        neighbour_items = self.memory_bank[neighbours]
        to_neighbours = (test_patch - neighbour_items).square().sum(-1).sqrt()
        weights = 1 - torch.softmax(to_neighbours, dim=1)[:, 0]
        return weights * max_scores

    def _load_from_state_dict(
        self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
    ):  # type: ignore[no-untyped-def]
        """Resize the memory bank to the checkpoint's, so fitted models load into freshly built ones."""
        adopt_saved_bank_shape(self, state_dict, prefix + "memory_bank", "memory_bank")
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )

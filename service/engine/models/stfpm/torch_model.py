"""STFPM: Student-Teacher Feature Pyramid Matching (Wang et al., BMVC 2021, arXiv:2103.04257).

A frozen pretrained teacher and a student of the same architecture trained from scratch on normal images to reproduce
the teacher's L2-normalised features at several depths. Where the student fails to imitate the teacher, the image is
unlike the training data.
"""

import torch
import torch.nn.functional as F
from torch import nn

from service.engine.backbones import FeatureExtractor, ImageNetNormalization
from service.engine.types import InferenceBatch


def layer_distances(teacher: torch.Tensor, student: torch.Tensor) -> torch.Tensor:
    """Per-position 0.5 * ||t/||t|| - s/||s|| ||^2 over channels: (B, C, h, w) pairs -> (B, 1, h, w)."""
    difference = F.normalize(teacher, dim=1) - F.normalize(student, dim=1)
    return 0.5 * (difference**2).sum(dim=1, keepdim=True)


class StfpmModel(nn.Module):
    """Teacher and student feature pyramids; the anomaly map multiplies per-layer distances upsampled to the input.

    Eval contract: float (B, 3, S, S) in [0, 1] -> `InferenceBatch`; the image score is the maximum of the map.
    """

    def __init__(self, teacher: FeatureExtractor, student: FeatureExtractor) -> None:
        super().__init__()
        if teacher.layers != student.layers:
            raise ValueError(f"teacher layers {teacher.layers} differ from student layers {student.layers}")
        if not teacher.frozen or student.frozen:
            raise ValueError("the teacher must be frozen and the student trainable")
        self.normalization = ImageNetNormalization()
        self.teacher = teacher
        self.student = student

    def features(self, images: torch.Tensor) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """Teacher and student feature maps per layer for images in [0, 1]."""
        normalised = self.normalization(images)
        with torch.no_grad():
            teacher_features = self.teacher(normalised)
        return teacher_features, self.student(normalised)

    def forward(self, images: torch.Tensor) -> InferenceBatch:
        teacher_features, student_features = self.features(images)
        anomaly_map = torch.ones_like(images[:, :1])
        for layer in self.teacher.layers:
            distances = layer_distances(teacher_features[layer], student_features[layer])
            anomaly_map = anomaly_map * F.interpolate(
                distances, size=images.shape[-2:], mode="bilinear", align_corners=False
            )
        anomaly_map = anomaly_map[:, 0]
        return InferenceBatch(pred_score=anomaly_map.flatten(1).amax(dim=1), anomaly_map=anomaly_map)

"""EfficientAD-S: a student PDN and an autoencoder against a frozen teacher PDN (Batzner et al., WACV 2024).

Two maps. Student-teacher: the student imitates the teacher's patch descriptions on normal images and fails on local
defects (scratches, dents). Autoencoder-student: the autoencoder predicts the teacher's map from a 64-value code of the
whole image, and a second half of the student's channels learns to predict the autoencoder; they disagree where the
image's global layout is new (missing or misplaced parts). Each map is normalised by its own quantiles on normal
images so that both weigh alike, then they are averaged.
"""

import torch
import torch.nn.functional as F
from torch import nn

from service.engine.backbones import ImageNetNormalization
from service.engine.models.efficient_ad.networks import (
    MAP_PADDING,
    AutoEncoder,
    SmallPatchDescriptionNetwork,
    check_image_size,
)
from service.engine.types import InferenceBatch


class MapQuantiles(nn.Module):
    """Maps a raw map so that its `low` quantile on normal images goes to 0 and its `high` quantile to 0.1 (the
    paper's q_a = 0.9 and q_b = 0.995 quantiles); buffers, so the export and the checkpoint carry them."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("low", torch.zeros(()))
        self.register_buffer("high", torch.full((), 10.0))

    def forward(self, maps: torch.Tensor) -> torch.Tensor:
        return 0.1 * (maps - self.low) / (self.high - self.low).clamp_min(1e-12)


class EfficientAdModel(nn.Module):
    """Teacher (frozen once distilled), student (2 x `out_channels`), autoencoder and the constants between them.

    Eval contract: float (B, 3, S, S) in [0, 1] -> `InferenceBatch`. The anomaly map is the mean of the two
    quantile-normalised maps, padded back to the image's extent and bilinearly upsampled to S; the image score is
    its maximum. The paper pads with zeros, which floors every score at 0 (normal images whose whole map sits below
    the low quantiles would all score exactly 0); here the border takes its nearest map value, so the maximum is the
    map's own and distinct images keep distinct scores. `teacher_mean` / `teacher_std` standardise the teacher's channels on the training images.
    """

    def __init__(self, image_size: int, out_channels: int = 384) -> None:
        super().__init__()
        check_image_size(image_size)
        self.image_size = image_size
        self.out_channels = out_channels
        self.normalization = ImageNetNormalization()
        self.teacher = SmallPatchDescriptionNetwork(out_channels)
        self.student = SmallPatchDescriptionNetwork(2 * out_channels)
        self.autoencoder = AutoEncoder(out_channels, image_size)
        self.register_buffer("teacher_mean", torch.zeros(1, out_channels, 1, 1))
        self.register_buffer("teacher_std", torch.ones(1, out_channels, 1, 1))
        self.student_teacher_quantiles = MapQuantiles()
        self.autoencoder_quantiles = MapQuantiles()

    def teacher_map(self, normalised: torch.Tensor) -> torch.Tensor:
        """The teacher's standardised patch descriptions (no gradient) for ImageNet-normalised images."""
        with torch.no_grad():
            return (self.teacher(normalised) - self.teacher_mean) / self.teacher_std

    def raw_maps(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Unnormalised student-teacher and autoencoder-student maps, each (B, 1, h, w) at the PDN's resolution."""
        normalised = self.normalization(images)
        teacher = self.teacher_map(normalised)
        student = self.student(normalised)
        reconstruction = self.autoencoder(normalised)
        channels = self.out_channels
        student_teacher = ((teacher - student[:, :channels]) ** 2).mean(dim=1, keepdim=True)
        autoencoder_student = ((reconstruction - student[:, channels:]) ** 2).mean(dim=1, keepdim=True)
        return student_teacher, autoencoder_student

    def forward(self, images: torch.Tensor) -> InferenceBatch:
        student_teacher, autoencoder_student = self.raw_maps(images)
        combined = 0.5 * self.student_teacher_quantiles(student_teacher) + 0.5 * self.autoencoder_quantiles(
            autoencoder_student
        )
        padded = F.pad(combined, (MAP_PADDING,) * 4, mode="replicate")
        upsampled = F.interpolate(padded, size=images.shape[-2:], mode="bilinear", align_corners=False)
        return InferenceBatch(pred_score=combined.flatten(1).amax(dim=1), anomaly_map=upsampled[:, 0])

"""A memory of normal raw-pixel patches: how far each patch of an image is from anything seen in the normal images.

The segmentation network answers "does this look like a defect I was shown?"; this answers "has anything like this
been seen on a good part?" (PatchCore's question, Roth et al. 2022, asked of pixels instead of pretrained features, so
it needs no ImageNet weights). The two fail on different images, so the scratch model adds them (README: measured).

Patches are 8 x 8 grey-level windows, stride 4, of the per-image standardised input at half its side. The bank is a
greedy k-center coreset of every training patch. Distances are divided by the 99th percentile of leave-one-image-out
distances of training patches, so 1 means "as unusual as the rarest 1 % of normal patches" on every dataset.
"""

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from service.engine.models.coreset import greedy_coreset_indices
from service.engine.models.nearest import adopt_saved_bank_shape, nearest

PATCH_SIZE = 8
PATCH_STRIDE = 4
SCALE_QUANTILE = 0.99
SCALE_IMAGES = 64
_MIN_SCALE = 1e-3


class PatchMemory(nn.Module):
    """Eval forward: standardised images (B, 3, S, S) -> (B, S, S) scaled distances to the nearest normal patch.

    Empty until `fit`; loading a state dict resizes the bank to the saved one, and a checkpoint saved before the memory
    existed loads as an empty (unused) memory.
    """

    def __init__(self) -> None:
        super().__init__()
        dim = PATCH_SIZE * PATCH_SIZE
        self.register_buffer("extractor", torch.eye(dim).reshape(dim, 1, PATCH_SIZE, PATCH_SIZE), persistent=False)
        self.register_buffer("bank", torch.empty(0, dim))
        self.register_buffer("scale", torch.ones(()))

    @property
    def fitted(self) -> bool:
        return self.bank.shape[0] > 0

    def patches(self, standardised: Tensor) -> Tensor:
        """(B, h, w, 64) patch vectors; the extraction is a convolution with one-hot kernels so it exports as Conv."""
        grey = F.avg_pool2d(standardised.mean(dim=1, keepdim=True), 2)
        return F.conv2d(grey, self.extractor, stride=PATCH_STRIDE).permute(0, 2, 3, 1)

    def forward(self, standardised: Tensor) -> Tensor:
        patches = self.patches(standardised)
        batch, height, width, dim = patches.shape
        distances, _ = nearest(patches.reshape(-1, dim), self.bank)
        grid = (distances.sqrt() / self.scale).reshape(batch, 1, height, width)
        size = standardised.shape[-2:]
        return F.interpolate(grid, size=size, mode="bilinear", align_corners=False)[:, 0]

    def fit(self, patches: Tensor, size: int, seed: int) -> None:
        """Build the bank from every training image's patches (N, h, w, 64) and set the distance scale."""
        per_image = patches.shape[1] * patches.shape[2]
        patches = patches.float().cpu().reshape(patches.shape[0], per_image, -1)
        flat = patches.reshape(-1, patches.shape[-1])
        if size < flat.shape[0]:
            chosen = greedy_coreset_indices(flat, size, seed=seed)
        else:
            chosen = torch.arange(flat.shape[0])
        bank = flat[chosen]
        scale = leave_one_out_scale(patches, bank, chosen // per_image, seed)
        self.bank = bank.to(self.extractor).contiguous()
        self.scale = scale.to(self.extractor)

    def _load_from_state_dict(
        self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
    ):  # type: ignore[no-untyped-def]
        has_bank = adopt_saved_bank_shape(self, state_dict, prefix + "bank", "bank")
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )
        if not has_bank:
            missing_keys[:] = [key for key in missing_keys if key not in (prefix + "bank", prefix + "scale")]


def leave_one_out_scale(patches: Tensor, bank: Tensor, owners: Tensor, seed: int) -> Tensor:
    """The SCALE_QUANTILE of training patches' (N, P, D) distances to the bank without their own image's patches (an
    unbiased stand-in for unseen normal images), over up to SCALE_IMAGES images; 1 when no image has others to meet.
    `owners` holds the image index of each bank row."""
    generator = torch.Generator().manual_seed(seed)
    sample = torch.randperm(patches.shape[0], generator=generator)[:SCALE_IMAGES]
    distances = []
    for image in sample.tolist():
        others = bank[owners != image]
        if others.shape[0] > 0:
            squared, _ = nearest(patches[image], others)
            distances.append(squared.sqrt())
    if not distances:
        return torch.ones(())
    return torch.quantile(torch.cat(distances), SCALE_QUANTILE).clamp_min(_MIN_SCALE)

"""FastFlow's 2D normalising flow in plain torch: affine coupling blocks on feature maps (no FrEIA).

Each block follows FrEIA's `AllInOneBlock` as FastFlow uses it: the first half of the channels passes unchanged and
feeds a two-convolution subnet that predicts a soft-clamped log-scale and a shift for the second half; then a learned
per-channel affine (ActNorm) and a fixed random channel permutation, so every channel is transformed in some block.
Each step is invertible with a cheap log-determinant; only the forward direction (features -> latent) is needed.
"""

import torch
from torch import Tensor, nn


class CouplingBlock(nn.Module):
    """One affine coupling step on (B, C, H, W) maps; `forward` returns the output and log|det J| per image."""

    def __init__(self, channels: int, kernel_size: int, hidden_ratio: float, clamp: float, generator: torch.Generator):
        super().__init__()
        self.passive = channels // 2
        active = channels - self.passive
        hidden = max(1, int(channels * hidden_ratio))
        padding = kernel_size // 2
        self.subnet = nn.Sequential(
            nn.Conv2d(self.passive, hidden, kernel_size, padding=padding),
            nn.ReLU(),
            nn.Conv2d(hidden, 2 * active, kernel_size, padding=padding),
        )
        self.clamp = clamp
        self.log_scale = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.offset = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.register_buffer("permutation", torch.randperm(channels, generator=generator))

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        passive, active = x[:, : self.passive], x[:, self.passive :]
        # FrEIA scales the subnet output by 0.1 so that the flow starts close to the identity.
        coupling_scale, shift = (0.1 * self.subnet(passive)).chunk(2, dim=1)
        coupling_scale = self.clamp * torch.tanh(coupling_scale / self.clamp)
        y = torch.cat([passive, active * torch.exp(coupling_scale) + shift], dim=1)
        y = y * torch.exp(self.log_scale) + self.offset
        positions = x.shape[-2] * x.shape[-1]
        log_det = coupling_scale.flatten(1).sum(dim=1) + self.log_scale.sum() * positions
        return y[:, self.permutation], log_det


class Flow2d(nn.Module):
    """`steps` coupling blocks; kernels alternate 3x3 and 1x1 (FastFlow's default) unless `conv3x3_only`."""

    def __init__(
        self,
        channels: int,
        steps: int,
        *,
        hidden_ratio: float,
        clamp: float,
        conv3x3_only: bool,
        generator: torch.Generator,
    ) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(
            CouplingBlock(channels, 3 if conv3x3_only or i % 2 == 0 else 1, hidden_ratio, clamp, generator)
            for i in range(steps)
        )

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        log_det = torch.zeros(x.shape[0], device=x.device, dtype=x.dtype)
        for block in self.blocks:
            x, block_log_det = block(x)
            log_det = log_det + block_log_det
        return x, log_det

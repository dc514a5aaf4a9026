"""Per-position Gaussians fitted in one streaming pass: memory does not grow with the number of images."""

import torch
from torch import Tensor

COVARIANCE_REGULARISATION = 0.01
_INVERSION_CHUNK = 256


class StreamingGaussians:
    """Running count, mean and centred scatter matrix per position, merged batch by batch with Chan et al.'s
    parallel update (numerically stable in float32, unlike raw sums of squares)."""

    def __init__(self) -> None:
        self.count = 0
        self.mean: Tensor | None = None
        self.scatter: Tensor | None = None

    def update(self, embeddings: Tensor) -> None:
        """Add a batch of embeddings (B, P, d)."""
        embeddings = embeddings.detach().float().cpu()
        batch = embeddings.shape[0]
        batch_mean = embeddings.mean(0)
        centred = (embeddings - batch_mean).transpose(0, 1)
        batch_scatter = torch.bmm(centred.transpose(1, 2), centred)
        if self.mean is None or self.scatter is None:
            self.count, self.mean, self.scatter = batch, batch_mean, batch_scatter
            return
        total = self.count + batch
        delta = batch_mean - self.mean
        self.scatter += batch_scatter + (self.count * batch / total) * delta.unsqueeze(2) * delta.unsqueeze(1)
        self.mean += delta * (batch / total)
        self.count = total

    def finish(self) -> tuple[Tensor, Tensor]:
        """(mean (P, d), inverse of the covariance + 0.01 I (P, d, d)), inverted in float64 a chunk at a time."""
        if self.mean is None or self.scatter is None:
            raise ValueError("no embeddings were added")
        dim = self.mean.shape[1]
        regulariser = COVARIANCE_REGULARISATION * torch.eye(dim, dtype=torch.float64)
        inverse = torch.empty_like(self.scatter)
        for start in range(0, self.scatter.shape[0], _INVERSION_CHUNK):
            chunk = self.scatter[start : start + _INVERSION_CHUNK].double() / max(self.count - 1, 1)
            inverse[start : start + _INVERSION_CHUNK] = torch.linalg.inv(chunk + regulariser).float()
        return self.mean, inverse

"""Pretrain openlv's own backbone on procedurally generated images (bench/procedural.py) and write its weights.

    nice -n 10 .venv/bin/python bench/pretrain_backbone.py --out service/engine/backbones/

Two tasks share the half-width ResNet-18 trunk (`openlv_resnet18_w32`, layer1..layer3): classifying which of 16
generator families and scales drew the image (its `fc`), and segmenting the synthetic defects pasted on half of the
images from layer2 and layer3 (a 1x1 head that is not shipped). The first asks for texture and structure features,
the second for features that tell a small local change from the texture around it: what PatchCore, PaDiM and STFPM
compare. One thread, fixed seeds and a fixed step count make the run reproducible; the weights are stored in float16
as `openlv_resnet18_w32-<sha256 prefix>.pth` (the torchvision naming the loader verifies) and the full SHA-256 is
printed and written beside them.
"""

import argparse
import hashlib
import io
import json
import math
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.procedural import NUM_CLASSES, procedural_batch
from service.engine.backbones.normalization import ImageNetNormalization
from service.engine.backbones.resnet import ResNet, openlv_resnet18_w32


class PretrainNet(nn.Module):
    """The trunk, its classifier and a defect-segmentation head on layer2 + upsampled layer3 (stride 8)."""

    def __init__(self, trunk: ResNet) -> None:
        super().__init__()
        self.trunk = trunk
        self.normalise = ImageNetNormalization()
        channels = trunk.stage_channels["layer2"] + trunk.stage_channels["layer3"]
        self.defect_head = nn.Conv2d(channels, 1, kernel_size=1)

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor]:
        x = self.trunk.stem(self.normalise(images))
        layer2 = self.trunk.layer2(self.trunk.layer1(x))
        layer3 = self.trunk.layer3(layer2)
        logits = self.trunk.fc(self.trunk.avgpool(layer3).flatten(1))
        upsampled = F.interpolate(layer3, size=layer2.shape[-2:], mode="bilinear", align_corners=False)
        return logits, self.defect_head(torch.cat([layer2, upsampled], dim=1))


def pretrain(steps: int, batch_size: int, image_size: int, seed: int, log_every: int) -> ResNet:
    torch.manual_seed(seed)
    net = PretrainNet(openlv_resnet18_w32(NUM_CLASSES))
    optimiser = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda step: 0.5 * (1 + math.cos(math.pi * step / steps)))
    data = torch.Generator().manual_seed(seed)
    net.train()
    start = time.monotonic()
    for step in range(1, steps + 1):
        images, labels, masks = procedural_batch(data, batch_size, image_size)
        logits, defect_logits = net(images)
        target = F.adaptive_max_pool2d(masks[:, None], defect_logits.shape[-2:])
        class_loss = F.cross_entropy(logits, labels)
        defect_loss = F.binary_cross_entropy_with_logits(defect_logits, target, pos_weight=torch.tensor(5.0))
        optimiser.zero_grad(set_to_none=True)
        (class_loss + defect_loss).backward()
        optimiser.step()
        schedule.step()
        if step % log_every == 0 or step == steps:
            accuracy = (logits.argmax(1) == labels).float().mean().item()
            elapsed = time.monotonic() - start
            print(
                f"step {step}/{steps} class_loss {class_loss.item():.3f} acc {accuracy:.2f} "
                f"defect_loss {defect_loss.item():.3f} {elapsed:.0f}s",
                flush=True,
            )
    return net.trunk.eval()


def save_weights(trunk: ResNet, directory: Path) -> tuple[Path, str]:
    """float16 state dict named `openlv_resnet18_w32-<first 8 hex of its SHA-256>.pth`; returns its path and hash."""
    state = {name: value.half() if value.is_floating_point() else value for name, value in trunk.state_dict().items()}
    buffer = io.BytesIO()
    torch.save(state, buffer)
    payload = buffer.getvalue()
    digest = hashlib.sha256(payload).hexdigest()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"openlv_resnet18_w32-{digest[:8]}.pth"
    path.write_bytes(payload)
    path.with_suffix(".sha256").write_text(f"{digest}  {path.name}\n")
    return path, digest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("service/engine/backbones"))
    parser.add_argument("--steps", type=int, default=700)
    parser.add_argument("--batch-size", type=int, default=48)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--log-every", type=int, default=50)
    args = parser.parse_args()
    torch.set_num_threads(1)
    trunk = pretrain(args.steps, args.batch_size, args.image_size, args.seed, args.log_every)
    path, digest = save_weights(trunk, args.out)
    print(json.dumps({"weights": str(path), "sha256": digest, "bytes": path.stat().st_size, **vars(args)}, default=str))


if __name__ == "__main__":
    main()

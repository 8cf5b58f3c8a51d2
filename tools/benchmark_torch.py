"""The same pix2pix in PyTorch, timed on this machine: the yardstick the issue quotes.

    pip install torch                     # not a dependency of this project
    python tools/benchmark_torch.py [--threads N] [--steps 500] [--batches 500]

Builds the default SketchToFace networks (crop 64, ngf = ndf = 16, Liao's decoder, a
one-layer PatchGAN) the way PyTorch pix2pix code does, with no batch norm at the 1x1
innermost level (as junyanz/pytorch-CycleGAN-and-pix2pix; 256 parameters fewer than ours):
BatchNorm2d in training mode (batch statistics, as pix2pix tests by default), dropout on
at generation, a train step that updates D on a detached fake and then G with GAN + 100 x
L1, Adam(2e-4, 0.5). Prints one JSON object like tools/benchmark.py. Written for this
repository; of it, it imports only the tools' flag parser (no TensorFlow).
"""

from __future__ import annotations

if __name__ == "__main__":  # python tools/NAME.py: this checkout's code, not an installed copy
    import checkout_first  # noqa: F401

import itertools
import json
import os
import platform
import time

import torch
from torch import nn

from tools.toolbox import Parser

CROP, NGF, NDF = 64, 16, 16


class UNet(nn.Module):
    """6 levels at 64x64: encoder 16-32-64-128-128-128, decoder 128-128-128-64-32-3."""

    def __init__(self):
        super().__init__()
        encoder = [NGF * min(2**level, 8) for level in range(6)]
        decoder = encoder[:0:-1]  # Liao's: as wide as the encoder one level deeper
        self.down = nn.ModuleList([nn.Conv2d(3, encoder[0], 4, 2, 1, bias=False)])
        for level, (inner, outer) in enumerate(itertools.pairwise(encoder), 2):
            block = [nn.LeakyReLU(0.2), nn.Conv2d(inner, outer, 4, 2, 1, bias=False)]
            if level < len(encoder):  # PyTorch refuses batch norm over one value (1x1, b 1)
                block.append(nn.BatchNorm2d(outer, track_running_stats=False))
            self.down.append(nn.Sequential(*block))
        self.up = nn.ModuleList()
        width = encoder[-1]
        for index, out in enumerate(decoder):
            skip = 0 if index == 0 else encoder[-1 - index]
            block = [nn.ReLU(), nn.ConvTranspose2d(width + skip, out, 4, 2, 1, bias=False),
                     nn.BatchNorm2d(out, track_running_stats=False)]
            if index < 3:
                block.append(nn.Dropout(0.5))
            self.up.append(nn.Sequential(*block))
            width = out
        self.last = nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(width + encoder[0], 3, 4, 2, 1,
                                                                bias=False), nn.Tanh())

    def forward(self, x):
        skips = []
        for layer in self.down:
            x = layer(x)
            skips.append(x)
        for index, layer in enumerate(self.up):
            x = layer(x if index == 0 else torch.cat([x, skips[-1 - index]], 1))
        return self.last(torch.cat([x, skips[0]], 1))


def patch_discriminator() -> nn.Sequential:
    """[b, 6, 64, 64] => [b, 1, 30, 30] logits."""
    return nn.Sequential(
        nn.Conv2d(6, NDF, 4, 2, 1, bias=False), nn.LeakyReLU(0.2),
        nn.Conv2d(NDF, 2 * NDF, 4, 1, 1, bias=False),
        nn.BatchNorm2d(2 * NDF, track_running_stats=False), nn.LeakyReLU(0.2),
        nn.Conv2d(2 * NDF, 1, 4, 1, 1, bias=False))


def benchmark(steps: int, batches: int) -> dict:
    torch.manual_seed(0)
    generator, discriminator = UNet(), patch_discriminator()
    generator.train()
    discriminator.train()
    optimizer_g = torch.optim.Adam(generator.parameters(), 2e-4, betas=(0.5, 0.999))
    optimizer_d = torch.optim.Adam(discriminator.parameters(), 2e-4, betas=(0.5, 0.999))
    gan_loss, l1_loss = nn.BCEWithLogitsLoss(), nn.L1Loss()
    sketch, photo = torch.rand(1, 3, CROP, CROP) * 2 - 1, torch.rand(1, 3, CROP, CROP) * 2 - 1

    def train_step():
        fake = generator(sketch)
        optimizer_d.zero_grad()
        fake_logits = discriminator(torch.cat([sketch, fake.detach()], 1))
        real_logits = discriminator(torch.cat([sketch, photo], 1))
        loss_d = 0.5 * (gan_loss(fake_logits, torch.zeros_like(fake_logits))
                        + gan_loss(real_logits, torch.ones_like(real_logits)))
        loss_d.backward()
        optimizer_d.step()
        optimizer_g.zero_grad()
        fake_logits = discriminator(torch.cat([sketch, fake], 1))
        loss_g = gan_loss(fake_logits, torch.ones_like(fake_logits)) + 100 * l1_loss(fake, photo)
        loss_g.backward()
        optimizer_g.step()

    def timed(function, count: int) -> float:
        for _ in range(10):  # warm up
            function()
        start = time.perf_counter()
        for _ in range(count):
            function()
        return time.perf_counter() - start

    train_seconds = timed(train_step, steps)
    with torch.no_grad():
        infer_seconds = timed(lambda: generator(sketch), batches)
    parameters = sum(p.numel() for module in (generator, discriminator)
                     for p in module.parameters())
    return {
        "framework": f"torch {torch.__version__}",
        "threads": torch.get_num_threads(),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "parameters": parameters,
        "train_images_per_sec": round(steps / train_seconds, 1),
        "inference_images_per_sec": round(batches / infer_seconds, 1),
    }


def main() -> None:
    parser = Parser(prog="benchmark_torch.py", description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's)")
    parser.add_argument("--steps", type=int, default=500, help="training steps to time")
    parser.add_argument("--batches", type=int, default=500, help="generator calls to time")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(json.dumps(benchmark(args.steps, args.batches), indent=2))


if __name__ == "__main__":
    main()

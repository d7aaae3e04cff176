"""Training throughput (patches per second) of SRCNN and a 20-layer 64-channel network
(VDSR) at fp32 and bf16, and the fraction of the machine's convolution ceiling reached,
all measured in one run.

    python benchmarks/bench_training.py [--repeat 3] [--threads N]

The ceiling is a 3x3 64->64 convolution, forward + backward, channels_last; a
network's rate is its multiply-adds per training patch (counted by
superres.models.cost, x3 for the backward pass) times patches per second.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from _timing import best_time, conv_ceiling  # noqa: E402

from superres.models import build_model  # noqa: E402
from superres.models.cost import count_macs  # noqa: E402


def patches_per_second(name: str, model: torch.nn.Module, patch: int, batch: int, bf16: bool, repeat: int) -> tuple[float, float]:
    model = model.to(memory_format=torch.channels_last).train()
    optimizer = torch.optim.Adam(model.parameters(), 1e-4)
    x = torch.rand(batch, 1, patch, patch).contiguous(memory_format=torch.channels_last)

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = model(x)
        loss = out.float().square().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    seconds = best_time(step, repeat)
    with torch.no_grad():
        macs_per_patch = count_macs(model, x[:1])
    return batch / seconds, 3 * macs_per_patch * batch / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    ceilings = {p: conv_ceiling(torch.bfloat16 if p == "bf16" else torch.float32, args.repeat, backward=True) for p in ("fp32", "bf16")}
    print(f"threads {torch.get_num_threads()}; ceiling (3x3 64->64 conv, fwd+bwd): "
          f"fp32 {ceilings['fp32'] / 1e9:.1f} GMAC/s, bf16 {ceilings['bf16'] / 1e9:.1f} GMAC/s")
    print(f"{'network':<28} {'precision':<9} {'patches/s':>10} {'GMAC/s':>8} {'of ceiling':>10}")
    cases = [
        ("SRCNN 9-5-5, 33x33, valid", lambda: _srcnn_valid(), 33, 64),
        ("VDSR 20x64, 41x41", lambda: build_model("vdsr"), 41, 16),
    ]
    for label, make, patch, batch in cases:
        for precision in ("fp32", "bf16"):
            pps, rate = patches_per_second(label, make(), patch, batch, precision == "bf16", args.repeat)
            print(f"{label:<28} {precision:<9} {pps:10.1f} {rate / 1e9:8.1f} {rate / ceilings[precision]:10.0%}")


def _srcnn_valid() -> torch.nn.Module:
    model = build_model("srcnn", f1=9, f2=5, f3=5)
    model.padding = "valid"  # the paper's training
    return model


if __name__ == "__main__":
    main()

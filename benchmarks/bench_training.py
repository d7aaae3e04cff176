"""Training throughput (patches per second) of SRCNN (9-1-5 and 9-5-5) and a 20-layer 64-channel network
(VDSR) at fp32 and bf16, and the fraction of the machine's convolution ceiling reached,
all measured in one run.

    python benchmarks/bench_training.py [--repeat 3] [--threads N]
    python benchmarks/bench_training.py --device cuda --only vdsr --batch 128,256  # a lent GPU

With ``--only vdsr`` VDSR is also timed with ``fp32_ends=False`` (bf16 rounding its first and
last convolutions too, as its stages before session 13 trained), so that a GPU window can tell
what keeping them in fp32 costs there before it spends its minutes
(`recipes/gpu-session.sh DATA OUT 0 probe`).

The ceiling is a 3x3 64->64 convolution, forward + backward, channels_last; a
network's rate is its multiply-adds per training patch (counted by
superres.models.cost, x3 for the backward pass) times patches per second.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from _timing import best_time, conv_ceiling, positive_int, positive_ints  # noqa: E402

from superres.errors import InvalidArgumentError, OneLineParser, one_line_errors  # noqa: E402
from superres.models import build_model  # noqa: E402
from superres.models.cost import count_macs  # noqa: E402


def patches_per_second(name: str, model: torch.nn.Module, patch: int, batch: int, bf16: bool, repeat: int,
                       device: torch.device = torch.device("cpu")) -> tuple[float, float]:
    model = model.to(device, memory_format=torch.channels_last).train()
    optimizer = torch.optim.Adam(model.parameters(), 1e-4)
    x = torch.rand(batch, 1, patch, patch, device=device).contiguous(memory_format=torch.channels_last)

    def step():
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            out = model(x)
        loss = out.float().square().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize()  # the step is timed to its end, not to its last launch

    seconds = best_time(step, repeat)
    with torch.no_grad():
        macs_per_patch = count_macs(model.cpu(), x[:1].cpu())
    return batch / seconds, 3 * macs_per_patch * batch / seconds


@one_line_errors
def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=positive_int, default=3)
    parser.add_argument("--threads", type=positive_int, help="torch threads (default: torch's)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--only", choices=["srcnn", "vdsr"], help="time one network (vdsr: with and without fp32 ends)")
    parser.add_argument("--batch", type=positive_ints,
                        help="comma-separated batch sizes (default: 64 for SRCNN, 16 for VDSR)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        device = torch.device(args.device)
    except RuntimeError:
        raise InvalidArgumentError(f"--device {args.device!r}: not a torch device (cpu or cuda)") from None
    if device.type not in ("cpu", "cuda"):
        raise InvalidArgumentError(f"--device {args.device!r}: this script times cpu or cuda")
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: torch sees no CUDA GPU here")
    torch.manual_seed(0)
    ceilings = {p: conv_ceiling(torch.bfloat16 if p == "bf16" else torch.float32, args.repeat, backward=True, device=device)
                for p in ("fp32", "bf16")}
    where = f"threads {torch.get_num_threads()}" if device.type == "cpu" else torch.cuda.get_device_name(device)
    print(f"{where}; ceiling (3x3 64->64 conv, fwd+bwd): "
          f"fp32 {ceilings['fp32'] / 1e9:.1f} GMAC/s, bf16 {ceilings['bf16'] / 1e9:.1f} GMAC/s")
    print(f"{'network':<34} {'batch':>5} {'precision':<9} {'patches/s':>10} {'GMAC/s':>8} {'of ceiling':>10}")
    both = ("fp32", "bf16")
    cases = []  # (label, network, patch side, default batch, precisions timed)
    if args.only in (None, "srcnn"):
        cases.append(("SRCNN 9-1-5, 33x33, valid", lambda: _srcnn_valid(1), 33, 64, both))
        cases.append(("SRCNN 9-5-5, 33x33, valid", lambda: _srcnn_valid(5), 33, 64, both))
    if args.only in (None, "vdsr"):
        cases.append(("VDSR 20x64, 41x41", lambda: build_model("vdsr"), 41, 16, both))
    if args.only == "vdsr":  # without autocast the two VDSR variants are one network: bf16 only
        cases.append(("VDSR 20x64, 41x41, bf16 ends", lambda: build_model("vdsr", fp32_ends=False), 41, 16, ("bf16",)))
    for label, make, patch, default_batch, precisions in cases:
        for batch in args.batch or [default_batch]:
            for precision in precisions:
                pps, rate = patches_per_second(label, make(), patch, batch, precision == "bf16", args.repeat, device)
                print(f"{label:<34} {batch:>5} {precision:<9} {pps:10.1f} {rate / 1e9:8.1f} {rate / ceilings[precision]:10.0%}")
    return 0


def _srcnn_valid(f2: int) -> torch.nn.Module:
    model = build_model("srcnn", f1=9, f2=f2, f3=5)
    model.padding = "valid"  # the paper's training
    return model


if __name__ == "__main__":
    sys.exit(main())

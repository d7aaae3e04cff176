"""Timing and output helpers shared by the benchmark scripts (not part of the package)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from superres.cli.common import positive_int


def best_time(fn, repeat: int) -> float:
    """Best wall time of ``repeat`` calls after one warm-up call (weights load, oneDNN setup)."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def conv_ceiling(dtype: torch.dtype, repeat: int, *, backward: bool = False,
                 device: torch.device = torch.device("cpu")) -> float:
    """Multiply-adds per second of a big 3x3 64->64 convolution (channels_last).

    With ``backward=True`` the forward and backward passes are timed together and
    counted as 3x the forward multiply-adds (input and weight gradients).
    """
    x = torch.rand(1 if not backward else 4, 64, 256 if not backward else 128, 256 if not backward else 128)
    x = x.to(device).contiguous(memory_format=torch.channels_last)
    conv = torch.nn.Conv2d(64, 64, 3, padding=1).to(device, memory_format=torch.channels_last)
    macs = x.shape[0] * x.shape[2] * x.shape[3] * 64 * 64 * 9 * (3 if backward else 1)
    bf16 = dtype == torch.bfloat16

    def run():
        if backward:
            inp = x.detach().requires_grad_(True)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                out = conv(inp)
            out.float().sum().backward()
        else:
            with torch.inference_mode(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                conv(x)
        if device.type == "cuda":
            torch.cuda.synchronize()

    return macs / best_time(run, repeat)


def emit_table(lines: list[str], output=None) -> None:
    """Print a table's lines to stdout and, given ``output`` (a path), write them there too."""
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if output:
        output.write_text(text)


def positive_ints(text: str) -> list[int]:
    """A non-empty comma-separated list of integers >= 1 (argparse type), each once."""
    values = [positive_int(part.strip()) for part in text.split(",") if part.strip()]
    if not values:
        raise argparse.ArgumentTypeError(f"invalid list {text!r}: give at least one number, e.g. 1 or 1,2,3")
    return list(dict.fromkeys(values))


def pick_image(items: list, name: str, where: str):
    """The item of ``items`` (benchmark images) named ``name``, else :class:`InvalidArgumentError`
    naming the ones there are."""
    from superres.errors import InvalidArgumentError

    for item in items:
        if item.name == name:
            return item
    raise InvalidArgumentError(f"no image {name!r} in {where} (it has {', '.join(i.name for i in items)})")


def table_output(text: str) -> Path:
    """A ``-o`` file for a table (argparse type): its folder must exist, checked before the
    minutes of work the table takes, not when it is written."""
    from superres.errors import SuperresError
    from superres.io.atomic import check_output_path

    path = Path(text)
    try:
        check_output_path(path, overwrite=True)
    except SuperresError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return path
